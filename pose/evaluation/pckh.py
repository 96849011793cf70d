"""PCKh (MPII): a joint is correct when within a fraction of the head size of the ground truth.

Head size is ``0.6 * ||head box diagonal||`` (mmpose ``SC_BIAS``). The mean is joint-count weighted (correct /
visible, summed over the counted joints); MPII leaves pelvis and thorax out of it. Coordinates are 0-based
image pixels on both sides, so mmpose's "+1" (its ground truth is MATLAB 1-based) is not needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

HEAD_SIZE_FACTOR = 0.6
EXCLUDED_FROM_MEAN = ("pelvis", "thorax")
"""MPII joints left out of the mean PCKh, matched by keypoint name."""


def pckh(
    predicted: np.ndarray,
    ground_truth: np.ndarray,
    visible: np.ndarray,
    head_boxes: np.ndarray,
    threshold: float = 0.5,
    counted: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """PCKh at ``threshold``.

    Args:
        predicted, ground_truth: ``(N, K, 2)`` image pixels.
        visible: ``(N, K)`` bool, joints with a ground-truth label.
        head_boxes: ``(N, 4)`` ``(x1, y1, x2, y2)`` head rectangles.
        threshold: fraction of the head size (0.5 for PCKh@0.5).
        counted: ``(K,)`` bool, joints that enter the mean (all when None).

    Returns:
        Mean PCKh over counted joints (fraction; 0 when nothing is visible) and ``(K,)`` per-joint
        fractions (nan for a joint never visible).
    """
    visible = np.asarray(visible, dtype=bool)
    head_boxes = np.asarray(head_boxes, dtype=np.float64)
    head_size = HEAD_SIZE_FACTOR * np.linalg.norm(head_boxes[:, 2:] - head_boxes[:, :2], axis=1)
    distance = np.linalg.norm(np.asarray(predicted, np.float64) - ground_truth, axis=-1) / head_size[:, None]
    correct = (distance <= threshold) & visible
    per_joint_visible = visible.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_joint = correct.sum(axis=0) / per_joint_visible
    mask = np.ones(visible.shape[1], bool) if counted is None else np.asarray(counted, dtype=bool)
    total = per_joint_visible[mask].sum()
    mean = float(correct.sum(axis=0)[mask].sum() / total) if total else 0.0
    return mean, per_joint


def counted_joints(names: Sequence[str]) -> np.ndarray:
    """``(K,)`` bool mask: every joint except those named in :data:`EXCLUDED_FROM_MEAN`."""
    return np.array([name not in EXCLUDED_FROM_MEAN for name in names], dtype=bool)
