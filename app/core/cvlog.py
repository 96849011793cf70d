"""Silencing OpenCV's own log lines while probing (cameras, encoders): we report one clear error instead."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import cv2

_SILENT = 0  # cv2.utils.logging.LOG_LEVEL_SILENT


@contextmanager
def opencv_quiet() -> Iterator[None]:
    """Turn OpenCV logging off inside the block (process-wide; keep the block short)."""
    level = cv2.getLogLevel()
    cv2.setLogLevel(_SILENT)
    try:
        yield
    finally:
        cv2.setLogLevel(level)
