"""Packed person sets give the training pipeline the same crops as the original photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from support import REPO_ROOT

from pose.models.registry import create_model
from pose.skeleton import COCO
from pose.train.augmentation import make_example, plan_crop
from pose.train.datasets import load_person_samples
from pose.train.pack import PackConfig, pack_person_set

TINY = REPO_ROOT / "tests" / "data" / "coco_tiny"
SPEC = create_model("edite_hrnet_tiny", input_size=(128, 96)).spec


def plain_examples(annotation_file, images_dir):
    """Unaugmented training examples, keyed by annotation id."""
    samples = load_person_samples(annotation_file, images_dir, COCO, aspect_ratio=SPEC.aspect_ratio)
    examples = {}
    for sample in samples:
        image = cv2.imread(str(sample.image_path))
        plan = plan_crop(sample.center, sample.size, sample.keypoints, sample.visible, image.shape[1], COCO,
                         SPEC.aspect_ratio, None, np.random.default_rng(0))
        examples[sample.annotation_id] = make_example(image, plan, SPEC)
    return examples


def test_a_packed_set_yields_the_same_training_crops_and_targets(tmp_path):
    config = PackConfig(input_size=(128, 96), context=1.25, suffix=".png")
    packed = pack_person_set(TINY / "person_keypoints.json", TINY, tmp_path, config)

    original = plain_examples(TINY / "person_keypoints.json", TINY)
    repacked = plain_examples(packed, tmp_path)
    assert repacked.keys() == original.keys() and len(original) == 5
    for annotation_id, example in original.items():
        again = repacked[annotation_id]
        np.testing.assert_array_equal(again.target_weight, example.target_weight)
        assert np.abs(again.heatmaps - example.heatmaps).max() < 0.05  # same peaks, within a tenth of a pixel
        assert np.median(np.abs(again.image - example.image)) < 0.05  # one resampling more, same picture
    for image in (tmp_path / "person_keypoints").iterdir():
        assert cv2.imread(str(image)).shape[:2] == (160, 120)


def test_small_formats_and_bad_ones(tmp_path):
    webp = pack_person_set(TINY / "person_keypoints.json", TINY, tmp_path / "webp", PackConfig())
    sizes = [path.stat().st_size for path in (tmp_path / "webp" / "person_keypoints").iterdir()]
    assert webp.is_file() and len(sizes) == 5 and max(sizes) < 20_000
    with pytest.raises(ValueError, match=r"cannot pack as '\.gif'"):
        pack_person_set(TINY / "person_keypoints.json", TINY, tmp_path, PackConfig(suffix=".gif"))
