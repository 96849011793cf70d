"""Box IoU, OKS and duplicate-pose suppression used by the tracker and the pipeline."""

from __future__ import annotations

import numpy as np
from scripted_people import pose_in_box

from app.core.tracking.similarity import iou_matrix, oks_matrix, suppress_duplicate_poses
from pose.skeleton import COCO

SIGMAS = COCO.oks_sigmas


def test_iou_of_known_boxes():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 0, 0]])
    np.testing.assert_allclose(iou_matrix(a, b), [[1.0, 50 / 150, 0.0, 0.0]])


def test_oks_is_one_for_the_same_pose_and_falls_with_distance():
    box = np.array([100, 100, 160, 260.0])
    pose = pose_in_box(box)[None]
    scores = np.full((1, 17), 0.9)
    area = np.array([60 * 160.0])
    shifted = [oks_matrix(pose, scores, pose + dx, scores, area, SIGMAS)[0, 0] for dx in (0, 5, 20, 80)]
    assert shifted[0] == 1.0
    assert shifted[0] > shifted[1] > shifted[2] > shifted[3] >= 0.0
    assert shifted[3] < 0.05


def test_oks_ignores_unconfident_keypoints():
    pose = pose_in_box(np.array([100, 100, 160, 260.0]))[None]
    other = pose.copy()
    other[0, 9:11] += 300  # wrists far away...
    scores = np.full((1, 17), 0.9)
    scores_b = scores.copy()
    scores_b[0, 9:11] = 0.1  # ...but unsure
    area = np.array([60 * 160.0])
    assert oks_matrix(pose, scores, other, scores_b, area, SIGMAS, min_score=0.3)[0, 0] == 1.0
    assert oks_matrix(pose, scores, other, np.zeros((1, 17)), area, SIGMAS, min_score=0.3)[0, 0] == 0.0


def test_duplicate_poses_are_suppressed_keeping_the_best():
    box = np.array([100, 100, 160, 260.0])
    pose = pose_in_box(box)
    keypoints = np.stack([pose, pose + 1.0, pose_in_box(box + 200)])
    scores = np.stack([np.full(17, 0.5), np.full(17, 0.9), np.full(17, 0.7)])
    boxes = np.stack([box, box + 1.0, box + 200])
    assert suppress_duplicate_poses(keypoints, scores, boxes, SIGMAS).tolist() == [1, 2]
    nobody = suppress_duplicate_poses(np.zeros((0, 17, 2)), np.zeros((0, 17)), np.zeros((0, 4)), SIGMAS)
    assert nobody.size == 0
