"""Training augmentation: the crop pixels and the heatmap targets always move together."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pose.models.spec import ModelSpec
from pose.skeleton import COCO, CROWDPOSE, MPII
from pose.train.augmentation import (
    CropPlan,
    flip_keypoints,
    half_body_box,
    lower_body_mask,
    make_example,
    mirrored,
    plan_crop,
    random_scale_rotation,
)
from pose.train.config import AugmentConfig
from pose.transforms import crop_matrix, warp_crops

SPEC = ModelSpec(name="test")  # 256x192 input, 64x48 heatmap, sigma 2


class _Normal:
    """A stand-in generator whose normal draws are fixed (to pick the half-body branch)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def standard_normal(self) -> float:
        return self.value


@pytest.mark.parametrize(
    ("skeleton", "lower"),
    [(COCO, range(11, 17)), (CROWDPOSE, range(6, 12)), (MPII, range(0, 7))],
    ids=lambda value: getattr(value, "name", ""),
)
def test_lower_body_keypoints_follow_mmpose(skeleton, lower):
    assert np.flatnonzero(lower_body_mask(skeleton)).tolist() == list(lower)


def test_flip_mirrors_x_and_swaps_left_and_right():
    rng = np.random.default_rng(0)
    keypoints = rng.uniform(0, 300, (17, 2))
    visible = (rng.random(17) > 0.3).astype(np.float32)
    flipped, flipped_visible = flip_keypoints(keypoints, visible, 320, COCO)
    # the left shoulder of the mirrored person is the old right shoulder
    assert flipped[5, 0] == 319 - keypoints[6, 0] and flipped[5, 1] == keypoints[6, 1]
    assert flipped[0, 0] == 319 - keypoints[0, 0]  # the nose stays the nose
    assert flipped_visible[9] == visible[10]
    back, back_visible = flip_keypoints(flipped, flipped_visible, 320, COCO)
    np.testing.assert_allclose(back, keypoints)
    np.testing.assert_array_equal(back_visible, visible)


def test_mirrored_matrix_reads_the_flipped_image():
    rng = np.random.default_rng(1)
    image = cv2.GaussianBlur(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8), (7, 7), 2)
    matrix = crop_matrix(np.array([70.0, 60.0]), np.array([90.0, 120.0]), (64, 48), rotation_deg=25.0)
    from_flipped = warp_crops(np.ascontiguousarray(image[:, ::-1]), matrix[None], (64, 48))[0]
    from_original = warp_crops(image, mirrored(matrix, 160)[None], (64, 48))[0]
    assert np.abs(from_flipped.astype(int) - from_original.astype(int)).max() <= 2


def test_half_body_box_centres_the_chosen_half():
    keypoints = np.zeros((17, 2))
    keypoints[:11] = np.linspace([100, 50], [140, 130], 11)  # upper body spans 40 x 80
    keypoints[11:] = np.linspace([90, 200], [150, 300], 6)  # lower body spans 60 x 100
    visible = np.ones(17)
    lower = lower_body_mask(COCO)
    center, size = half_body_box(keypoints, visible, lower, 0.75, 1.5, _Normal(0.0))  # < 0.5: upper body
    np.testing.assert_allclose(center, keypoints[:11].mean(axis=0))
    np.testing.assert_allclose(size, [60.0 * 1.5, 80.0 * 1.5])  # widened to 3:4, then x1.5
    center, size = half_body_box(keypoints, visible, lower, 0.75, 1.5, _Normal(1.0))  # lower body
    np.testing.assert_allclose(center, keypoints[11:].mean(axis=0))
    np.testing.assert_allclose(size, [75.0 * 1.5, 100.0 * 1.5])
    visible[11:] = 0  # lower body not visible: the upper body even when the draw says lower
    center, _ = half_body_box(keypoints, visible, lower, 0.75, 1.5, _Normal(1.0))
    np.testing.assert_allclose(center, keypoints[:11].mean(axis=0))
    visible[1:] = 0  # a single keypoint spans no box
    assert half_body_box(keypoints, visible, lower, 0.75, 1.5, _Normal(0.0)) is None


def test_scale_and_rotation_draws_stay_in_mmpose_ranges():
    rng = np.random.default_rng(2)
    draws = np.array([random_scale_rotation(rng, AugmentConfig()) for _ in range(4000)])
    scale, rotation = draws[:, 0], draws[:, 1]
    assert scale.min() >= 0.75 and scale.max() <= 1.25 and scale.std() > 0.15
    assert np.abs(rotation).max() <= 60.0 and np.abs(rotation).max() > 45.0
    assert np.mean(rotation != 0) == pytest.approx(0.6, abs=0.03)


def test_no_augmentation_plans_the_plain_box_crop():
    keypoints, visible = np.zeros((17, 2)), np.ones(17)
    plan = plan_crop(np.array([50.0, 60.0]), np.array([90.0, 120.0]), keypoints, visible, 200, COCO, 0.75,
                     None, np.random.default_rng(0))
    assert plan.rotation == 0.0 and not plan.flip
    np.testing.assert_allclose(plan.size, [90.0, 120.0])


def _dot_image() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 360x300 image with 17 keypoints on a grid, each a disc of its own colour (BGR)."""
    image = np.full((360, 300, 3), 40, np.uint8)
    grid = np.stack(np.meshgrid(np.arange(4), np.arange(5)), -1).reshape(-1, 2)[:17]
    keypoints = 75.0 + grid * [50.0, 50.0]
    colours = np.random.default_rng(3).integers(90, 256, (17, 3))
    for (x, y), colour in zip(keypoints, colours, strict=True):
        cv2.circle(image, (int(x), int(y)), 9, colour.tolist(), -1)
    return image, keypoints, colours


@pytest.mark.parametrize("seed", range(8))
def test_heatmap_peaks_land_on_the_crop_pixels_of_their_keypoint(seed):
    """Under random flip / scale / rotation each target peak sits on its keypoint's disc in the crop; after a
    flip channel k shows the disc of keypoint ``perm[k]`` (the mirrored person's left is its old right)."""
    image, keypoints, colours = _dot_image()
    augment = AugmentConfig(half_body_prob=0.0, flip_prob=0.5, rotation_prob=1.0)
    plan = plan_crop(np.array([150.0, 175.0]), np.array([240.0, 320.0]), keypoints, np.ones(17), 300, COCO,
                     SPEC.aspect_ratio, augment, np.random.default_rng(seed))
    example = make_example(image, plan, SPEC)
    rgb = example.image.transpose(1, 2, 0) * np.array(SPEC.std) + np.array(SPEC.mean)
    bgr = rgb[:, :, ::-1] * 255.0
    source = np.array(COCO.flip_permutation()) if plan.flip else np.arange(17)
    checked = 0
    for k in range(17):
        if example.heatmaps[k].max() < 1.0:  # Gaussian centre off the map (weight may still be 1)
            continue
        y, x = np.unravel_index(np.argmax(example.heatmaps[k]), example.heatmaps[k].shape)
        u, v = min(int(x * SPEC.stride), 191), min(int(y * SPEC.stride), 255)
        np.testing.assert_allclose(bgr[v, u], colours[source[k]], atol=12, err_msg=f"keypoint {k}")
        checked += 1
    assert checked >= 10


def test_example_shapes_and_unlabelled_keypoints():
    image, keypoints, _ = _dot_image()
    visible = np.ones(17)
    visible[[0, 4]] = 0
    plan = CropPlan(np.array([150.0, 175.0]), np.array([240.0, 320.0]), 0.0, False, keypoints, visible)
    example = make_example(image, plan, SPEC)
    assert example.image.shape == (3, 256, 192) and example.image.dtype == np.float32
    assert example.heatmaps.shape == (17, 64, 48) and example.target_weight.shape == (17,)
    np.testing.assert_array_equal(example.target_weight, visible)
    assert example.heatmaps[0].max() == 0 and example.heatmaps[1].max() == pytest.approx(1.0)
