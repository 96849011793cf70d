"""Human labels filled by a multi-person teacher: matching, filling, threshold choice, splits, whole sets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pose.train.distill.labelled import (
    FillConfig,
    choose_threshold,
    duplicate_groups,
    fill_keypoints,
    match_people,
    split_validation,
    unlabelled_people,
)
from pose.train.distill.teacher import PeoplePrediction
from pose.train.distill.teacher_sets import LabelledInput, build_people_dataset, keypoint_box

TINY = Path(__file__).resolve().parents[2] / "data" / "coco_tiny"
TINY_LABELS = TINY / "person_keypoints.json"
FACE = slice(0, 5)


def test_people_are_matched_greedily_by_overlap_each_once():
    human = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], float)
    teacher = np.array([[21, 0, 31, 10], [0, 0, 10, 9], [100, 100, 110, 110]], float)
    assert sorted(match_people(human, teacher, 0.5)) == [(0, 1), (1, 0)]
    assert match_people(human, teacher[2:], 0.5) == []


def test_people_side_by_side_far_from_the_origin_are_not_matched():
    """Boxes are (x1, y1, x2, y2): read as (x, y, w, h), these two 10 px wide people would overlap by 94 %."""
    human, teacher = np.array([[1000, 0, 1010, 100.0]]), np.array([[1020, 0, 1030, 100.0]])
    assert match_people(human, teacher, 0.5) == []


def test_human_labels_win_and_the_teacher_fills_only_confident_keypoints_inside_the_image():
    human = np.zeros((4, 3), np.float32)
    human[0] = (5, 5, 2)
    teacher = np.array([[15, 15], [6, 6], [7, 7], [-1, 3]], np.float32)
    scores = np.array([0.9, 0.9, 0.2, 0.9], np.float32)
    merged = fill_keypoints(human, teacher, scores, threshold=0.5, width=20, height=20)
    np.testing.assert_array_equal(merged[0], (5, 5, 2))  # human label kept, though the teacher disagrees
    np.testing.assert_array_equal(merged[1], (6, 6, 2))  # filled
    assert merged[2, 2] == 0 and merged[3, 2] == 0  # not confident; outside the image


def test_only_teacher_people_who_are_none_of_the_labelled_people_are_left_out():
    """A second reading of the labelled athlete (a bigger box, a misread pose) is that athlete, no other."""
    rng = np.random.default_rng(0)
    human_box = np.array([[100, 100, 150, 250.0]])
    within = rng.uniform([100, 100], [150, 250], (17, 2))
    teacher_boxes = np.array([
        [60, 40, 200, 330],  # boxed with the apparatus: IoU 0.18
        [300, 100, 350, 250],  # a spectator beside the athlete
        [105, 100, 155, 250],  # boxes overlapping, keypoints elsewhere
        [90, 150, 200, 240],  # a spectator behind the athlete's legs, most of them outside the athlete's box
    ], float)
    behind = within.copy()
    behind[:10, 0] += 60  # 10 of 17 keypoints beyond the athlete's right edge
    teacher_xy = np.stack([within[::-1], within + 200.0, within + 400.0, behind])
    left_out = unlabelled_people(human_box, teacher_boxes, teacher_xy, FillConfig())
    np.testing.assert_array_equal(left_out, [False, True, False, True])
    assert unlabelled_people(np.zeros((0, 4)), teacher_boxes, teacher_xy, FillConfig()).all()


def test_the_threshold_is_the_lowest_score_that_reaches_the_precision():
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9])
    correct = np.array([False, False, True, True, True, True, True])
    choice = choose_threshold(scores, correct, min_precision=0.9, grid=[0.1, 0.2, 0.25, 0.5, 0.9])
    assert choice.threshold == 0.25
    assert choice.precision == 1.0 and choice.coverage == pytest.approx(5 / 7)
    assert [row[0] for row in choice.table] == [0.1, 0.2, 0.25, 0.5, 0.9]
    with pytest.raises(ValueError, match=r"best: 83.3 % at 0.20\): lower --min-precision"):
        choose_threshold(scores, correct, 0.95, grid=[0.1, 0.2])
    with pytest.raises(ValueError, match="lower --min-precision"):  # 0.95 trusts nothing: not chosen
        choose_threshold(scores, correct, 0.95, grid=[0.1, 0.95])
    with pytest.raises(ValueError, match="cannot choose a threshold"):
        choose_threshold(np.array([]), np.array([], bool), 0.9)


def test_near_duplicate_groups_never_straddle_the_split():
    names = [f"im{i:02d}.jpg" for i in range(40)]
    groups = duplicate_groups([("im01.jpg", "im02.jpg"), ("im02.jpg", "im30.jpg"), ("im05.jpg", "im06.jpg")])
    assert sorted(map(sorted, groups)) == [["im01.jpg", "im02.jpg", "im30.jpg"], ["im05.jpg", "im06.jpg"]]
    for seed in range(20):
        chosen = split_validation(names, groups, count=10, seed=seed)
        assert 10 <= len(chosen) <= 12
        for group in groups:
            assert len(group & chosen) in (0, len(group))
    assert split_validation(names, groups, 10, seed=3) == split_validation(names, groups, 10, seed=3)


def test_a_teacher_only_box_surrounds_the_keypoints_inside_the_image():
    box = keypoint_box(np.array([[10.0, 20.0], [30.0, 60.0]]), width=31, height=100, margin=0.1)
    np.testing.assert_allclose(box, [8.0, 16.0, 22.0, 48.0])  # x2 clipped to width - 1 = 30


class OracleTeacher:
    """The persons of a COCO file (looked up by image size): labelled keypoints score 0.9, others 0."""

    def __init__(self, dataset: dict) -> None:
        self.by_size = {}
        for image in dataset["images"]:
            people = [a for a in dataset["annotations"] if a["image_id"] == image["id"]]
            self.by_size[(image["height"], image["width"])] = people

    def __call__(self, image: np.ndarray) -> PeoplePrediction:
        people = self.by_size[image.shape[:2]]
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (p["bbox"] for p in people)], np.float32)
        labels = np.array([np.reshape(p["keypoints"], (17, 3)) for p in people], np.float32)
        return PeoplePrediction(boxes, np.full(len(people), 0.95, np.float32), labels[..., :2],
                                np.where(labels[..., 2] > 0, 0.9, 0.0).astype(np.float32))


def _build_with_oracle(out: Path, labelled: dict, val_count: int, min_keypoints: int) -> dict:
    """``build_people_dataset`` on coco_tiny's images with ``labelled`` as their labels and an oracle teacher
    that sees coco_tiny's full labels."""
    labelled_file = out.parent / f"{out.name}_labels.json"
    labelled_file.write_text(json.dumps(labelled))
    return build_people_dataset(
        out, OracleTeacher(json.loads(TINY_LABELS.read_text())), [LabelledInput(labelled_file, TINY)],
        calibration=LabelledInput(TINY_LABELS, TINY), val_count=val_count,
        config=FillConfig(min_keypoints=min_keypoints),
    )


def test_a_labelled_set_is_split_filled_by_the_teacher_and_validated_on_human_labels_only(tmp_path):
    full = json.loads(TINY_LABELS.read_text())
    faceless = json.loads(json.dumps(full))
    for annotation in faceless["annotations"]:
        keypoints = np.reshape(annotation["keypoints"], (17, 3))
        keypoints[FACE] = 0
        annotation["keypoints"] = keypoints.ravel().tolist()

    record = _build_with_oracle(tmp_path / "out", faceless, val_count=1, min_keypoints=1)

    assert record["threshold"]["precision"] == 1.0  # the oracle is always right
    train = json.loads((tmp_path / "out/annotations/train.json").read_text())
    val = json.loads((tmp_path / "out/annotations/val.json").read_text())
    assert len(train["images"]) + len(val["images"]) == len(full["images"]) and len(val["images"]) == 1
    assert {Path(i["file_name"]).name for i in train["images"]}.isdisjoint(
        Path(i["file_name"]).name for i in val["images"])
    originals = {a["id"]: np.reshape(a["keypoints"], (17, 3)) for a in full["annotations"]}
    val_ids = {a["id"] for a in val["annotations"]}
    for annotation in val["annotations"]:  # human labels only: the faces stay unlabelled
        assert np.all(np.reshape(annotation["keypoints"], (17, 3))[FACE, 2] == 0)
    trained = [a for a in faceless["annotations"] if a["id"] not in val_ids]
    assert len(train["annotations"]) == len(trained)
    filled = sum(source["filled_keypoints"] for source in record["sources"])
    expected = sum(int((originals[a["id"]][FACE, 2] > 0).sum()) for a in trained)
    assert filled == expected > 0
    for written, annotation in zip(train["annotations"], trained, strict=True):
        original = originals[annotation["id"]]
        face = np.reshape(written["keypoints"], (17, 3))[FACE]
        labelled = original[FACE, 2] > 0
        np.testing.assert_allclose(face[labelled, :2], original[FACE][labelled, :2], atol=0.01)


def test_people_the_labels_left_out_join_the_training_set_with_the_teachers_labels(tmp_path):
    full = json.loads(TINY_LABELS.read_text())
    partial = json.loads(json.dumps(full))
    partial["annotations"] = [a for a in partial["annotations"] if a["id"] != 5]  # one walker unlabelled

    record = _build_with_oracle(tmp_path / "out", partial, val_count=0, min_keypoints=8)

    (source,) = record["sources"]
    assert source["persons"] == 5 and source["teacher_persons"] == 1
    train = json.loads((tmp_path / "out/annotations/train.json").read_text())
    assert len(train["annotations"]) == 5  # the four labelled once each, and the walker
    walker = np.reshape(next(a for a in full["annotations"] if a["id"] == 5)["keypoints"], (17, 3))
    added = np.reshape(train["annotations"][-1]["keypoints"], (17, 3))
    labelled = walker[:, 2] > 0
    np.testing.assert_allclose(added[labelled, :2], walker[labelled, :2], atol=0.01)
    assert np.all(added[~labelled, 2] == 0)


def test_people_of_unlabelled_images_are_written_as_many_times_as_asked(tmp_path):
    full = json.loads(TINY_LABELS.read_text())
    teacher, calibration = OracleTeacher(full), LabelledInput(TINY_LABELS, TINY)

    def build(out: Path, repeats: int) -> tuple[dict, list]:
        record = build_people_dataset(out, teacher, [], calibration=calibration, images=[TINY], val_count=0,
                                      config=FillConfig(min_keypoints=8), image_repeats=repeats)
        return record, json.loads((out / "annotations/train.json").read_text())["annotations"]

    single_record, written_once = build(tmp_path / "once", 1)
    record, written = build(tmp_path / "thrice", 3)

    (once,), (source,) = single_record["sources"], record["sources"]
    assert source["repeats"] == 3 and once["repeats"] == 1
    assert source["persons"] == once["persons"] == len(written_once) == 4  # distinct people (8+ keypoints)
    assert source["filled_keypoints"] == once["filled_keypoints"]
    assert len(written) == 3 * len(written_once)
    copies = sorted(json.dumps([a["image_id"], a["keypoints"], a["bbox"]]) for a in written)
    singles = sorted(json.dumps([a["image_id"], a["keypoints"], a["bbox"]]) for a in written_once)
    assert copies == sorted(3 * singles)
    assert len({a["id"] for a in written}) == len(written)


def test_image_repeats_below_one_are_refused(tmp_path):
    with pytest.raises(ValueError, match="image_repeats must be >= 1"):
        build_people_dataset(tmp_path, OracleTeacher(json.loads(TINY_LABELS.read_text())), [],
                             calibration=LabelledInput(TINY_LABELS, TINY), images=[TINY], image_repeats=0)


def test_only_the_first_labelled_set_gives_up_its_validation_images(tmp_path):
    full = json.loads(TINY_LABELS.read_text())
    first, second = tmp_path / "first.json", tmp_path / "second.json"  # the same file names in both
    first.write_text(json.dumps(full))
    second.write_text(json.dumps(full))

    build_people_dataset(tmp_path / "out", OracleTeacher(full), [LabelledInput(first, TINY),
                                                                 LabelledInput(second, TINY)],
                         calibration=LabelledInput(TINY_LABELS, TINY), val_count=1,
                         config=FillConfig(min_keypoints=8))

    val = json.loads((tmp_path / "out/annotations/val.json").read_text())
    train = json.loads((tmp_path / "out/annotations/train.json").read_text())
    held = {a["id"] for a in val["annotations"]}
    assert len(val["images"]) == 1 and held
    assert len(train["annotations"]) == 2 * len(full["annotations"]) - len(held)


def test_labelled_sets_without_boxes_or_areas_and_foreign_near_duplicates_are_refused(tmp_path):
    full = json.loads(TINY_LABELS.read_text())
    arealess = json.loads(json.dumps(full))
    del arealess["annotations"][0]["area"]
    labels = tmp_path / "arealess.json"
    labels.write_text(json.dumps(arealess))
    calibration = LabelledInput(TINY_LABELS, TINY)
    with pytest.raises(ValueError, match=r"arealess.json': annotation \d+ lacks \['area'\]"):
        build_people_dataset(tmp_path / "a", OracleTeacher(full), [LabelledInput(labels, TINY)],
                             calibration=calibration)
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("image_a,image_b\nim00001.jpg,im00002.jpg\n")
    with pytest.raises(ValueError, match=r"none of the images named in '.*pairs.csv' is a file_name of"):
        build_people_dataset(tmp_path / "b", OracleTeacher(full), [LabelledInput(TINY_LABELS, TINY, pairs)],
                             calibration=calibration)
