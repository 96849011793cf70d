"""Helpers the GUI tests import (fixtures live in conftest.py): clip constants, a clip writer, waits."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from app.gui.main_window import MainWindow

CLIP_FRAMES = 8
CLIP_FPS = 10.0
CLIP_SIZE = (128, 96)  # width, height
READY_TIMEOUT_MS = 60_000
"""Generous limits for a loaded 2-core CI machine; tests wait on signals and finish as soon as they come."""


def write_clip(path: Path, frames: int = CLIP_FRAMES, fps: float = CLIP_FPS) -> Path:
    """A small MPEG-4 clip: a bright 'person' rectangle walking right over a dark gradient."""
    width, height = CLIP_SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write mp4v here"
    background = np.tile(np.linspace(20, 80, width, dtype=np.uint8)[None, :, None], (height, 1, 3))
    for index in range(frames):
        image = background.copy()
        left = 10 + index * 8
        cv2.rectangle(image, (left, 15), (left + 30, 85), (200, 180, 160), -1)
        writer.write(image)
    writer.release()
    return path


def open_paused(qtbot, window: MainWindow, spec: str) -> None:
    """Open ``spec`` in process mode (it shows the first frame, then waits) until that frame is on screen."""
    window.transport.set_mode("process")
    shown = window.view.frames_shown
    window.open_source(spec)
    qtbot.waitUntil(lambda: window.view.frames_shown > shown and window.transport.play_button.isEnabled(),
                    timeout=READY_TIMEOUT_MS)
