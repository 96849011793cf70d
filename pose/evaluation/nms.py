"""Instance rescoring and OKS-based non-maximum suppression, as mmpose 0.x ``TopDownCocoDataset.evaluate``."""

from __future__ import annotations

import numpy as np

from pose.geometry import greedy_suppression, oks_matrix

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


def oks_nms(
    keypoints: np.ndarray,
    scores: np.ndarray,
    areas: np.ndarray,
    sigmas: np.ndarray,
    threshold: float = OKS_THRESHOLD,
) -> np.ndarray:
    """Greedy NMS: keep the best pose, drop every other with OKS above ``threshold`` to it, repeat.

    OKS over all keypoints, each pair scaled by its mean area (mmpose ``oks_iou``).

    Args:
        keypoints: ``(N, K, 2)`` poses of one image, image pixels.
        scores: ``(N,)`` instance scores.
        areas: ``(N,)`` instance areas (crop width x height, square pixels).
        sigmas: ``(K,)`` OKS sigmas.

    Returns:
        Indices of the kept poses, best first, int64.
    """
    areas = np.asarray(areas, np.float64)
    pair_areas = (areas[:, None] + areas[None, :]) / 2 + np.spacing(1)
    return greedy_suppression(oks_matrix(keypoints, keypoints, pair_areas, sigmas), scores, threshold)
