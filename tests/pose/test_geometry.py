"""Box and keypoint geometry: areas, IoU, intersection over the smaller box, OKS, greedy NMS, keypoint
boxes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pose.geometry import (
    box_areas,
    boxes_from_keypoints,
    greedy_suppression,
    intersection_areas,
    intersection_over_smaller,
    iou_matrix,
    keypoint_similarity,
    oks_matrix,
)
from pose.skeleton import COCO

SIGMAS = np.array(COCO.oks_sigmas)
NO_BOXES = np.zeros((0, 4))


def test_areas_and_overlaps_of_known_boxes():
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[5, 0, 15, 10], [0, 0, 10, 10], [20, 20, 30, 30], [2, 2, 4, 4], [3, 3, 3, 3]], np.float32)
    np.testing.assert_array_equal(box_areas(b), [100, 100, 100, 4, 0])
    np.testing.assert_array_equal(intersection_areas(a, b), [[50, 100, 0, 4, 0]])
    np.testing.assert_allclose(iou_matrix(a, b), [[50 / 150, 1, 0, 4 / 100, 0]])
    # 1 where one box holds the other (the small box inside a), 0 for the empty box
    np.testing.assert_allclose(intersection_over_smaller(a, b), [[0.5, 1, 0, 1, 0]])
    np.testing.assert_allclose(iou_matrix(b, a), iou_matrix(a, b).T)
    assert iou_matrix(a, b).dtype == np.float64


def test_inverted_boxes_are_empty_and_two_empty_boxes_do_not_divide_by_zero():
    inverted = np.array([[10, 10, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(box_areas(inverted), [0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(iou_matrix(inverted, inverted), np.zeros((2, 2)))
        np.testing.assert_array_equal(intersection_over_smaller(inverted, inverted), np.zeros((2, 2)))


def test_empty_box_sets_give_empty_results():
    a = np.array([[0, 0, 10, 10]])
    assert box_areas(NO_BOXES).shape == (0,)
    assert iou_matrix(a, NO_BOXES).shape == (1, 0)
    assert iou_matrix(NO_BOXES, a).shape == (0, 1)
    assert intersection_over_smaller(NO_BOXES, NO_BOXES).shape == (0, 0)


def test_boxes_of_the_wrong_shape_are_refused_with_their_shape():
    with pytest.raises(ValueError, match=r"\(N, 4\).*\(4,\)"):
        iou_matrix(np.zeros(4), NO_BOXES)
    with pytest.raises(ValueError, match=r"\(N, 4\).*\(2, 3\)"):
        box_areas(np.zeros((2, 3)))


def test_keypoint_similarity_is_cocos_term_for_matched_pairs():
    truth = np.array([[[0.0, 0.0], [10.0, 10.0]]])
    predicted = truth + np.array([[3.0, 4.0], [0.0, 0.0]])  # first keypoint 5 px away, second exact
    sigmas = [0.5, 1.0]  # (2 sigma)^2 = 1 and 4
    terms = keypoint_similarity(predicted, truth, np.array([100.0]), sigmas)
    np.testing.assert_allclose(terms, [[np.exp(-25 / (2 * 100 * 1)), 1.0]])
    # a scalar area and unbatched (K, 2) poses broadcast the same way
    np.testing.assert_allclose(keypoint_similarity(predicted[0], truth[0], 100.0, sigmas), terms[0])


def test_oks_of_identical_poses_is_one_and_falls_with_distance():
    pose = np.random.default_rng(0).uniform(0, 100, (1, 17, 2))
    others = np.concatenate([pose, pose + np.array([3.0, 4.0]), pose + 20.0, pose + 80.0])  # 0, 5, 28, 113 px
    values = oks_matrix(pose, others, np.array([[1e4]]), SIGMAS)[0]
    assert values[0] == 1.0
    np.testing.assert_allclose(values[1], np.mean(np.exp(-25.0 / (2 * 1e4 * (2 * SIGMAS) ** 2))))
    assert values[1] > values[2] > values[3] >= 0.0
    assert values[3] < 0.05


def test_oks_areas_broadcast_per_row_or_per_pair():
    poses = np.random.default_rng(1).uniform(0, 100, (2, 17, 2))
    shifted = poses + 2.0
    per_row = oks_matrix(poses, shifted, np.array([[100.0], [400.0]]), SIGMAS)
    assert per_row[1, 1] > per_row[0, 0]  # a bigger person forgives the same 2.8 px more
    per_pair = oks_matrix(poses, shifted, np.full((2, 2), 100.0), SIGMAS)
    assert per_pair[0, 0] == per_row[0, 0]


def test_oks_counts_only_keypoints_visible_in_both_poses():
    pose = np.random.default_rng(2).uniform(100, 200, (1, 17, 2))
    other = pose.copy()
    other[0, 9:11] += 300  # wrists far away...
    sure = np.ones((1, 17), bool)
    unsure_wrists = sure.copy()
    unsure_wrists[0, 9:11] = False  # ...but not visible in one of the two poses
    area = np.array([[60 * 160.0]])
    assert oks_matrix(pose, other, area, SIGMAS)[0, 0] < 0.9
    assert oks_matrix(pose, other, area, SIGMAS, sure, unsure_wrists)[0, 0] == 1.0
    assert oks_matrix(pose, other, area, SIGMAS, unsure_wrists, None)[0, 0] == 1.0
    assert oks_matrix(pose, other, area, SIGMAS, sure, np.zeros((1, 17), bool))[0, 0] == 0.0  # none shared


def test_oks_of_no_poses_is_empty():
    poses = np.zeros((3, 17, 2))
    assert oks_matrix(np.zeros((0, 17, 2)), poses, np.ones((0, 1)), SIGMAS).shape == (0, 3)
    visible = np.ones((3, 17), bool)
    assert oks_matrix(poses, np.zeros((0, 17, 2)), np.ones((3, 1)), SIGMAS, visible,
                      np.ones((0, 17), bool)).shape == (3, 0)


def test_greedy_suppression_keeps_the_best_of_each_overlapping_group_best_first():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60], [0, 0, 100, 100]], np.float32)
    scores = np.array([0.8, 0.9, 0.5, 0.7], np.float32)
    kept = greedy_suppression(iou_matrix(boxes, boxes), scores, 0.5)
    np.testing.assert_array_equal(kept, [1, 3, 2])
    assert kept.dtype == np.int64
    # measured by intersection over the smaller box, the big box holding box 1 goes too
    nested = intersection_over_smaller(boxes, boxes)
    np.testing.assert_array_equal(greedy_suppression(nested, scores, 0.5), [1, 2])
    assert greedy_suppression(np.zeros((0, 0)), np.zeros(0), 0.5).shape == (0,)


def test_greedy_suppression_breaks_ties_in_input_order_and_keeps_similarity_equal_to_the_threshold():
    apart = np.eye(3)
    np.testing.assert_array_equal(greedy_suppression(apart, [0.5, 0.9, 0.5], 0.5), [1, 0, 2])
    many = np.tile([0.5, 0.9, 0.5], 20)  # long enough for an unstable sort to reorder equal scores
    expected = np.r_[np.arange(1, 60, 3), np.sort(np.r_[np.arange(0, 60, 3), np.arange(2, 60, 3)])]
    np.testing.assert_array_equal(greedy_suppression(np.eye(60), many, 0.5), expected)
    same = np.ones((3, 3))
    np.testing.assert_array_equal(greedy_suppression(same, [0.5, 0.5, 0.5], 0.9), [0])
    np.testing.assert_array_equal(greedy_suppression(same, [0.5, 0.5, 0.5], 1.0), [0, 1, 2])


def test_greedy_suppression_reads_an_asymmetric_measure_from_the_kept_row():
    similarity = np.array([[1.0, 0.95], [0.1, 1.0]])  # 0 finds 1 similar; 1 does not find 0 similar
    np.testing.assert_array_equal(greedy_suppression(similarity, [0.9, 0.1], 0.9), [0])
    np.testing.assert_array_equal(greedy_suppression(similarity, [0.1, 0.9], 0.9), [1, 0])


def test_boxes_from_keypoints_ignore_unconfident_points_and_pad_about_the_centre():
    keypoints = np.array([[[10, 10], [30, 50], [1000, 1000]], [[0, 0], [5, 5], [9, 9]]], np.float32)
    scores = np.array([[0.9, 0.8, 0.1], [0.9, 0.1, 0.1]], np.float32)
    boxes = boxes_from_keypoints(keypoints, scores, min_score=0.3, padding=1.5)
    # tight box 10..30 x 10..50, grown 1.5 times about its centre (20, 30)
    np.testing.assert_allclose(boxes[0], [5, 0, 35, 60])
    assert np.isnan(boxes[1]).all()  # one confident keypoint is not enough: re-detect this person
    assert boxes.dtype == np.float64
    assert boxes_from_keypoints(np.zeros((0, 17, 2)), np.zeros((0, 17))).shape == (0, 4)


def test_a_float32_score_equal_to_the_threshold_counts():
    keypoints = np.array([[[0, 0], [10, 20]]], np.float32)
    scores = np.full((1, 2), 0.7, np.float32)  # float32(0.7) is a little below 0.7
    boxes = boxes_from_keypoints(keypoints, scores, min_score=0.7, padding=1.0)
    np.testing.assert_allclose(boxes, [[0, 0, 10, 20]])


def test_boxes_from_coinciding_keypoints_ask_for_a_new_detection_without_warnings():
    """Untrained or collapsed poses put every keypoint on one pixel: a zero-size box would crop nothing."""
    keypoints = np.full((1, 17, 2), 42.0, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        boxes = boxes_from_keypoints(keypoints, np.ones((1, 17), np.float32))
    assert np.isnan(boxes).all()


def test_boxes_from_keypoints_refuse_shrinking_and_mismatched_shapes():
    with pytest.raises(ValueError, match="padding must be >= 1"):
        boxes_from_keypoints(np.zeros((1, 17, 2)), np.ones((1, 17)), padding=0.9)
    with pytest.raises(ValueError, match=r"\(N, K, 2\).*\(1, 17, 2\) and \(1, 5\)"):
        boxes_from_keypoints(np.zeros((1, 17, 2)), np.ones((1, 5)))
