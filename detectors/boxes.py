"""Box geometry in numpy: boxes from keypoints, IoU and NMS.

Boxes are (N, 4) float arrays (x1, y1, x2, y2) in image pixels, x right, y down; width is x2 - x1.

Image border: `boxes_from_keypoints` never clips. Clipping a box to the image would move its centre, so the
pose crop would be shifted; instead the crop reads zeros (black) outside the image, as mmpose's affine crop
does. The crop's aspect fix (3:4 for a 256x192 input) is `pose.transforms.box_to_center_size`'s job.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _as_boxes(xyxy: np.ndarray) -> np.ndarray:
    boxes = np.asarray(xyxy, dtype=np.float32)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must be (N, 4) x1, y1, x2, y2; got shape {boxes.shape}")
    return boxes


def boxes_from_keypoints(
    keypoints: np.ndarray, scores: np.ndarray, min_score: float = 0.3, padding: float = 1.25
) -> np.ndarray:
    """Box around each person's confident keypoints, scaled by `padding` about its centre.

    Used between detector runs to follow people from their last pose (as MediaPipe and rtmlib do).

    Args:
        keypoints: (N, K, 2) keypoint positions, image pixels.
        scores: (N, K) keypoint confidences.
        min_score: keypoints scoring below this are ignored.
        padding: factor >= 1 on width and height of the tight box.

    Returns:
        (N, 4) float32 boxes. A person with fewer than 2 confident keypoints, or whose confident keypoints
        all lie within one pixel, gets a row of NaN: its box cannot be derived, so the caller should run
        the detector again.
    """
    if padding < 1:
        raise ValueError(f"padding must be >= 1 so the box is never shrunk, got {padding}")
    points = np.asarray(keypoints, dtype=np.float32)
    confidence = np.asarray(scores, dtype=np.float32)
    if points.ndim != 3 or points.shape[2] != 2 or confidence.shape != points.shape[:2]:
        raise ValueError(
            f"keypoints must be (N, K, 2) and scores (N, K); got {points.shape} and {confidence.shape}"
        )
    confident = (confidence >= min_score)[..., None]
    lower = np.where(confident, points, np.inf).min(axis=1)
    upper = np.where(confident, points, -np.inf).max(axis=1)
    underivable = (confident.sum(axis=(1, 2)) < 2) | ((upper - lower).max(axis=1, initial=0) < 1)
    lower[underivable], upper[underivable] = np.nan, np.nan
    centre, half = (lower + upper) / 2, (upper - lower) * (padding / 2)
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    return boxes.astype(np.float32)


def box_areas(xyxy: np.ndarray) -> np.ndarray:
    """(N,) areas of (N, 4) boxes; boxes with x2 < x1 or y2 < y1 count as empty."""
    boxes = _as_boxes(xyxy)
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def intersection_areas(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) areas of the intersections of boxes a (N, 4) and b (M, 4)."""
    a, b = _as_boxes(a), _as_boxes(b)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    return np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection over union of boxes a (N, 4) and b (M, 4); 0 where both are empty."""
    inter = intersection_areas(a, b)
    union = box_areas(a)[:, None] + box_areas(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def intersection_over_smaller(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection area over the area of the smaller box; 1 when one box holds the other."""
    inter = intersection_areas(a, b)
    smaller = np.minimum(box_areas(a)[:, None], box_areas(b)[None, :])
    return np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)


def nms(
    xyxy: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    overlap: Callable[[np.ndarray, np.ndarray], np.ndarray] = iou_matrix,
) -> np.ndarray:
    """Greedy non-maximum suppression.

    Args:
        xyxy: (N, 4) boxes.
        scores: (N,) scores, higher is better.
        threshold: a box is dropped when its overlap with a better kept box exceeds this.
        overlap: pairwise overlap measure, (N, 4) x (M, 4) -> (N, M): `iou_matrix` (default) or
            `intersection_over_smaller`, which also drops boxes nested in a better one.

    Returns:
        (K,) int64 indices of the kept boxes, best score first.
    """
    order = np.argsort(-np.asarray(scores), kind="stable")
    overlaps = overlap(xyxy, xyxy)
    keep: list[int] = []
    for index in order:
        if all(overlaps[index, kept] <= threshold for kept in keep):
            keep.append(int(index))
    return np.asarray(keep, dtype=np.int64)
