"""Training augmentation: the crop pixels and the heatmap targets always move together."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pose.models.spec import ModelSpec
from pose.skeleton import COCO, CROWDPOSE, MPII
from pose.train.augmentation import (
    MIN_KEPT_KEYPOINTS,
    CropPlan,
    PhotoEdge,
    box_before_edge,
    draw_photo_edge,
    flip_keypoints,
    half_body_box,
    lower_body_mask,
    make_example,
    mirrored,
    plan_crop,
    random_scale_rotation,
)
from pose.train.config import AugmentConfig
from pose.train.photometric import PhotometricConfig
from pose.transforms import PADDING, apply_affine, crop_matrix, warp_crops

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


def _crop_bgr(example) -> np.ndarray:
    """The example's network input back as BGR 0..255 floats."""
    rgb = example.image.transpose(1, 2, 0) * np.array(SPEC.std) + np.array(SPEC.mean)
    return rgb[:, :, ::-1] * 255.0


@pytest.mark.parametrize("seed", range(8))
def test_a_photo_edge_removes_the_pixels_and_labels_beyond_it(seed):
    """Keypoints beyond the edge lose their label and their pixels turn black; those before it keep both."""
    image, keypoints, colours = _dot_image()
    augment = AugmentConfig(truncation_prob=1.0, flip_prob=0.5, rotation_prob=1.0)
    size = np.array([240.0, 320.0])
    plan = plan_crop(np.array([150.0, 175.0]), size, keypoints, np.ones(17), 300, COCO, SPEC.aspect_ratio,
                     augment, np.random.default_rng(seed))
    assert plan.edge is not None
    beyond = plan.edge.beyond(plan.keypoints)
    assert beyond.any() and (plan.visible[beyond] == 0).all() and (plan.visible[~beyond] == 1).all()
    assert plan.visible.sum() >= MIN_KEPT_KEYPOINTS
    center, box_size = box_before_edge(plan.keypoints, plan.visible, plan.edge, SPEC.aspect_ratio)
    np.testing.assert_allclose(plan.center, center)  # the crop is of what is left, then scaled
    scale = plan.size / box_size
    assert scale[0] == pytest.approx(scale[1]) and 0.75 <= scale[0] <= 1.25
    example = make_example(image, plan, SPEC)
    np.testing.assert_array_equal(example.target_weight[beyond], 0)
    bgr = _crop_bgr(example)
    to_crop = crop_matrix(plan.center, plan.size, SPEC.input_size, plan.rotation)
    in_crop = apply_affine(plan.keypoints, to_crop)
    source = np.array(COCO.flip_permutation()) if plan.flip else np.arange(17)
    checked = 0
    for k, (u, v) in enumerate(np.rint(in_crop).astype(int)):
        near_edge = abs(plan.keypoints[k, plan.edge.axis] - plan.edge.position) < 4
        if near_edge or not (0 <= u < 192 and 0 <= v < 256):
            continue
        if beyond[k]:
            assert np.abs(bgr[v, u]).max() < 1.0, f"keypoint {k} beyond the edge is not black"
        else:
            np.testing.assert_allclose(bgr[v, u], colours[source[k]], atol=12, err_msg=f"keypoint {k}")
        checked += 1
    assert checked >= 6


def test_no_photo_edge_where_too_few_keypoints_would_stay():
    keypoints = np.linspace([100.0, 50.0], [120.0, 250.0], 17)
    visible = np.zeros(17)
    visible[:MIN_KEPT_KEYPOINTS] = 1  # any edge across them leaves fewer
    for seed in range(20):
        assert draw_photo_edge(keypoints, visible, np.random.default_rng(seed)) is None


def test_some_photo_edges_leave_only_the_head_and_shoulders():
    """COCO's close-ups: a bottom edge between the shoulders and the elbows of an upright person."""
    heights = [20, 18, 18, 20, 20, 50, 50, 90, 90, 125, 125, 130, 130, 190, 190, 250, 250]
    keypoints = np.stack([np.linspace(80.0, 120.0, 17), np.array(heights, float)], axis=1)
    visible = np.ones(17)
    kept_sets = set()
    for seed in range(200):
        edge = draw_photo_edge(keypoints, visible, np.random.default_rng(seed))
        if edge is not None and edge.axis == 1:
            kept_sets.add(int((~edge.beyond(keypoints)).sum()))
    assert 7 in kept_sets  # face and shoulders only
    assert min(kept_sets) == 7  # never the face alone


def test_the_box_before_an_edge_stops_at_the_edge():
    keypoints = np.array([[100.0, 100.0], [140.0, 100.0], [100.0, 180.0], [140.0, 180.0], [120.0, 300.0]])
    kept = np.array([1, 1, 1, 1, 0])
    bottom_edge = PhotoEdge(axis=1, position=190.0, beyond_greater=True)
    center, size = box_before_edge(keypoints, kept, bottom_edge, 0.75)
    # kept extent 40 x 80 grown by 15 % a side: x 94..146, y 88..192, stopped at y = 190 -> 52 x 102
    top, bottom = center[1] - size[1] / 2, center[1] + size[1] / 2
    assert (top + bottom) / 2 == pytest.approx((88 + 190) / 2)
    assert size[1] == pytest.approx(102 * PADDING) and size[0] == pytest.approx(size[1] * 0.75)
    left_edge = PhotoEdge(axis=0, position=110.0, beyond_greater=False)
    center, size = box_before_edge(keypoints, kept, left_edge, 0.75)
    assert center[0] == pytest.approx((110 + 146) / 2)


def test_photometric_changes_alter_the_crop_but_not_the_targets():
    image, keypoints, _ = _dot_image()
    plan = CropPlan(np.array([150.0, 175.0]), np.array([240.0, 320.0]), 0.0, False, keypoints, np.ones(17))
    plain = make_example(image, plan, SPEC)
    changes = PhotometricConfig(occlusion_prob=1.0, colour_prob=1.0, low_resolution_prob=1.0)
    changed = make_example(image, plan, SPEC, changes, np.random.default_rng(0))
    assert np.abs(changed.image - plain.image).mean() > 0.05
    np.testing.assert_array_equal(changed.heatmaps, plain.heatmaps)
    np.testing.assert_array_equal(changed.target_weight, plain.target_weight)
    with pytest.raises(ValueError, match="rng"):
        make_example(image, plan, SPEC, changes)


def test_augment_config_names_the_photometric_changes_it_wants():
    assert AugmentConfig().photometric is None
    changes = AugmentConfig(colour_prob=0.5, low_resolution_prob=0.25).photometric
    assert changes is not None and changes.colour_prob == 0.5 and changes.low_resolution_prob == 0.25
    assert changes.occlusion_prob == 0 and changes.blur_prob == 0 and changes.noise_prob == 0
