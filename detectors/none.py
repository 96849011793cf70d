"""`"none"`: no detector, the whole frame is one person (a single person in front of a webcam)."""

from __future__ import annotations

import numpy as np

from detectors.base import Detections, check_bgr_image


class WholeFrameDetector:
    """Returns one box covering the whole frame, score 1."""

    name = "none"
    description = "no detector: the whole frame is one person"
    is_fallback = False

    def __init__(self, notice: str | None = None) -> None:
        self.notice = notice

    def __call__(self, image: np.ndarray) -> Detections:
        check_bgr_image(image)
        height, width = image.shape[:2]
        return Detections(np.array([[0, 0, width, height]], np.float32), np.ones(1, np.float32))
