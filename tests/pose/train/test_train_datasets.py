"""COCO-format training samples: the same persons and boxes as validation, and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support import REPO_ROOT

from pose.evaluation import AnnotationError, gt_person_boxes, load_coco_annotations
from pose.skeleton import COCO, CROWDPOSE, MPII
from pose.train.datasets import DatasetError, load_person_samples
from pose.train.mpii import convert_mpii
from pose.transforms import box_to_center_size

TINY = REPO_ROOT / "tests" / "data" / "coco_tiny"
TINY_ANN = TINY / "person_keypoints.json"


def _samples(annotation_file=TINY_ANN, images=TINY, skeleton=COCO, **kwargs):
    return load_person_samples(annotation_file, images, skeleton, aspect_ratio=0.75, **kwargs)


def test_samples_are_the_validation_persons_with_their_crops():
    samples = _samples()
    dataset = load_coco_annotations(TINY_ANN)
    boxes = gt_person_boxes(dataset)
    expected_ids = [int(i) for image in boxes for i in image.annotation_ids]
    assert [s.annotation_id for s in samples] == expected_ids
    centers, sizes = box_to_center_size(np.concatenate([image.boxes for image in boxes]), 0.75, 1.25)
    np.testing.assert_allclose([s.center for s in samples], centers, rtol=1e-6)
    np.testing.assert_allclose([s.size for s in samples], sizes, rtol=1e-6)
    by_id = {a["id"]: np.reshape(a["keypoints"], (-1, 3)) for a in dataset["annotations"]}
    for sample in samples:
        labels = by_id[sample.annotation_id]
        assert sample.image_path.is_file()
        np.testing.assert_array_equal(sample.visible, labels[:, 2] > 0)
        np.testing.assert_allclose(sample.keypoints, labels[:, :2])


def test_center_jitter_is_seeded_and_bounded():
    plain = _samples()
    jittered = _samples(jitter_prob=1.0, jitter=0.2, seed=3)
    again = _samples(jitter_prob=1.0, jitter=0.2, seed=3)
    other = _samples(jitter_prob=1.0, jitter=0.2, seed=4)
    shift = np.array([j.center - p.center for j, p in zip(jittered, plain, strict=True)])
    assert np.array_equal(shift, [a.center - p.center for a, p in zip(again, plain, strict=True)])
    assert not np.allclose(shift, [o.center - p.center for o, p in zip(other, plain, strict=True)])
    dataset = load_coco_annotations(TINY_ANN)
    boxes = np.concatenate([image.boxes for image in gt_person_boxes(dataset)])
    assert np.all(np.abs(shift) <= 0.2 * (boxes[:, 2:] - boxes[:, :2]) + 1e-3)
    assert np.all(np.abs(shift) > 0)
    assert all(np.array_equal(j.size, p.size) for j, p in zip(jittered, plain, strict=True))


def _write_json(tmp_path, content) -> object:
    path = tmp_path / "ann.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_missing_paths_name_the_config_keys(tmp_path):
    with pytest.raises(DatasetError, match=r"annotation file '.*nope.json' not found: check \[data\] root"):
        _samples(annotation_file=tmp_path / "nope.json")
    with pytest.raises(DatasetError, match=r"image folder '.*train2017' not found"):
        _samples(images=tmp_path / "train2017")


def test_malformed_annotation_files_are_named(tmp_path):
    with pytest.raises(AnnotationError, match="not valid JSON"):
        _samples(annotation_file=_write_json(tmp_path, '{"images": ['))
    with pytest.raises(AnnotationError, match="no 'annotations' list"):
        _samples(annotation_file=_write_json(tmp_path, {"images": [], "categories": []}))


def test_keypoint_count_mismatch_between_dataset_and_model():
    with pytest.raises(DatasetError, match=r"17 keypoints per person but the model predicts 14"):
        _samples(skeleton=CROWDPOSE)


def test_an_annotation_with_the_wrong_number_of_values_is_named(tmp_path):
    dataset = json.loads(TINY_ANN.read_text())
    dataset["annotations"][1]["keypoints"] = dataset["annotations"][1]["keypoints"][:-3]
    with pytest.raises(DatasetError, match=r"annotation \d+ .* has 48 keypoint values, expected 3 x 17 = 51"):
        _samples(annotation_file=_write_json(tmp_path, dataset))


def test_a_file_without_usable_persons_is_an_error(tmp_path):
    dataset = json.loads(TINY_ANN.read_text())
    for annotation in dataset["annotations"]:
        annotation["num_keypoints"] = 0
    with pytest.raises(DatasetError, match="no person with labelled keypoints"):
        _samples(annotation_file=_write_json(tmp_path, dataset))


def test_mpii_conversion_keeps_mmpose_crop(tmp_path):
    joints = np.arange(32, dtype=float).reshape(16, 2) + 100.0
    visible = np.ones(16)
    visible[[3, 9]] = 0
    entries = [{"image": "a.jpg", "center": [200.0, 150.0], "scale": 1.2, "joints": joints.tolist(),
                "joints_vis": visible.tolist()}]
    head = np.array([[180.0, 40.0, 220.0, 90.0]])
    coco = convert_mpii(entries, {"a.jpg": (320, 240)}, head_boxes=head)
    (tmp_path / "images").mkdir()
    samples = load_person_samples(
        _write_json(tmp_path, coco), tmp_path / "images", MPII, aspect_ratio=1.0
    )
    (sample,) = samples
    # mmpose: center - 1 (0-based), center_y + 15 * scale, square side 200 * scale * 1.25, not clipped
    np.testing.assert_allclose(sample.center, [199.0, 149.0 + 15 * 1.2])
    np.testing.assert_allclose(sample.size, [200 * 1.2 * 1.25] * 2)
    np.testing.assert_allclose(sample.keypoints[visible > 0], joints[visible > 0] - 1.0)
    np.testing.assert_array_equal(sample.visible, visible)
    assert coco["annotations"][0]["head_box"] == head[0].tolist()
    assert coco["categories"][0]["keypoints"] == list(MPII.keypoints)
