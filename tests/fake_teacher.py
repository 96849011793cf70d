"""A fake single-person teacher for the distillation tests: red blobs are people (no MediaPipe needed)."""

from __future__ import annotations

import cv2
import numpy as np

from pose.train.distill.teacher import TeacherOutput

PERSON_COLOUR = (0, 0, 255)


def paint_person(frame: np.ndarray, x1: int, y1: int, x2: int, y2: int) -> None:
    frame[y1:y2, x1:x2] = PERSON_COLOUR


def is_red(image: np.ndarray) -> np.ndarray:
    """Pixels close to :data:`PERSON_COLOUR` (tolerant of video compression)."""
    blue, green, red = image[..., 0].astype(int), image[..., 1].astype(int), image[..., 2].astype(int)
    return (red > 180) & (green < 80) & (blue < 80)


class RedBlobTeacher:
    """Finds the largest pure-red blob and 'labels' it: landmarks spread over its box, mask = its pixels.

    Like BlazePose it reports one person per call, normalised to the image it was given.
    """

    def __init__(self, visibility: float = 0.9) -> None:
        self.visibility = visibility
        self.calls = 0

    def __call__(self, image: np.ndarray) -> TeacherOutput | None:
        self.calls += 1
        count, components, stats, _ = cv2.connectedComponentsWithStats(
            is_red(image).astype(np.uint8)
        )
        if count < 2:
            return None
        red = components == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        rows, cols = np.nonzero(red)
        x1, x2, y1, y2 = cols.min(), cols.max(), rows.min(), rows.max()
        height, width = red.shape
        landmarks = np.zeros((33, 3), np.float32)
        t = np.linspace(0, 1, 33)
        landmarks[:, 0] = (x1 + (x2 - x1) * (0.2 + 0.6 * t)) / width
        landmarks[:, 1] = (y1 + (y2 - y1) * t) / height
        landmarks[:, 2] = self.visibility
        return TeacherOutput(landmarks=landmarks, mask=red.astype(np.float32))
