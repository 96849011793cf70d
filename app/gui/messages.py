"""Frozen values the worker thread hands to the window, and how long paths in its texts are shown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from app.core.errors import shown
from app.core.types import FrameResult

ELIDE_CHARS = 60
"""Longest word (a path) a label shows whole: labels wrap at spaces only, so longer widens the window."""


@dataclass(frozen=True)
class LiveStats:
    """How playback keeps up.

    Attributes:
        fps_in: frames per second the source delivers (read, skipped and dropped ones), None until measured.
        fps_out: frames per second processed and shown, None until measured.
        skipped: frames of a file that watch mode read but did not process, to stay in real time.
        dropped: frames a live source discarded because processing was busy.
    """

    fps_in: float | None = None
    fps_out: float | None = None
    skipped: int = 0
    dropped: int = 0


@dataclass(frozen=True, eq=False)
class DisplayFrame:
    """A processed frame ready to paint: the overlay as a QImage, the result, and playback stats."""

    image: QImage
    result: FrameResult
    stats: LiveStats


@dataclass(frozen=True)
class RunReport:
    """How a run that wrote outputs ended: frames processed, files written, whether it was cancelled."""

    frames: int
    paths: tuple[Path, ...]
    cancelled: bool


def qimage_from_bgr(image: np.ndarray) -> QImage:
    """``(H, W, 3)`` BGR uint8 -> a QImage that owns a copy of the pixels (safe to pass between threads)."""
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    return QImage(image.data, width, height, image.strides[0], QImage.Format.Format_BGR888).copy()


def elide_words(text: str, limit: int = ELIDE_CHARS) -> str:
    """``text`` with every word longer than ``limit`` characters cut in its middle (``…``), e.g. a long
    path, so that a label showing it never needs a window wider than the screen (keep the full text in a
    tooltip)."""
    return " ".join(shown(word, limit) for word in text.split(" "))
