"""``bench --accuracy`` scoring (app.core.bench.accuracy) on tests/data/coco_tiny with fake systems whose
poses are known, and once with the real YOLO11n-pose of the pinned wheel (issue 16)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from support import REPO_ROOT

from app.core.bench.accuracy import GT_BOXES, OWN_BOXES, format_row, load_set, score_all, score_system
from app.core.bench.systems import PoseSystem, Unavailable, yolo_pose_system
from pose.base import PoseResult
from pose.evaluation import AnnotationError, gt_person_boxes
from pose.train.distill.teacher import PeoplePrediction

TINY = REPO_ROOT / "tests" / "data" / "coco_tiny"
ANN = TINY / "person_keypoints.json"


@pytest.fixture(scope="module")
def dataset() -> dict:
    return load_set(ANN, TINY)


def _labels(dataset: dict) -> dict[int, list[np.ndarray]]:
    """Ground-truth ``(17, 3)`` keypoints per image id, in annotation order."""
    people: dict[int, list[np.ndarray]] = {}
    for annotation in dataset["annotations"]:
        people.setdefault(annotation["image_id"], []).append(np.reshape(annotation["keypoints"], (17, 3)))
    return people


def _oracle(dataset: dict, shift: float = 0.0) -> PoseSystem:
    """A top-down system that answers each box with its labelled pose, moved ``shift`` pixels right."""
    by_box = {}
    for entry in gt_person_boxes(dataset):
        for box, annotation_id in zip(entry.boxes, entry.annotation_ids, strict=True):
            annotation = next(a for a in dataset["annotations"] if a["id"] == annotation_id)
            by_box[tuple(box)] = np.reshape(annotation["keypoints"], (17, 3)).astype(np.float32)

    def predict(image: np.ndarray, boxes: np.ndarray) -> PoseResult:
        poses = np.stack([by_box[tuple(box)] for box in boxes])
        return PoseResult(poses[..., :2] + np.float32(shift), np.full(poses.shape[:2], 0.9, np.float32))

    return PoseSystem("oracle", f"shift {shift}", True, predict)


def test_labelled_poses_on_ground_truth_boxes_score_full_ap(dataset: dict) -> None:
    row = score_system(_oracle(dataset), dataset, TINY)
    assert (row.ap, row.ap50, row.ar) == (1.0, 1.0, 1.0)
    assert row.boxes == GT_BOXES and row.images == 3 and row.poses == 5
    assert row.ms_per_image >= 0 and row.unavailable is None


def test_poses_moved_off_their_people_lose_ap(dataset: dict) -> None:
    near, far = (score_system(_oracle(dataset, shift), dataset, TINY) for shift in (4.0, 40.0))
    assert 0.0 <= far.ap < near.ap < 1.0


def test_a_bottom_up_system_is_scored_on_every_image_with_its_own_scores(dataset: dict) -> None:
    labels = _labels(dataset)
    shapes = {cv2.imread(str(TINY / image["file_name"])).shape: image["id"] for image in dataset["images"]}
    assert len(shapes) == 3  # the images tell themselves apart by size
    calls = []

    def predict(image: np.ndarray) -> PeoplePrediction:
        calls.append(image.shape)
        found = labels[shapes[image.shape]]
        keypoints = np.asarray([pose[:, :2] for pose in found], np.float32).reshape(-1, 17, 2)
        extra = np.full((1, 17, 2), 5.0, np.float32)  # a false positive, scored lowest
        return PeoplePrediction(np.zeros((len(found) + 1, 4), np.float32),
                                np.array([0.9] * len(found) + [0.1], np.float32),
                                np.concatenate([keypoints, extra]), np.ones((len(found) + 1, 17), np.float32))

    row = score_system(PoseSystem("bottom-up", "", False, predict), dataset, TINY)
    assert len(calls) == 1 + len(dataset["images"])
    assert row.boxes == OWN_BOXES and row.images == 3 and row.poses == 5 + 3
    assert row.ap == 1.0  # every false positive ranks below every true person


def test_unavailable_systems_get_a_row_that_says_why(dataset: dict) -> None:
    lines: list[str] = []
    missing = Unavailable("movenet_lightning", "no model file: pass --movenet FILE")
    rows = score_all([missing, _oracle(dataset)], dataset, TINY, report=lines.append)
    assert rows[0].unavailable == "no model file: pass --movenet FILE" and rows[0].ap is None
    assert lines[1] == format_row(rows[0]) and "unavailable: no model file" in lines[1]
    assert "ground truth" in lines[2] and "100.0" in lines[2]
    assert lines[0].split() == ["system", "setting", "boxes", "AP", "AP50", "AR", "ms/img"]


def test_sets_that_cannot_be_scored_are_refused_with_the_file_named(tmp_path: Path) -> None:
    data = json.loads(ANN.read_text(encoding="utf-8"))
    for annotation in data["annotations"]:
        annotation["keypoints"] = annotation["keypoints"][:42]  # 14 keypoints
    bad = tmp_path / "mpii.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(AnnotationError, match=r"mpii\.json' must hold COCO-17"):
        load_set(bad, TINY)
    with pytest.raises(FileNotFoundError, match="images folder"):
        load_set(ANN, tmp_path / "missing")


def test_yolo11n_pose_is_scored_with_its_real_weights(dataset: dict) -> None:
    system = yolo_pose_system()
    assert isinstance(system, PoseSystem) and not system.top_down
    row = score_system(system, dataset, TINY)
    assert row.ap > 0.3 and row.images == 3  # random weights would find nobody


def test_run_accuracy_closes_every_system_even_when_scoring_fails(monkeypatch, dataset: dict) -> None:
    from app.core.bench import suite, systems

    closed: list[str] = []

    def failing(image: np.ndarray, boxes: np.ndarray) -> PoseResult:
        raise OSError("the model file vanished")

    built = [replace(_oracle(dataset), name="first", close=lambda: closed.append("first")),
             replace(_oracle(dataset), name="second", predict=failing, close=lambda: closed.append("second")),
             Unavailable("missing", "not installed")]
    monkeypatch.setattr(systems, "ours_systems", lambda models, weights, runtime: list(built))
    options = suite.BenchOptions(others=False, accuracy=(str(ANN), str(TINY)))
    with pytest.raises(OSError, match="vanished"):
        suite.run_accuracy(options, report=lambda line: None)
    assert sorted(closed) == ["first", "second"]
