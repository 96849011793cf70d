"""Box and keypoint geometry shared by detectors, pose evaluation, distillation and the app. numpy only.

Conventions: boxes are ``(N, 4)`` ``(x1, y1, x2, y2)`` in image pixels, x right, y down (width ``x2 - x1``);
keypoints are ``(N, K, 2)`` image pixels. Every function computes in float64 and returns float64 (indices:
int64), whatever the input dtype.

Pairwise measures (:func:`iou_matrix`, :func:`intersection_over_smaller`, :func:`oks_matrix`) return an
``(M, N)`` matrix; :func:`greedy_suppression` turns any such matrix of a set with itself into the
indices kept by greedy non-maximum suppression.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _boxes(boxes: np.ndarray) -> np.ndarray:
    """``boxes`` as an ``(N, 4)`` float64 array; a ValueError naming the shape otherwise."""
    array = np.asarray(boxes, np.float64)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"boxes must be (N, 4) x1, y1, x2, y2; got shape {array.shape}")
    return array


def box_areas(boxes: np.ndarray) -> np.ndarray:
    """``(N,)`` areas in square pixels of ``(N, 4)`` boxes; a box with x2 < x1 or y2 < y1 has area 0."""
    boxes = _boxes(boxes)
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def intersection_areas(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(M, N)`` intersection areas in square pixels of boxes ``a`` ``(M, 4)`` and ``b`` ``(N, 4)``."""
    a, b = _boxes(a), _boxes(b)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    return np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(M, N)`` intersection over union in [0, 1] of boxes ``a`` ``(M, 4)`` and ``b`` ``(N, 4)``.

    0 where the union is empty (two empty boxes).
    """
    intersection = intersection_areas(a, b)
    union = box_areas(a)[:, None] + box_areas(b)[None, :] - intersection
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)


def intersection_over_smaller(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(M, N)`` intersection area over the area of the smaller of the two boxes, in [0, 1].

    1 when one box holds the other; 0 where the smaller box is empty.
    """
    intersection = intersection_areas(a, b)
    smaller = np.minimum(box_areas(a)[:, None], box_areas(b)[None, :])
    return np.divide(intersection, smaller, out=np.zeros_like(intersection), where=smaller > 0)


def keypoint_similarity(
    keypoints_a: np.ndarray, keypoints_b: np.ndarray, areas: np.ndarray, sigmas: Sequence[float]
) -> np.ndarray:
    """COCO's per-keypoint OKS term ``exp(-d^2 / (2 area (2 sigma)^2))``, one per keypoint.

    Args:
        keypoints_a, keypoints_b: ``(..., K, 2)`` image pixels; the leading axes broadcast against each
            other, e.g. ``(P, K, 2)`` with ``(P, K, 2)`` for matched pairs.
        areas: object scale in square pixels, broadcastable to the leading axes; must be > 0.
        sigmas: ``(K,)`` per-keypoint falloff constants (``Skeleton.oks_sigmas``).

    Returns:
        ``(..., K)`` float64 in [0, 1]: 1 where the two keypoints coincide.
    """
    variances = (2.0 * np.asarray(sigmas, np.float64)) ** 2
    difference = np.asarray(keypoints_a, np.float64) - np.asarray(keypoints_b, np.float64)
    squared = np.sum(difference**2, axis=-1)
    return np.exp(-squared / (2.0 * np.asarray(areas, np.float64)[..., None] * variances))


def oks_matrix(
    keypoints_a: np.ndarray,
    keypoints_b: np.ndarray,
    areas: np.ndarray,
    sigmas: Sequence[float],
    visible_a: np.ndarray | None = None,
    visible_b: np.ndarray | None = None,
) -> np.ndarray:
    """Object keypoint similarity (OKS) of every pose in ``a`` with every pose in ``b``.

    Args:
        keypoints_a: ``(M, K, 2)`` and keypoints_b: ``(N, K, 2)``, image pixels.
        areas: object scale in square pixels (> 0), broadcastable to ``(M, N)``: e.g. ``(M, 1)`` for the
            ``a`` poses' own areas, or the mean area of each pair.
        sigmas: ``(K,)`` per-keypoint falloff constants.
        visible_a: ``(M, K)`` and visible_b: ``(N, K)`` bool, the keypoints that count; when both are
            None every keypoint counts.

    Returns:
        ``(M, N)`` float64 in [0, 1]: the mean of :func:`keypoint_similarity` over the keypoints visible
        in both poses; 0 where two poses share no visible keypoint.
    """
    keypoints_a = np.asarray(keypoints_a, np.float64)
    keypoints_b = np.asarray(keypoints_b, np.float64)
    terms = keypoint_similarity(keypoints_a[:, None], keypoints_b[None], areas, sigmas)
    if visible_a is None and visible_b is None:
        return terms.mean(axis=2)
    shared = np.ones(terms.shape, bool)
    if visible_a is not None:
        shared &= np.asarray(visible_a, bool)[:, None]
    if visible_b is not None:
        shared &= np.asarray(visible_b, bool)[None]
    counts = shared.sum(axis=2)
    total = np.sum(terms * shared, axis=2)
    return np.divide(total, counts, out=np.zeros_like(total), where=counts > 0)


def greedy_suppression(similarity: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression over a precomputed similarity matrix.

    Candidates are visited best score first (ties in input order); each is kept unless its similarity
    to an already kept one exceeds ``threshold``.

    Args:
        similarity: ``(N, N)``; ``similarity[kept, candidate]`` is compared, so an asymmetric measure is
            read from the kept item's row.
        scores: ``(N,)``, higher is better.
        threshold: largest similarity to a kept item that a kept item may have.

    Returns:
        ``(K,)`` int64 indices of the kept items, best score first.
    """
    similarity = np.asarray(similarity, np.float64)
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    kept: list[int] = []
    for index in order:
        if np.all(similarity[kept, index] <= threshold):
            kept.append(int(index))
    return np.asarray(kept, np.int64)


def boxes_from_keypoints(
    keypoints: np.ndarray, scores: np.ndarray, min_score: float = 0.3, padding: float = 1.25
) -> np.ndarray:
    """Box around each person's confident keypoints, scaled by ``padding`` about its centre.

    Used between detector runs to follow people from their last pose (as MediaPipe and rtmlib do). The
    box is never clipped to the image: clipping would move its centre and shift the pose crop, which
    instead reads zeros outside the image (as mmpose's affine crop does).

    Args:
        keypoints: ``(N, K, 2)`` image pixels.
        scores: ``(N, K)`` keypoint confidences; keypoints scoring below ``min_score`` are ignored.
        min_score: confidence from which a keypoint counts.
        padding: factor >= 1 on the width and height of the tight box.

    Returns:
        ``(N, 4)`` float64 boxes. A person with fewer than 2 confident keypoints, or whose confident
        keypoints all lie within one pixel, gets a row of NaN: its box cannot be derived, so the caller
        should run the detector again.
    """
    if padding < 1:
        raise ValueError(f"padding must be >= 1 so the box is never shrunk, got {padding}")
    points = np.asarray(keypoints, np.float64)
    confidence = np.asarray(scores)  # own dtype: a float32 score equal to float32(min_score) counts
    if points.ndim != 3 or points.shape[2] != 2 or confidence.shape != points.shape[:2]:
        raise ValueError(
            f"keypoints must be (N, K, 2) and scores (N, K); got {points.shape} and {confidence.shape}"
        )
    confident = (confidence >= min_score)[..., None]
    lower = np.where(confident, points, np.inf).min(axis=1)
    upper = np.where(confident, points, -np.inf).max(axis=1)
    underivable = (upper - lower).max(axis=1, initial=0) < 1  # also when fewer than 2 are confident
    lower[underivable], upper[underivable] = np.nan, np.nan
    centre, half = (lower + upper) / 2, (upper - lower) * (padding / 2)
    return np.concatenate([centre - half, centre + half], axis=1)
