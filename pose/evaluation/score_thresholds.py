"""Keypoint-score thresholds measured for one set of weights.

A model's keypoint scores (its heatmap peaks) have a scale of their own: weights early in training peak
lower than converged ones, so no single number tells a person from the background for every weights file.
The app takes two decisions on a person's mean keypoint score: re-detect at once when a followed person's
crop may have slipped off them, and drop a detection that holds no pose. Both thresholds are measured when
weights are shipped, as percentiles of the mean score on people with human labels (ground-truth boxes,
flip on, as the app runs), and recorded in the weights file (see ``main.py distill --ship``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

REDETECT_PERCENTILE = 10.0
"""About this share (%) of correctly framed people score below the re-detect threshold."""
MIN_POSE_PERCENTILE = 2.0
"""About this share (%) of real people would be dropped as false detections."""


@dataclass(frozen=True)
class ScoreThresholds:
    """Mean keypoint scores in [0, 1] below which the app re-detects a followed person (``redetect``) or
    drops a detection (``min_pose``); ``people``: how many labelled people they were measured on."""

    redetect: float
    min_pose: float
    people: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> ScoreThresholds:
        """The thresholds a weights file records; ``ValueError`` when a field is missing or out of range."""
        try:
            thresholds = cls(float(values["redetect"]), float(values["min_pose"]), int(values["people"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"score thresholds need 'redetect', 'min_pose' and 'people': {error}") from None
        if not (0.0 <= thresholds.min_pose <= 1.0 and 0.0 <= thresholds.redetect <= 1.0):
            raise ValueError(f"score thresholds must lie in [0, 1]: {thresholds}")
        return thresholds


def thresholds_from_scores(mean_scores: np.ndarray) -> ScoreThresholds:
    """Thresholds from ``(N,)`` mean keypoint scores of N >= 1 real people, rounded to 3 decimals."""
    scores = np.asarray(mean_scores, np.float64).reshape(-1)
    if not len(scores):
        raise ValueError("no people to measure score thresholds on")
    redetect, min_pose = np.percentile(scores, [REDETECT_PERCENTILE, MIN_POSE_PERCENTILE])
    return ScoreThresholds(round(float(redetect), 3), round(float(min_pose), 3), len(scores))
