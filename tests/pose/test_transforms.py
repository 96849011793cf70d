"""Crop geometry: aspect fix, the mmpose 3-point affine, warps and the map back to image pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pose.transforms import (
    apply_affine,
    box_to_center_size,
    crop_matrices,
    crop_matrix,
    heatmap_to_image,
    invert_affine,
    normalize_crops,
    warp_crops,
)

INPUT_HW = (256, 192)
HEATMAP_HW = (64, 48)
STRIDE = 4.0


def _mmpose_three_point_matrix(center, size, output_hw, rotation_deg):
    """Reference: mmpose ``get_affine_transform`` built from three point pairs with cv2.getAffineTransform."""
    out_h, out_w = output_hw
    radians = np.deg2rad(rotation_deg)
    up = np.array([0.0, -size[0] * 0.5])
    src_dir = np.array([up[0] * np.cos(radians) - up[1] * np.sin(radians),
                        up[0] * np.sin(radians) + up[1] * np.cos(radians)])

    def third(a, b):
        d = a - b
        return b + np.array([-d[1], d[0]])

    src = np.stack([center, center + src_dir, third(center, center + src_dir)])
    dst_center = np.array([out_w * 0.5, out_h * 0.5])
    dst_up = dst_center + np.array([0.0, -out_w * 0.5])
    dst = np.stack([dst_center, dst_up, third(dst_center, dst_up)])
    return cv2.getAffineTransform(src.astype(np.float32), dst.astype(np.float32))


def test_tall_box_widens_to_three_by_four_and_is_padded():
    centers, sizes = box_to_center_size(np.array([[10.0, 20.0, 50.0, 220.0]]))
    np.testing.assert_allclose(centers, [[30.0, 120.0]])
    np.testing.assert_allclose(sizes, [[150.0 * 1.25, 200.0 * 1.25]])


def test_wide_box_grows_in_height():
    _, sizes = box_to_center_size(np.array([[0.0, 0.0, 300.0, 100.0]]), aspect_ratio=0.75, padding=1.0)
    np.testing.assert_allclose(sizes, [[300.0, 400.0]])


def test_aspect_fix_is_idempotent_on_a_three_by_four_box():
    box = np.array([[17.0, 33.0, 17.0 + 96.3, 33.0 + 128.4]])
    _, sizes = box_to_center_size(box, padding=1.0)
    np.testing.assert_allclose(sizes, [[96.3, 128.4]], rtol=1e-12)
    _, twice = box_to_center_size(np.concatenate([-sizes / 2, sizes / 2], axis=1), padding=1.0)
    np.testing.assert_allclose(twice, sizes, rtol=1e-12)


def test_empty_boxes_give_empty_centers_and_sizes():
    centers, sizes = box_to_center_size(np.zeros((0, 4)))
    assert centers.shape == (0, 2) and sizes.shape == (0, 2)
    assert crop_matrices(centers, sizes, INPUT_HW).shape == (0, 2, 3)


@pytest.mark.parametrize("rotation", [0.0, 30.0, -47.5, 90.0])
def test_crop_matrix_equals_the_mmpose_three_point_construction(rotation):
    center, size = np.array([312.4, 201.7]), np.array([143.0, 190.6667])
    expected = _mmpose_three_point_matrix(center, size, INPUT_HW, rotation)
    np.testing.assert_allclose(crop_matrix(center, size, INPUT_HW, rotation), expected, atol=1e-3)


def test_crop_then_inverse_map_returns_box_corners():
    boxes = np.array([[12.5, 40.25, 171.0, 389.5], [-30.0, -12.0, 60.0, 300.0], [400.0, 10.0, 900.0, 200.0]])
    centers, sizes = box_to_center_size(boxes)
    matrices = crop_matrices(centers, sizes, INPUT_HW)
    corners = boxes[:, [[0, 1], [2, 1], [0, 3], [2, 3]]]
    in_crop = apply_affine(corners, matrices)
    back = heatmap_to_image(in_crop / STRIDE, centers, sizes, HEATMAP_HW)
    np.testing.assert_allclose(back, corners, atol=1e-3)
    np.testing.assert_allclose(apply_affine(in_crop, invert_affine(matrices)), corners, atol=1e-3)


def test_crop_corners_are_the_padded_region():
    centers, sizes = box_to_center_size(np.array([[100.0, 50.0, 190.0, 290.0]]))
    inverse = invert_affine(crop_matrix(centers[0], sizes[0], INPUT_HW))
    out_h, out_w = INPUT_HW
    corners = apply_affine(np.array([[0.0, 0.0], [out_w, out_h]]), inverse)
    np.testing.assert_allclose(corners, [centers[0] - sizes[0] / 2, centers[0] + sizes[0] / 2], atol=1e-9)


def test_rotated_matrix_round_trips():
    rng = np.random.default_rng(3)
    matrices = crop_matrices(rng.uniform(0, 500, (5, 2)), rng.uniform(50, 300, (5, 2)), INPUT_HW,
                             rng.uniform(-60, 60, 5))
    points = rng.uniform(0, 500, (5, 17, 2))
    np.testing.assert_allclose(apply_affine(apply_affine(points, matrices), invert_affine(matrices)), points,
                               atol=1e-9)


def test_batched_apply_affine_matches_one_matrix_at_a_time():
    rng = np.random.default_rng(4)
    matrices = crop_matrices(rng.uniform(0, 500, (3, 2)), rng.uniform(50, 300, (3, 2)), INPUT_HW,
                             rng.uniform(-60, 60, 3))
    points = rng.uniform(0, 500, (3, 17, 2))
    batched = apply_affine(points, matrices)
    for index in range(3):
        np.testing.assert_allclose(batched[index], apply_affine(points[index], matrices[index]))


def test_unit_scale_crop_copies_pixels_and_fills_outside_with_zero():
    rng = np.random.default_rng(5)
    image = rng.integers(1, 256, size=(200, 300, 3), dtype=np.uint8)
    out_h, out_w = INPUT_HW
    center, size = np.array([[100.0, 150.0]]), np.array([[float(out_w), float(out_h)]])
    crop = warp_crops(image, crop_matrices(center, size, INPUT_HW), INPUT_HW)[0]
    # crop pixel (u, v) is image pixel (u + 100 - 96, v + 150 - 128); image rows end at 199 -> crop row 177.
    np.testing.assert_array_equal(crop[:178], image[22:200, 4:196])
    assert not crop[178:].any()


def test_warp_writes_into_a_given_buffer():
    image = np.full((50, 60, 3), 7, dtype=np.uint8)
    buffer = np.empty((2, 32, 24, 3), dtype=np.uint8)
    matrices = crop_matrices(np.array([[30.0, 25.0]] * 2), np.array([[24.0, 32.0]] * 2), (32, 24))
    assert warp_crops(image, matrices, (32, 24), out=buffer) is buffer
    assert (buffer == 7).all()


def test_normalize_crops_gives_channels_first_normalised_rgb():
    rng = np.random.default_rng(6)
    crops = rng.integers(0, 256, size=(3, 8, 6, 3), dtype=np.uint8)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    batch = normalize_crops(crops, mean, std)
    rgb = crops[..., ::-1].transpose(0, 3, 1, 2) / 255.0
    expected = (rgb - np.array(mean)[None, :, None, None]) / np.array(std)[None, :, None, None]
    assert batch.dtype == np.float32 and batch.shape == (3, 3, 8, 6) and batch.flags.c_contiguous
    np.testing.assert_allclose(batch, expected, atol=1e-5)
