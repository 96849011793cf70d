"""How alike two sets of people are for the tracker and the pipeline; the formulas are ``pose.geometry``'s.

Here OKS counts only the keypoints both poses are sure of and is scaled by the first set's box areas
(at least 1 square pixel), so a track's own size sets how far its keypoints may move.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pose.geometry import box_areas, greedy_suppression, oks_matrix


def people_oks(
    keypoints_a: np.ndarray,
    scores_a: np.ndarray,
    boxes_a: np.ndarray,
    keypoints_b: np.ndarray,
    scores_b: np.ndarray,
    sigmas: Sequence[float],
    min_score: float = 0.0,
) -> np.ndarray:
    """OKS of every person in ``a`` with every person in ``b``.

    Args:
        keypoints_a: ``(M, K, 2)`` image pixels; scores_a: ``(M, K)``; boxes_a: ``(M, 4)`` xyxy, whose
            areas scale the similarity.
        keypoints_b: ``(N, K, 2)``; scores_b: ``(N, K)``.
        sigmas: ``(K,)`` per-keypoint falloff constants (``Skeleton.oks_sigmas``).
        min_score: only keypoints scoring above this in both poses count.

    Returns:
        ``(M, N)`` float64 in [0, 1]; 0 where two people share no keypoint scoring above ``min_score``.
    """
    areas = np.maximum(box_areas(boxes_a), 1.0)[:, None]
    visible_a, visible_b = np.asarray(scores_a) > min_score, np.asarray(scores_b) > min_score
    return oks_matrix(keypoints_a, keypoints_b, areas, sigmas, visible_a, visible_b)


def suppress_duplicate_poses(
    keypoints: np.ndarray,
    scores: np.ndarray,
    boxes: np.ndarray,
    sigmas: Sequence[float],
    threshold: float = 0.9,
) -> np.ndarray:
    """Greedy OKS non-maximum suppression: the indices of the poses kept, best mean score first.

    A pose is dropped when its :func:`people_oks` with an already kept, better-scoring pose exceeds
    ``threshold`` (the same person found twice, e.g. by two overlapping boxes).

    Args:
        keypoints: ``(N, K, 2)`` image pixels; scores: ``(N, K)``; boxes: ``(N, 4)`` xyxy.

    Returns:
        ``(K,)`` int64 indices.
    """
    scores = np.asarray(scores, np.float64)
    similarity = people_oks(keypoints, scores, boxes, keypoints, scores, sigmas)
    return greedy_suppression(similarity, scores.mean(axis=1), threshold)
