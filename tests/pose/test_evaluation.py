"""COCO keypoint evaluation (boxes, rescoring, OKS-NMS, pycocotools AP) and PCKh, on made-up and real data."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from fake_pose_models import coco_file_oracle
from support import REPO_ROOT

from pose.estimator import TopDownEstimator
from pose.evaluation import (
    AnnotationError,
    ImagePredictions,
    coco_keypoint_stats,
    coco_results,
    detection_person_boxes,
    evaluate,
    gt_person_boxes,
    load_coco_annotations,
    oks_nms,
    pckh,
    rescore,
)
from pose.evaluation.pckh import pck, torso_sizes
from pose.evaluation.score_thresholds import (
    MIN_POSE_PERCENTILE,
    REDETECT_PERCENTILE,
    ScoreThresholds,
    thresholds_from_scores,
)
from pose.models.spec import ModelSpec
from pose.skeleton import COCO

TINY = REPO_ROOT / "tests" / "data" / "coco_tiny"
TINY_ANN = TINY / "person_keypoints.json"
SIGMAS = np.array(COCO.oks_sigmas)
SPEC = ModelSpec(name="oracle")


def _ground_truth_predictions(dataset, offset=(0.0, 0.0)) -> list[ImagePredictions]:
    """The ground truth of every person, shifted by ``offset`` pixels, as if a model had predicted it."""
    annotations = {annotation["id"]: annotation for annotation in dataset["annotations"]}
    predictions = []
    for entry in gt_person_boxes(dataset):
        labels = np.array([annotations[int(i)]["keypoints"] for i in entry.annotation_ids]).reshape(-1, 17, 3)
        predictions.append(ImagePredictions(
            image_id=entry.image_id,
            keypoints=(labels[..., :2] + offset).astype(np.float32),
            keypoint_scores=np.ones(labels.shape[:2], np.float32),
            box_scores=entry.scores,
            areas=np.full(len(entry.boxes), 4e4),
            annotation_ids=entry.annotation_ids,
        ))
    return predictions


def _stats(dataset, predictions):
    return coco_keypoint_stats(dataset, coco_results(predictions, SIGMAS), SIGMAS)


def test_ground_truth_fed_back_scores_ap_one():
    dataset = load_coco_annotations(TINY_ANN)
    stats = _stats(dataset, _ground_truth_predictions(dataset))
    assert stats["AP"] == stats["AP50"] == stats["AP75"] == stats["APL"] == stats["AR"] == 1.0
    assert stats["APM"] == -1.0  # every fixture person is large: no ground truth in the medium range


def test_shifted_predictions_score_lower_and_lower():
    dataset = load_coco_annotations(TINY_ANN)
    small = _stats(dataset, _ground_truth_predictions(dataset, (3.0, -2.0)))["AP"]
    large = _stats(dataset, _ground_truth_predictions(dataset, (12.0, 9.0)))["AP"]
    assert 1.0 > small > large


def test_no_predictions_score_zero():
    assert coco_keypoint_stats(load_coco_annotations(TINY_ANN), [], SIGMAS)["AP"] == 0.0


def test_rescore_averages_confident_keypoints_times_box_score():
    keypoint_scores = np.array([[0.1, 0.3, 0.5], [0.1, 0.2, 0.15]])
    np.testing.assert_allclose(rescore(np.array([0.5, 0.9]), keypoint_scores), [0.5 * 0.4, 0.0])


def test_oks_nms_drops_near_duplicates_and_keeps_the_best_first():
    rng = np.random.default_rng(1)
    first, second = rng.uniform(0, 200, (2, 17, 2))
    poses = np.stack([first, first + 0.5, second, first + 40.0])
    keep = oks_nms(poses, np.array([0.7, 0.9, 0.8, 0.6]), np.full(4, 1e4), SIGMAS)
    np.testing.assert_array_equal(keep, [1, 2, 3])


def test_oks_nms_scales_each_pair_by_its_mean_area():
    pose = np.random.default_rng(2).uniform(0, 200, (17, 2))
    poses = np.stack([pose, pose + 2.0])
    areas = np.array([100.0, 1e4])
    terms = np.exp(-8.0 / (2 * (2 * SIGMAS) ** 2 * areas[:, None]))  # 2.8 px apart, scaled by either area
    mean_area = np.exp(-8.0 / (2 * (2 * SIGMAS) ** 2 * areas.mean())).mean()
    assert terms[0].mean() < 0.9 < mean_area < terms[1].mean()  # only the mean area makes them duplicates
    np.testing.assert_array_equal(oks_nms(poses, np.array([0.9, 0.8]), areas, SIGMAS), [0])
    np.testing.assert_array_equal(oks_nms(poses, np.array([0.8, 0.9]), areas, SIGMAS), [1])


def test_ground_truth_boxes_are_cleaned_as_mmpose():
    dataset = {
        "images": [{"id": 7, "file_name": "a.jpg", "width": 100, "height": 80}],
        "categories": [{"id": 1, "name": "person"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 1, "bbox": [-5, 10, 50, 100], "keypoints": [1, 2, 2]},
            {"id": 2, "image_id": 7, "category_id": 1, "bbox": [5, 5, 10, 10], "keypoints": [0, 0, 0]},
            {"id": 3, "image_id": 7, "category_id": 1, "bbox": [5, 5, 10, 10], "keypoints": [1, 1, 2],
             "iscrowd": 1},
            {"id": 4, "image_id": 7, "category_id": 1, "bbox": [5, 5, 10, 10], "keypoints": [1, 1, 2],
             "area": 0},
            {"id": 5, "image_id": 7, "category_id": 1, "bbox": [20, 20, 1, 30], "keypoints": [1, 1, 2]},
        ],
    }
    (entry,) = gt_person_boxes(dataset)
    # x1 = max(0, -5) = 0, x2 = min(99, 0 + 49) = 49; y1 = 10, y2 = min(79, 10 + 99) = 79
    np.testing.assert_array_equal(entry.boxes, [[0, 10, 49, 79]])
    np.testing.assert_array_equal(entry.annotation_ids, [1])
    assert entry.file_name == "a.jpg" and entry.scores.tolist() == [1.0]


def test_mpii_center_and_scale_give_a_square_box():
    dataset = {
        "images": [{"id": 1, "file_name": "m.jpg"}],
        "categories": [{"id": 1}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "center": [300, 200], "scale": 2.0,
                         "keypoints": [1, 1, 1]}],
    }
    (entry,) = gt_person_boxes(dataset)
    np.testing.assert_array_equal(entry.boxes, [[100, 30, 500, 430]])  # side 200 * 2, centre y + 15 * 2


def test_detections_keep_people_and_convert_boxes(tmp_path):
    dataset = load_coco_annotations(TINY_ANN)
    detections = tmp_path / "dets.json"
    detections.write_text(json.dumps([
        {"image_id": 2, "category_id": 1, "bbox": [30, 80, 130, 400], "score": 0.9},
        {"image_id": 2, "category_id": 3, "bbox": [0, 0, 10, 10], "score": 0.99},
        {"image_id": 3, "category_id": 1, "bbox": [260, 10, 110, 220], "score": 0.4},
    ]))
    entries = detection_person_boxes(dataset, detections)
    assert [entry.image_id for entry in entries] == [2, 3]
    np.testing.assert_array_equal(entries[0].boxes, [[30, 80, 160, 480]])
    np.testing.assert_array_equal(entries[1].scores, [0.4])
    assert entries[0].annotation_ids.tolist() == [-1]


def test_unusable_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.json"):
        load_coco_annotations(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(AnnotationError, match="not valid JSON"):
        load_coco_annotations(broken)
    broken.write_text(json.dumps({"images": []}))
    with pytest.raises(AnnotationError, match="'annotations'"):
        load_coco_annotations(broken)
    broken.write_text(json.dumps([{"image_id": 1}]))
    with pytest.raises(AnnotationError, match="needs image_id"):
        detection_person_boxes(load_coco_annotations(TINY_ANN), broken)


def test_pckh_counts_joints_within_half_the_head_size():
    truth = np.zeros((2, 3, 2))
    head_boxes = np.array([[0, 0, 30, 40], [0, 0, 60, 80]])  # head sizes 0.6 * 50 = 30 and 0.6 * 100 = 60
    predicted = truth + np.array([[[15, 0], [15.1, 0], [0, 1]], [[29, 0], [31, 0], [100, 0]]])
    visible = np.array([[True, True, True], [True, True, False]])
    mean, per_joint = pckh(predicted, truth, visible, head_boxes)
    np.testing.assert_allclose(per_joint, [1.0, 0.0, 1.0])
    assert mean == pytest.approx(3 / 5)
    mean_without_last, _ = pckh(predicted, truth, visible, head_boxes, counted=np.array([True, True, False]))
    assert mean_without_last == pytest.approx(2 / 4)
    tight, _ = pckh(predicted, truth, visible, head_boxes, threshold=0.1)
    assert tight == pytest.approx(1 / 5)


def test_torso_sizes_run_from_the_left_shoulder_to_the_right_hip():
    names = COCO.keypoints
    truth = np.zeros((2, 17, 2))
    truth[:, names.index("left_shoulder")] = (0, 0)
    truth[:, names.index("right_hip")] = (30, 40)
    visible = np.ones((2, 17), bool)
    visible[1, names.index("right_hip")] = False
    sizes = torso_sizes(truth, visible, names)
    assert sizes[0] == 50.0 and np.isnan(sizes[1])


def test_pck_normalises_by_each_persons_own_size():
    truth = np.zeros((2, 2, 2))
    predicted = truth + np.array([[[9, 0], [11, 0]], [[9, 0], [11, 0]]])
    mean, per_joint = pck(predicted, truth, np.ones((2, 2), bool), np.array([50.0, 100.0]), threshold=0.2)
    np.testing.assert_allclose(per_joint, [1.0, 0.5])  # 11 px is beyond 0.2 x 50 but within 0.2 x 100
    assert mean == pytest.approx(3 / 4)


def _estimator(offset=(0.0, 0.0), flip=True) -> TopDownEstimator:
    return TopDownEstimator(coco_file_oracle(SPEC, TINY_ANN, TINY, offset), device="cpu", flip=flip)


@pytest.mark.parametrize("flip", [True, False])
def test_evaluate_with_a_model_that_sees_the_ground_truth_scores_ap_one(flip):
    report = evaluate(_estimator(flip=flip), TINY_ANN, TINY, progress=False)
    assert report.metric == "coco" and report.num_images == 3 and report.num_instances == 5
    assert report.stats["AP"] == 1.0 and report.stats["AR"] == 1.0 and report.stats["PCK@0.2"] == 1.0
    assert {result["image_id"] for result in report.results} == {1, 2, 3}
    assert len(report.results[0]["keypoints"]) == 51


def test_evaluate_with_an_imperfect_model_scores_lower():
    report = evaluate(_estimator(offset=(8.0, 8.0)), TINY_ANN, TINY, progress=False)
    assert 0.0 < report.stats["AP"] < 0.9
    far = evaluate(_estimator(offset=(60.0, 60.0)), TINY_ANN, TINY, progress=False)
    assert far.stats["PCK@0.2"] < report.stats["PCK@0.2"] < 1.0


def test_evaluate_on_detections_suppresses_duplicates(tmp_path):
    dataset = load_coco_annotations(TINY_ANN)
    detections = []
    for entry in gt_person_boxes(dataset):
        for x1, y1, x2, y2 in entry.boxes:
            for jitter, score in ((0.0, 0.95), (1.0, 0.5)):  # each person detected twice
                detections.append({"image_id": entry.image_id, "category_id": 1, "score": score,
                                   "bbox": [x1 + jitter, y1, x2 - x1 + 1, y2 - y1 + 1]})
    path = tmp_path / "dets.json"
    path.write_text(json.dumps(detections))
    report = evaluate(_estimator(), TINY_ANN, TINY, boxes=path, progress=False)
    assert report.num_instances == 5  # the second detection of each person is an OKS > 0.9 duplicate
    assert report.stats["AP"] == 1.0 and "PCK@0.2" not in report.stats  # PCK needs ground-truth boxes


def _mpii_style_copy(tmp_path: Path) -> Path:
    """The tiny set with a head box per person (around the labelled face points, 30 px margin)."""
    dataset = json.loads(TINY_ANN.read_text())
    for annotation in dataset["annotations"]:
        labels = np.array(annotation["keypoints"], dtype=float).reshape(-1, 3)[:5]
        face = labels[labels[:, 2] > 0, :2]
        annotation["head_box"] = [*(face.min(axis=0) - 30).tolist(), *(face.max(axis=0) + 30).tolist()]
    path = tmp_path / "mpii_style.json"
    path.write_text(json.dumps(dataset))
    return path


def test_pckh_of_the_seeing_model_is_one_and_drops_when_it_is_off(tmp_path):
    annotations = _mpii_style_copy(tmp_path)
    perfect = evaluate(_estimator(), annotations, TINY, metric="pckh", progress=False)
    assert set(perfect.stats) == {"PCKh", "PCKh@0.1"}
    assert perfect.stats["PCKh"] == 1.0 and 0.5 < perfect.stats["PCKh@0.1"] <= 1.0
    off = evaluate(_estimator(offset=(30.0, 30.0)), annotations, TINY, metric="pckh", progress=False)
    assert off.stats["PCKh"] < 1.0
    assert {result["annotation_id"] for result in perfect.results} == {1, 2, 3, 4, 5}


def test_pckh_needs_head_boxes_and_ground_truth_boxes(tmp_path):
    with pytest.raises(AnnotationError, match="head_box"):
        evaluate(_estimator(), TINY_ANN, TINY, metric="pckh", progress=False)
    with pytest.raises(AnnotationError, match="--boxes gt"):
        evaluate(_estimator(), TINY_ANN, TINY, boxes=tmp_path / "d.json", metric="pckh", progress=False)


def test_missing_images_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="images directory"):
        evaluate(_estimator(), TINY_ANN, tmp_path / "nowhere", progress=False)
    with pytest.raises(FileNotFoundError, match=r"messi5\.jpg"):
        evaluate(_estimator(), TINY_ANN, tmp_path, progress=False)


def test_keypoint_count_must_match_the_model(tmp_path):
    dataset = json.loads(TINY_ANN.read_text())
    dataset["categories"][0]["keypoints"] = dataset["categories"][0]["keypoints"][:16]
    path = tmp_path / "sixteen.json"
    path.write_text(json.dumps(dataset))
    with pytest.raises(AnnotationError, match="16 keypoints"):
        evaluate(_estimator(), path, TINY, progress=False)


def test_score_thresholds_are_low_percentiles_of_real_peoples_mean_scores():
    scores = np.linspace(0.0, 1.0, 101)  # the p-th percentile is p / 100
    thresholds = thresholds_from_scores(scores)
    assert (thresholds.redetect, thresholds.min_pose, thresholds.people) == (
        REDETECT_PERCENTILE / 100, MIN_POSE_PERCENTILE / 100, 101)
    assert ScoreThresholds.from_dict(thresholds.to_dict()) == thresholds
    with pytest.raises(ValueError, match="no people"):
        thresholds_from_scores(np.zeros(0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ScoreThresholds.from_dict({"redetect": 0.3, "min_pose": -0.1, "people": 4})
    with pytest.raises(ValueError, match="'people'"):
        ScoreThresholds.from_dict({"redetect": 0.3, "min_pose": 0.1})


def test_an_evaluation_reports_every_labelled_persons_mean_keypoint_score_for_the_thresholds():
    estimator = _estimator()
    report = evaluate(estimator, TINY_ANN, TINY, progress=False)
    assert report.mean_keypoint_scores.shape == (5,)  # one per labelled person, OKS-NMS or not
    image = cv2.imread(str(TINY / "messi5.jpg"))
    messi = next(b for b in gt_person_boxes(load_coco_annotations(TINY_ANN)) if b.file_name == "messi5.jpg")
    assert np.isclose(estimator(image, messi.boxes).scores.mean(), report.mean_keypoint_scores).any()
    thresholds = thresholds_from_scores(report.mean_keypoint_scores)
    assert thresholds.people == 5 and 0.0 < thresholds.min_pose <= thresholds.redetect <= 1.0
