"""The offline fallback: OpenCV's HOG + linear SVM people detector (Dalal-Triggs), with no download ever.

It scans an image pyramid whose largest level is sized so that the smallest person looked for fills the
HOG window; small frames are therefore upscaled, and the cost per frame hardly depends on the resolution.
Each level is scored by ``cv2.HOGDescriptor.detect`` with OpenCV's default people SVM, which ships inside
opencv-python (OpenCV 4; OpenCV 5 moved HOG to contrib, hence the pin in pyproject.toml).
Much weaker than YOLO (upright, mostly whole people), so it is always labelled as the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from detectors.base import Detections, check_bgr_image
from pose.geometry import greedy_suppression, intersection_over_smaller

WINDOW_WH = (64, 128)
"""Size of the HOG detection window (width, height) in pixels."""
WINDOW_STRIDE = (8, 8)
"""Step between scored windows (x, y) in pixels of a pyramid level: one HOG cell."""

_PERSON_IN_WINDOW = (16, 16, 48, 112)
"""Where the person stands inside the 64x128 training window (x1, y1, x2, y2): about 96 px tall, centred."""


@dataclass(frozen=True)
class HogConfig:
    """Settings of the HOG fallback.

    Attributes:
        hit_threshold: SVM margin a window needs to count as a person (OpenCV's 0 gives many false hits).
        smallest_person: height of the smallest person looked for, as a fraction of the frame height.
        scale_step: ratio between successive pyramid levels (smaller is slower and finds more).
        nms_overlap: a window is dropped when more than this fraction of it (or of the better window,
            whichever is smaller) lies inside a better window. Overlapping HOG hits are mostly one person seen
            at neighbouring positions and scales, which plain IoU on narrow person boxes fails to merge.
    """

    hit_threshold: float = 0.5
    smallest_person: float = 0.125
    scale_step: float = 1.2
    nms_overlap: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.smallest_person <= 1:
            raise ValueError(
                f"smallest_person is a fraction of the frame height in (0, 1], got {self.smallest_person}"
            )
        if self.scale_step <= 1:
            raise ValueError(f"scale_step must be > 1, got {self.scale_step}")


def pyramid_scales(image_hw: tuple[int, int], config: HogConfig) -> list[float]:
    """Resize factors of the pyramid levels, largest first; every level still holds one HOG window."""
    height, width = image_hw
    person_px = _PERSON_IN_WINDOW[3] - _PERSON_IN_WINDOW[1]
    scale = person_px / (config.smallest_person * height)
    scales = []
    while round(height * scale) >= WINDOW_WH[1] and round(width * scale) >= WINDOW_WH[0]:
        scales.append(scale)
        scale /= config.scale_step
    return scales


def _people_svm() -> cv2.HOGDescriptor:
    descriptor = cv2.HOGDescriptor()
    descriptor.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return descriptor


def _level_hits(
    descriptor: cv2.HOGDescriptor, image: np.ndarray, scale: float, hit_threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Windows (x1, y1, x2, y2 in `image` pixels) and SVM margins above threshold at one pyramid level."""
    height, width = image.shape[:2]
    level = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_LINEAR)
    corners, margins = descriptor.detect(level, hitThreshold=hit_threshold, winStride=WINDOW_STRIDE)
    corners = np.asarray(corners, np.float32).reshape(-1, 2)
    windows = np.concatenate([corners, corners + np.asarray(WINDOW_WH, np.float32)], axis=1) / scale
    return windows, np.asarray(margins, np.float32).reshape(-1)


def person_boxes(windows: np.ndarray) -> np.ndarray:
    """(N, 4) person boxes from (N, 4) HOG windows: the part of each window the person stands in."""
    corners = np.concatenate([windows[:, :2], windows[:, :2]], axis=1)
    scale = (windows[:, 2:3] - windows[:, 0:1]) / WINDOW_WH[0]
    return corners + np.asarray(_PERSON_IN_WINDOW, np.float32) * scale


class HogDetector:
    """HOG people detector (see the module docstring); scores are sigmoid(SVM margin), not calibrated."""

    name = "hog"
    is_fallback = True

    def __init__(self, config: HogConfig | None = None, notice: str | None = None) -> None:
        self.config = config or HogConfig()
        self.notice = notice
        self.description = "HOG people detector (offline fallback, weaker than YOLO)"
        self._descriptor = _people_svm()

    def __call__(self, image: np.ndarray) -> Detections:
        check_bgr_image(image)
        hits = [
            _level_hits(self._descriptor, image, scale, self.config.hit_threshold)
            for scale in pyramid_scales(image.shape[:2], self.config)
        ]
        if not hits:
            return Detections.empty()
        windows = np.concatenate([level_windows for level_windows, _ in hits])
        margins = np.concatenate([level_margins for _, level_margins in hits])
        overlap = intersection_over_smaller(windows, windows)
        keep = greedy_suppression(overlap, margins, self.config.nms_overlap)
        return Detections(person_boxes(windows[keep]), 1 / (1 + np.exp(-margins[keep])))
