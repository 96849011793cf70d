"""Heatmap codecs: MSRA targets, quarter-offset decoding with its strict bounds, flip-back."""

from __future__ import annotations

import numpy as np
import pytest

from pose.codecs import (
    average_with_flipped,
    decode_heatmaps,
    encode_heatmaps,
    flip_back,
)
from pose.skeleton import COCO

HEATMAP_HW = (64, 48)
STRIDE = 4.0
SIGMA = 2.0


def _mmpose_msra_reference(joints, visible, heatmap_hw, stride, sigma):
    """mmpose 0.x ``_msra_generate_target`` written as the loop it is, to check the vectorised encoder."""
    height, width = heatmap_hw
    radius = sigma * 3
    heatmaps = np.zeros((len(joints), height, width), dtype=np.float32)
    weights = np.asarray(visible, dtype=np.float32).copy()
    for k, (x, y) in enumerate(joints):
        mu_x, mu_y = int(x / stride + 0.5), int(y / stride + 0.5)
        ul = [int(mu_x - radius), int(mu_y - radius)]
        br = [int(mu_x + radius + 1), int(mu_y + radius + 1)]
        if ul[0] >= width or ul[1] >= height or br[0] < 0 or br[1] < 0:
            weights[k] = 0
        if weights[k] > 0.5:
            size = 2 * radius + 1
            grid = np.arange(0, size, 1, np.float32)
            centre = size // 2
            g = np.exp(-((grid[None, :] - centre) ** 2 + (grid[:, None] - centre) ** 2) / (2 * sigma**2))
            g_x = max(0, -ul[0]), min(br[0], width) - ul[0]
            g_y = max(0, -ul[1]), min(br[1], height) - ul[1]
            img_x = max(0, ul[0]), min(br[0], width)
            img_y = max(0, ul[1]), min(br[1], height)
            heatmaps[k, img_y[0]:img_y[1], img_x[0]:img_x[1]] = g[g_y[0]:g_y[1], g_x[0]:g_x[1]]
    return heatmaps, weights


def _gaussians(points, heatmap_hw=HEATMAP_HW, sigma=SIGMA):
    """``(N, h, w)`` float64 Gaussians with peak 1 centred exactly at sub-pixel ``points (N, 2)``."""
    ys, xs = np.mgrid[0 : heatmap_hw[0], 0 : heatmap_hw[1]]
    dx = xs[None] - points[:, 0, None, None]
    dy = ys[None] - points[:, 1, None, None]
    return np.exp(-(dx**2 + dy**2) / (2 * sigma**2))


@pytest.mark.parametrize(("heatmap_hw", "sigma"), [((64, 48), 2.0), ((96, 72), 3.0)])
def test_encoder_matches_the_mmpose_loop(heatmap_hw, sigma):
    rng = np.random.default_rng(0)
    stride = 4.0
    input_w, input_h = heatmap_hw[1] * stride, heatmap_hw[0] * stride
    joints = rng.uniform([-40, -40], [input_w + 40, input_h + 40], size=(200, 2))
    visible = rng.random(200) > 0.2
    heatmaps, weights = encode_heatmaps(joints, visible, heatmap_hw, stride, sigma)
    expected, expected_weights = _mmpose_msra_reference(joints, visible, heatmap_hw, stride, sigma)
    assert heatmaps.dtype == np.float32 and weights.dtype == np.float32
    np.testing.assert_allclose(heatmaps, expected, atol=1e-6)
    np.testing.assert_array_equal(weights, expected_weights)


def test_encoder_weights_invisible_and_far_outside_keypoints_zero():
    joints = np.array([[96.0, 128.0], [96.0, 128.0], [-200.0, 100.0], [100.0, 900.0]])
    heatmaps, weights = encode_heatmaps(joints, np.array([1, 0, 1, 1]), HEATMAP_HW, STRIDE, SIGMA)
    np.testing.assert_array_equal(weights, [1, 0, 0, 0])
    assert heatmaps[0, 32, 24] == 1.0 and heatmaps[0].sum() > 1
    assert not heatmaps[1:].any()


def test_on_grid_points_round_trip_exactly():
    grid = np.array([[x, y] for x in range(2, 46, 3) for y in range(2, 62, 5)], dtype=np.float64) * STRIDE
    heatmaps, _ = encode_heatmaps(grid, np.ones(len(grid)), HEATMAP_HW, STRIDE, SIGMA)
    coords, scores = decode_heatmaps(heatmaps[None])
    np.testing.assert_array_equal(coords[0] * STRIDE, grid)
    np.testing.assert_array_equal(scores, 1.0)


def test_off_grid_points_round_trip_within_half_a_stride():
    """The MSRA target sits at the integer centre ``int(x / stride + 0.5)``, i.e. ``x / stride`` rounded, so
    it is off by at most half a heatmap pixel; the Gaussian is symmetric about that integer, the two
    neighbours are equal and decoding adds no quarter offset. Bound: ``stride / 2`` input pixels per axis
    (2 px at stride 4), reached only for points halfway between two grid lines."""
    rng = np.random.default_rng(1)
    points = rng.uniform([2.0 * STRIDE, 2.0 * STRIDE], [45.0 * STRIDE, 61.0 * STRIDE], size=(300, 2))
    heatmaps, _ = encode_heatmaps(points, np.ones(len(points)), HEATMAP_HW, STRIDE, SIGMA)
    coords, _ = decode_heatmaps(heatmaps[None])
    error = np.abs(coords[0] * STRIDE - points)
    assert error.max() <= STRIDE / 2
    assert error.max() > STRIDE / 2 - 0.1  # the bound is tight, not loose


def test_sub_pixel_gaussians_decode_within_a_quarter_pixel():
    """For a Gaussian centred at sub-pixel p the argmax is the nearest integer n and the higher neighbour
    lies on p's side, so the decoded n +/- 0.25 is within 0.25 heatmap pixels of p (``stride / 4`` = 1 input
    pixel), which is the paper's motivation for the quarter offset."""
    rng = np.random.default_rng(2)
    points = rng.uniform([3, 3], [44, 60], size=(300, 2))
    coords, scores = decode_heatmaps(_gaussians(points)[None].astype(np.float32))
    assert np.abs(coords[0] - points).max() <= 0.25 + 1e-6
    assert scores.min() > 0.93  # a peak-1 Gaussian sampled at most sqrt(0.5) px from its centre


def test_quarter_offset_respects_the_strict_bounds():
    """Offsets need ``1 < x < w - 1`` and ``1 < y < h - 1``: columns/rows 0, 1 and the last get none."""
    height, width = HEATMAP_HW
    peaks = [(1, 20), (2, 20), (width - 2, 20), (width - 1, 20), (20, 1), (20, 2), (20, height - 2),
             (20, height - 1)]
    heatmaps = np.zeros((1, len(peaks), height, width), dtype=np.float32)
    for k, (x, y) in enumerate(peaks):
        heatmaps[0, k, y, x] = 1.0
        heatmaps[0, k, y, x + 1 :][:1] = 0.5  # right neighbour, where there is one
        heatmaps[0, k, y + 1 :, x][:1] = 0.5  # lower neighbour, where there is one
    coords, _ = decode_heatmaps(heatmaps)
    expected = [(1, 20), (2.25, 20.25), (width - 1.75, 20.25), (width - 1, 20),
                (20, 1), (20.25, 2.25), (20.25, height - 1.75), (20, height - 1)]
    np.testing.assert_array_equal(coords[0], expected)


def test_non_positive_maps_decode_to_minus_one():
    heatmaps = np.full((2, 3, 8, 8), -0.5, dtype=np.float32)
    heatmaps[0, 0] = 0.0
    heatmaps[1, 2, 4, 4] = 0.7
    heatmaps[1, 2, 4, 5] = 0.2
    coords, scores = decode_heatmaps(heatmaps)
    np.testing.assert_array_equal(coords[0], -1)
    np.testing.assert_array_equal(coords[1, 2], [4.25, 4.0])
    np.testing.assert_allclose(scores, [[0.0, -0.5, -0.5], [-0.5, -0.5, 0.7]])


def test_decode_returns_float32_for_half_precision_input():
    heatmaps = _gaussians(np.array([[20.3, 30.6]]))[None].astype(np.float16)
    coords, scores = decode_heatmaps(heatmaps)
    assert coords.dtype == np.float32 and scores.dtype == np.float32
    np.testing.assert_array_equal(coords[0, 0], [20.25, 30.75])


def test_flip_back_of_a_flipped_heatmap_is_the_original():
    """A horizontally flipped person shows its left joints where the right ones were: the flipped image's
    heatmaps are the original's mirrored with left/right channels swapped. Flipping back undoes both."""
    rng = np.random.default_rng(4)
    perm = COCO.flip_permutation()
    heatmaps = rng.random((3, COCO.num_keypoints, *HEATMAP_HW)).astype(np.float32)
    flipped = heatmaps[:, list(perm), :, ::-1]
    np.testing.assert_array_equal(flip_back(flipped, perm, shift=False), heatmaps)
    shifted = flip_back(flipped, perm, shift=True)
    np.testing.assert_array_equal(shifted[..., 1:], heatmaps[..., :-1])
    np.testing.assert_array_equal(shifted[..., 0], heatmaps[..., 0])
    assert shifted.flags.c_contiguous


def test_average_with_flipped_uses_the_shifted_flip_back():
    rng = np.random.default_rng(5)
    perm = COCO.flip_permutation()
    heatmaps = rng.random((2, COCO.num_keypoints, *HEATMAP_HW)).astype(np.float32)
    other = rng.random(heatmaps.shape).astype(np.float32)
    averaged = average_with_flipped(heatmaps, other, perm)
    np.testing.assert_allclose(averaged, (heatmaps + flip_back(other, perm)) / 2, rtol=1e-6)
    assert averaged.dtype == np.float32
