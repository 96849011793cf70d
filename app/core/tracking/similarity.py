"""How alike two sets of people are: box IoU and object keypoint similarity (OKS). Pure numpy functions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def box_areas(boxes: np.ndarray) -> np.ndarray:
    """``(N, 4)`` xyxy boxes -> ``(N,)`` areas in square pixels (0 for degenerate boxes)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (M, 4) with every box in ``b`` (N, 4), xyxy -> (M, N) in [0, 1]."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    intersection = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    union = box_areas(a)[:, None] + box_areas(b)[None, :] - intersection
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)


def oks_matrix(
    keypoints_a: np.ndarray,
    scores_a: np.ndarray,
    keypoints_b: np.ndarray,
    scores_b: np.ndarray,
    areas: np.ndarray,
    sigmas: Sequence[float],
    min_score: float = 0.0,
) -> np.ndarray:
    """COCO object keypoint similarity of every pose in ``a`` with every pose in ``b``.

    Args:
        keypoints_a: ``(M, K, 2)`` image pixels; ``scores_a``: ``(M, K)`` in [0, 1].
        keypoints_b: ``(N, K, 2)``; ``scores_b``: ``(N, K)``.
        areas: ``(M,)`` object scale (square pixels) of the ``a`` poses, e.g. their box areas.
        sigmas: ``(K,)`` per-keypoint falloff constants (``Skeleton.oks_sigmas``).
        min_score: only keypoints scoring above this in both poses count.

    Returns:
        ``(M, N)`` in [0, 1]: the mean over shared keypoints of ``exp(-d^2 / (2 area (2 sigma)^2))``;
        0 where two poses share no keypoint.
    """
    keypoints_a = np.asarray(keypoints_a, np.float64)
    keypoints_b = np.asarray(keypoints_b, np.float64)
    if not len(keypoints_a) or not len(keypoints_b):
        return np.zeros((len(keypoints_a), len(keypoints_b)))
    variances = (2.0 * np.asarray(sigmas, np.float64)) ** 2
    squared = np.sum((keypoints_a[:, None] - keypoints_b[None]) ** 2, axis=3)
    scale = 2.0 * np.maximum(np.asarray(areas, np.float64), 1.0)[:, None, None] * variances
    shared = (np.asarray(scores_a)[:, None] > min_score) & (np.asarray(scores_b)[None] > min_score)
    counts = shared.sum(axis=2)
    total = np.sum(np.exp(-squared / scale) * shared, axis=2)
    return np.divide(total, counts, out=np.zeros_like(total), where=counts > 0)


def suppress_duplicate_poses(
    keypoints: np.ndarray,
    scores: np.ndarray,
    boxes: np.ndarray,
    sigmas: Sequence[float],
    threshold: float = 0.9,
) -> np.ndarray:
    """Greedy OKS non-maximum suppression: the indices of the poses kept, best mean score first.

    A pose is dropped when its OKS with an already kept, better-scoring pose exceeds ``threshold``
    (the same person found twice, e.g. by two overlapping boxes).
    """
    scores = np.asarray(scores, np.float64)
    order = np.argsort(-scores.mean(axis=1), kind="stable") if len(scores) else np.zeros(0, np.int64)
    similarity = oks_matrix(keypoints, scores, keypoints, scores, box_areas(boxes), sigmas)
    kept: list[int] = []
    for index in order:
        if all(similarity[kept_index, index] <= threshold for kept_index in kept):
            kept.append(int(index))
    return np.asarray(kept, np.int64)
