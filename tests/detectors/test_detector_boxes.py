"""Box geometry: boxes from keypoints, IoU and NMS."""

from __future__ import annotations

import warnings

import numpy as np

from detectors.boxes import (
    boxes_from_keypoints,
    intersection_over_smaller,
    iou_matrix,
    nms,
)


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
