"""PCK: a joint is correct when within a fraction of a person's size of the ground truth.

PCKh (MPII) uses the head size; PCK@0.2 (LSP) the torso diameter, from the left shoulder to the right hip
(:func:`torso_sizes`).

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


def pck(
    predicted: np.ndarray,
    ground_truth: np.ndarray,
    visible: np.ndarray,
    sizes: np.ndarray,
    threshold: float,
    counted: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """Percentage of correct keypoints: within ``threshold * size`` of the ground truth, per person.

    Args:
        predicted, ground_truth: ``(N, K, 2)`` image pixels.
        visible: ``(N, K)`` bool, joints with a ground-truth label.
        sizes: ``(N,)`` the normalising length of each person (head size, torso diameter...), pixels.
        threshold: fraction of the size.
        counted: ``(K,)`` bool, joints that enter the mean (all when None).

    Returns:
        Mean over counted joints (fraction, joint-count weighted; 0 when nothing is visible) and ``(K,)``
        per-joint fractions (nan for a joint never visible).
    """
    visible = np.asarray(visible, dtype=bool)
    sizes = np.asarray(sizes, dtype=np.float64)
    distance = np.linalg.norm(np.asarray(predicted, np.float64) - ground_truth, axis=-1) / sizes[:, None]
    correct = (distance <= threshold) & visible
    per_joint_visible = visible.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_joint = correct.sum(axis=0) / per_joint_visible
    mask = np.ones(visible.shape[1], bool) if counted is None else np.asarray(counted, dtype=bool)
    total = per_joint_visible[mask].sum()
    mean = float(correct.sum(axis=0)[mask].sum() / total) if total else 0.0
    return mean, per_joint


def pckh(
    predicted: np.ndarray,
    ground_truth: np.ndarray,
    visible: np.ndarray,
    head_boxes: np.ndarray,
    threshold: float = 0.5,
    counted: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """PCKh at ``threshold``: :func:`pck` normalised by the head size of each ``(N, 4)`` head box."""
    head_boxes = np.asarray(head_boxes, dtype=np.float64)
    head_size = HEAD_SIZE_FACTOR * np.linalg.norm(head_boxes[:, 2:] - head_boxes[:, :2], axis=1)
    return pck(predicted, ground_truth, visible, head_size, threshold, counted)


def counted_joints(names: Sequence[str]) -> np.ndarray:
    """``(K,)`` bool mask: every joint except those named in :data:`EXCLUDED_FROM_MEAN`."""
    return np.array([name not in EXCLUDED_FROM_MEAN for name in names], dtype=bool)


TORSO_ENDS = ("left_shoulder", "right_hip")
"""The torso diameter of LSP's PCK: from the left shoulder to the right hip (keypoint names)."""


def torso_sizes(ground_truth: np.ndarray, visible: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """``(N,)`` torso diameters in pixels; nan where either end is unlabelled.

    Args:
        ground_truth: ``(N, K, 2)`` pixels. visible: ``(N, K)`` bool. names: the K keypoint names.
    """
    a, b = (list(names).index(name) for name in TORSO_ENDS)
    size = np.linalg.norm(np.asarray(ground_truth, np.float64)[:, a] - ground_truth[:, b], axis=-1)
    both = np.asarray(visible, bool)[:, a] & np.asarray(visible, bool)[:, b]
    return np.where(both & (size > 0), size, np.nan)
