"""PCKh, the MPII metric: a keypoint is correct within ``t x 0.6 x head-box diagonal`` of the truth.

As mmpose's ``TopDownMpiiDataset.evaluate`` (from the HRNet code): per-keypoint rates over the labelled
keypoints, then a mean weighted by each keypoint's count, leaving out pelvis and thorax.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pose.skeleton import Skeleton

HEAD_SIZE_FACTOR = 0.6
"""The head size is 0.6 x the head-box diagonal (MPII's ``SC_BIAS``)."""
EXCLUDED_KEYPOINTS = ("pelvis", "thorax")
"""Left out of the mean, as in the MPII benchmark scripts."""


@dataclass(frozen=True)
class PCKhReport:
    """PCKh results in percent.

    Attributes:
        pckh: PCKh@0.5, the headline number.
        pckh_at_0_1: PCKh@0.1.
        per_keypoint: PCKh@0.5 per keypoint name (every keypoint, including the excluded ones).
    """

    pckh: float
    pckh_at_0_1: float
    per_keypoint: dict[str, float]


def pckh(
    predicted: np.ndarray,
    truth: np.ndarray,
    visible: np.ndarray,
    head_boxes: np.ndarray,
    skeleton: Skeleton,
) -> PCKhReport:
    """PCKh@0.5 and @0.1.

    Args:
        predicted, truth: ``(N, K, 2)`` pixels (any common origin; only distances matter).
        visible: ``(N, K)`` 1 where the truth is labelled.
        head_boxes: ``(N, 4)`` ``(x1, y1, x2, y2)`` head boxes, pixels.
        skeleton: keypoint names; :data:`EXCLUDED_KEYPOINTS` are left out of the mean.
    """
    labelled = np.asarray(visible) > 0
    head_size = HEAD_SIZE_FACTOR * np.linalg.norm(head_boxes[:, 2:4] - head_boxes[:, 0:2], axis=1)
    error = np.linalg.norm(np.asarray(predicted) - np.asarray(truth), axis=2) / head_size[:, None]
    counts = labelled.sum(axis=0)
    included = np.array([name not in EXCLUDED_KEYPOINTS for name in skeleton.keypoints]) & (counts > 0)

    def rate(threshold: float) -> tuple[float, np.ndarray]:
        hits = ((error <= threshold) & labelled).sum(axis=0)
        per_keypoint = 100.0 * hits / np.maximum(counts, 1)
        return float(100.0 * hits[included].sum() / max(counts[included].sum(), 1)), per_keypoint

    at_half, per_keypoint = rate(0.5)
    at_tenth, _ = rate(0.1)
    names = dict(zip(skeleton.keypoints, (float(v) for v in per_keypoint), strict=True))
    return PCKhReport(pckh=at_half, pckh_at_0_1=at_tenth, per_keypoint=names)
