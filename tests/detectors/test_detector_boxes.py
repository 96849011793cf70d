"""Box geometry: the 3:4 expansion, boxes from keypoints, IoU and NMS."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from detectors.boxes import (
    boxes_from_keypoints,
    clip_to_image,
    expand_to_aspect,
    intersection_over_smaller,
    iou_matrix,
    nms,
)


def _random_boxes(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    corner = rng.uniform(-50, 600, size=(count, 2))
    shape = rng.choice([0.05, 1, 20], size=(count, 2))  # thin, square and wide boxes
    size = rng.uniform(1, 400, size=(count, 2)) * shape
    return np.concatenate([corner, corner + size], axis=1).astype(np.float32)


def _centres(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, :2] + boxes[:, 2:]) / 2


def _sizes(boxes: np.ndarray) -> np.ndarray:
    return boxes[:, 2:] - boxes[:, :2]


@pytest.mark.parametrize("padding", [1.0, 1.25])
def test_expansion_is_exactly_3_to_4_about_the_same_centre_and_contains_the_box(padding):
    boxes = _random_boxes(200)
    expanded = expand_to_aspect(boxes, aspect_ratio=0.75, padding=padding)
    width, height = _sizes(expanded).T
    np.testing.assert_allclose(width / height, 0.75, rtol=1e-5)
    np.testing.assert_allclose(_centres(expanded), _centres(boxes), atol=1e-3)
    assert np.all(expanded[:, :2] <= boxes[:, :2] + 1e-3) and np.all(expanded[:, 2:] >= boxes[:, 2:] - 1e-3)
    # only the short side grew (before padding): the long side is the original one times the padding
    long_side = np.maximum(_sizes(boxes)[:, 0] / 0.75, _sizes(boxes)[:, 1])
    np.testing.assert_allclose(height, long_side * padding, rtol=1e-5)


def test_expansion_is_idempotent_without_padding():
    once = expand_to_aspect(_random_boxes(100, seed=1))
    np.testing.assert_allclose(expand_to_aspect(once), once, rtol=1e-6, atol=1e-3)


def test_expansion_of_known_boxes():
    tall = np.array([[10, 20, 40, 100]], np.float32)  # 30 x 80 -> width 60 about x = 25
    wide = np.array([[0, 0, 90, 30]], np.float32)  # 90 x 30 -> height 120 about y = 15
    np.testing.assert_allclose(expand_to_aspect(tall), [[-5, 20, 55, 100]])
    np.testing.assert_allclose(expand_to_aspect(wide), [[0, -45, 90, 75]])
    np.testing.assert_allclose(expand_to_aspect(tall, padding=1.25), [[-12.5, 10, 62.5, 110]])


def test_expansion_at_the_image_border_is_not_clipped():
    """A person at the left edge: the box keeps its exact aspect and centre and runs past x = 0."""
    at_edge = np.array([[0, 100, 20, 300]], np.float32)  # 20 x 200, centre x = 10
    expanded = expand_to_aspect(at_edge, padding=1.25)
    assert expanded[0, 0] < 0
    np.testing.assert_allclose(_centres(expanded), [[10, 200]])
    clipped = clip_to_image(expanded, image_hw=(480, 640))
    np.testing.assert_allclose(clipped, [[0, 75, 103.75, 325]])


def test_expansion_keeps_degenerate_boxes_finite_and_rejects_shrinking():
    points = np.array([[5, 5, 5, 5], [5, 0, 5, 40]], np.float32)  # a point, a vertical line
    np.testing.assert_allclose(expand_to_aspect(points), [[5, 5, 5, 5], [-10, 0, 20, 40]])
    assert expand_to_aspect(np.zeros((0, 4))).shape == (0, 4)
    with pytest.raises(ValueError, match="padding"):
        expand_to_aspect(points, padding=0.9)
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        expand_to_aspect(np.zeros(4))


def test_clip_to_image_clamps_each_side():
    boxes = np.array([[-10, -5, 700, 500], [100, 100, 200, 200]], np.float32)
    np.testing.assert_array_equal(clip_to_image(boxes, (480, 640)), [[0, 0, 640, 480], [100, 100, 200, 200]])


def test_boxes_from_keypoints_ignore_unconfident_points_and_pad_about_the_centre():
    keypoints = np.array([[[10, 10], [30, 50], [1000, 1000]], [[0, 0], [5, 5], [9, 9]]], np.float32)
    scores = np.array([[0.9, 0.8, 0.1], [0.9, 0.1, 0.1]], np.float32)
    boxes = boxes_from_keypoints(keypoints, scores, min_score=0.3, padding=1.5)
    # tight box 10..30 x 10..50, grown 1.5 times about its centre (20, 30)
    np.testing.assert_allclose(boxes[0], [5, 0, 35, 60])
    assert np.isnan(boxes[1]).all()  # one confident keypoint is not enough: re-detect this person
    assert boxes_from_keypoints(np.zeros((0, 17, 2)), np.zeros((0, 17))).shape == (0, 4)


def test_boxes_from_coinciding_keypoints_ask_for_a_new_detection_without_warnings():
    """Untrained or collapsed poses put every keypoint on one pixel: a zero-size box would crop nothing."""
    keypoints = np.full((1, 17, 2), 42.0, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        boxes = boxes_from_keypoints(keypoints, np.ones((1, 17), np.float32))
    assert np.isnan(boxes).all()


def test_iou_and_intersection_over_smaller_of_known_boxes():
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[5, 0, 15, 10], [0, 0, 10, 10], [20, 20, 30, 30], [2, 2, 4, 4], [3, 3, 3, 3]], np.float32)
    np.testing.assert_allclose(iou_matrix(a, b), [[50 / 150, 1, 0, 4 / 100, 0]])
    np.testing.assert_allclose(intersection_over_smaller(a, b), [[0.5, 1, 0, 1, 0]])
    assert iou_matrix(a, np.zeros((0, 4))).shape == (1, 0)


def test_nms_keeps_the_best_of_each_overlapping_group_best_first():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60], [0, 0, 100, 100]], np.float32)
    scores = np.array([0.8, 0.9, 0.5, 0.7], np.float32)
    np.testing.assert_array_equal(nms(boxes, scores, 0.5), [1, 3, 2])
    # measured by intersection over the smaller box, the big box holding box 1 goes too
    np.testing.assert_array_equal(nms(boxes, scores, 0.5, overlap=intersection_over_smaller), [1, 2])
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).shape == (0,)
