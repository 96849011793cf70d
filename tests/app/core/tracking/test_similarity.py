"""The tracker's OKS (sure keypoints only, scaled by the first set's boxes) and duplicate-pose suppression."""

from __future__ import annotations

import numpy as np
from scripted_people import pose_in_box

from app.core.tracking.similarity import people_oks, suppress_duplicate_poses
from pose.skeleton import COCO

SIGMAS = COCO.oks_sigmas


def test_people_oks_ignores_keypoints_either_pose_is_unsure_of():
    box = np.array([[100, 100, 160, 260.0]])
    pose = pose_in_box(box[0])[None]
    other = pose.copy()
    other[0, 9:11] += 300  # wrists far away...
    scores = np.full((1, 17), 0.9)
    scores_b = scores.copy()
    scores_b[0, 9:11] = 0.1  # ...but unsure
    assert people_oks(pose, scores, box, other, scores, SIGMAS, min_score=0.3)[0, 0] < 0.9
    assert people_oks(pose, scores, box, other, scores_b, SIGMAS, min_score=0.3)[0, 0] == 1.0
    assert people_oks(pose, scores, box, other, np.zeros((1, 17)), SIGMAS, min_score=0.3)[0, 0] == 0.0


def test_people_oks_is_scaled_by_the_first_sets_boxes_at_least_one_square_pixel():
    pose = pose_in_box(np.array([100, 100, 160, 260.0]))[None]
    scores = np.full((1, 17), 0.9)
    small, large = np.array([[0, 0, 10, 10.0]]), np.array([[0, 0, 100, 100.0]])
    near = people_oks(pose, scores, small, pose + 2.0, scores, SIGMAS)[0, 0]
    assert people_oks(pose, scores, large, pose + 2.0, scores, SIGMAS)[0, 0] > near
    point, unit = np.array([[5, 5, 5, 5.0]]), np.array([[0, 0, 1, 1.0]])  # an empty box counts as 1 px^2
    assert people_oks(pose, scores, point, pose + 0.1, scores, SIGMAS)[0, 0] == people_oks(
        pose, scores, unit, pose + 0.1, scores, SIGMAS)[0, 0] > 0.0


def test_duplicate_poses_are_suppressed_keeping_the_best():
    box = np.array([100, 100, 160, 260.0])
    pose = pose_in_box(box)
    keypoints = np.stack([pose, pose + 1.0, pose_in_box(box + 200)])
    scores = np.stack([np.full(17, 0.5), np.full(17, 0.9), np.full(17, 0.7)])
    boxes = np.stack([box, box + 1.0, box + 200])
    assert suppress_duplicate_poses(keypoints, scores, boxes, SIGMAS).tolist() == [1, 2]
    # ranked by mean keypoint score: a pose sure of most keypoints beats one evenly fair about all
    uneven = np.full(17, 0.7)
    uneven[0] = 0.0
    assert suppress_duplicate_poses(keypoints[:2], np.stack([np.full(17, 0.6), uneven]), boxes[:2],
                                    SIGMAS).tolist() == [1]
    nobody = suppress_duplicate_poses(np.zeros((0, 17, 2)), np.zeros((0, 17)), np.zeros((0, 4)), SIGMAS)
    assert nobody.size == 0
