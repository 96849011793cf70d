"""Instance rescoring and OKS-based non-maximum suppression, as mmpose 0.x ``TopDownCocoDataset.evaluate``."""

from __future__ import annotations

import numpy as np

VIS_THRESHOLD = 0.2
OKS_THRESHOLD = 0.9


def rescore(
    box_scores: np.ndarray, keypoint_scores: np.ndarray, vis_threshold: float = VIS_THRESHOLD
) -> np.ndarray:
    """Instance scores: box score times the mean of the keypoint scores above ``vis_threshold``.

    An instance with no keypoint above the threshold scores 0.

    Args:
        box_scores: ``(N,)`` detector (or ground-truth: 1) confidences.
        keypoint_scores: ``(N, K)`` heatmap maxima.

    Returns:
        ``(N,)`` float64.
    """
    confident = keypoint_scores > vis_threshold
    count = confident.sum(axis=1)
    total = np.where(confident, keypoint_scores, 0).sum(axis=1)
    mean = np.divide(total, count, out=np.zeros(len(count)), where=count > 0)
    return np.asarray(box_scores, dtype=np.float64) * mean


def oks(
    keypoints: np.ndarray, others: np.ndarray, area: float, other_areas: np.ndarray, sigmas: np.ndarray
) -> np.ndarray:
    """Object keypoint similarity of one pose with others, over all keypoints (mmpose ``oks_iou``).

    ``OKS = mean_k exp(-d_k^2 / (2 * ((a + a') / 2) * (2 sigma_k)^2))``.

    Args:
        keypoints: ``(K, 2)`` image pixels.
        others: ``(M, K, 2)`` image pixels.
        area, other_areas: instance areas in square pixels, a scalar and ``(M,)``.
        sigmas: ``(K,)`` COCO OKS sigmas.

    Returns:
        ``(M,)`` float64 similarities in [0, 1].
    """
    variances = (2 * np.asarray(sigmas, dtype=np.float64)) ** 2
    squared = ((np.asarray(others, dtype=np.float64) - keypoints) ** 2).sum(axis=-1)
    scale = (area + np.asarray(other_areas, dtype=np.float64)) / 2 + np.spacing(1)
    return np.exp(-squared / variances / scale[:, None] / 2).mean(axis=1)


def oks_nms(
    keypoints: np.ndarray,
    scores: np.ndarray,
    areas: np.ndarray,
    sigmas: np.ndarray,
    threshold: float = OKS_THRESHOLD,
) -> np.ndarray:
    """Greedy NMS: keep the best pose, drop every other with OKS above ``threshold`` to it, repeat.

    Args:
        keypoints: ``(N, K, 2)`` poses of one image, image pixels.
        scores: ``(N,)`` instance scores.
        areas: ``(N,)`` instance areas (crop width x height, square pixels).
        sigmas: ``(K,)`` OKS sigmas.

    Returns:
        Indices of the kept poses, best first, int64.
    """
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep = []
    while len(order):
        best, rest = order[0], order[1:]
        keep.append(best)
        overlap = oks(keypoints[best], keypoints[rest], areas[best], areas[rest], sigmas)
        order = rest[overlap <= threshold]
    return np.array(keep, dtype=np.int64)
