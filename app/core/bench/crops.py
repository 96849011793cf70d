"""Square crops around a person box for single-person systems (MoveNet, MediaPipe Pose), and the way back.

Pure geometry: a :class:`Window` is the square of the image that a crop shows; a keypoint at normalised
``(u, v)`` in the crop (0..1, x right, y down) is at ``window.x0 + u * window.side`` in the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

CROP_PADDING = 1.25
"""The window's side is the box's longer side times this, as our top-down crops pad boxes by 1.25."""


@dataclass(frozen=True)
class Window:
    """A square of the image, in pixels: top-left ``(x0, y0)`` and side length (may reach past the image)."""

    x0: float
    y0: float
    side: float


def square_window(box: np.ndarray, padding: float = CROP_PADDING) -> Window:
    """The square centred on ``box`` ``(x1, y1, x2, y2)`` whose side is its longer side times ``padding``."""
    x1, y1, x2, y2 = (float(value) for value in box)
    side = max(x2 - x1, y2 - y1, 1.0) * padding
    return Window((x1 + x2 - side) / 2, (y1 + y2 - side) / 2, side)


def crop_window(image: np.ndarray, window: Window, size: int) -> np.ndarray:
    """``(size, size, C)`` crop of ``image`` showing ``window``, black where the window leaves the image."""
    scale = size / window.side
    matrix = np.array([[scale, 0.0, -window.x0 * scale], [0.0, scale, -window.y0 * scale]])
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))


def window_to_image(normalised: np.ndarray, window: Window) -> np.ndarray:
    """``(K, 2)`` crop-normalised ``(u, v)`` -> ``(K, 2)`` float32 image pixels ``(x, y)``."""
    origin = np.array([window.x0, window.y0], np.float64)
    return (origin + np.asarray(normalised, np.float64) * window.side).astype(np.float32)
