"""Live cameras: a capture thread keeps only the newest frame; frames the consumer missed are counted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import cv2
import numpy as np

from app.core.cvlog import opencv_quiet
from app.core.sources.base import FrameSource, SourceError
from app.core.types import Frame, SourceInfo

FIRST_FRAME_TIMEOUT_S = 5.0
FRAME_TIMEOUT_S = 2.0


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` a camera source uses (tests pass a fake)."""

    def isOpened(self) -> bool: ...  # noqa: N802 (OpenCV's name)
    def read(self) -> tuple[bool, np.ndarray | None]: ...
    def get(self, prop: int) -> float: ...
    def release(self) -> None: ...


class CameraSource(FrameSource):
    """Frames from a camera by index.

    A background thread reads the camera as fast as it delivers and keeps the newest frame with its capture
    time (seconds since the source opened, monotonic clock). ``read()`` waits for a frame newer than the last
    one it returned; every frame overwritten before it was read counts in :attr:`dropped_frames`.

    Args:
        index: camera index as OpenCV numbers them (0 is usually the built-in webcam).
        capture_factory: builds the capture from the index; defaults to ``cv2.VideoCapture``.
    """

    def __init__(self, index: int, capture_factory: Callable[[int], Capture] = cv2.VideoCapture) -> None:
        super().__init__(str(index))
        self.index = index
        self._factory = capture_factory
        self._capture: Capture | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._latest: tuple[np.ndarray, float] | None = None
        self._unread = False
        self._dropped = 0
        self._failure: str | None = None
        self._next_index = 0
        self._t0 = 0.0

    def _open(self) -> SourceInfo:
        with opencv_quiet():
            capture = self._factory(self.index)
        if not capture.isOpened():
            capture.release()
            raise SourceError(
                f"cannot open camera {self.index}: no camera at that index, or another program is using it"
            )
        self._capture = capture
        self._stop.clear()
        self._latest, self._unread, self._dropped, self._failure, self._next_index = None, False, 0, None, 0
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._capture_loop, name=f"camera-{self.index}", daemon=True)
        self._thread.start()
        try:
            image, _ = self._wait_for_frame(FIRST_FRAME_TIMEOUT_S, consume=False)
        except SourceError:
            self._close()
            raise
        fps = capture.get(cv2.CAP_PROP_FPS)
        height, width = image.shape[:2]
        return SourceInfo(spec=self.spec, kind="camera", size=(width, height), fps=fps if fps > 0 else None,
                          frame_count=None, is_live=True)

    def _capture_loop(self) -> None:
        while not self._stop.is_set():
            ok, image = self._capture.read()
            timestamp_s = time.monotonic() - self._t0
            with self._cond:
                if not ok or image is None:
                    self._failure = f"camera {self.index} stopped delivering frames (unplugged or in use?)"
                    self._cond.notify_all()
                    return
                if self._unread:
                    self._dropped += 1
                self._latest, self._unread = (image, timestamp_s), True
                self._cond.notify_all()

    def _wait_for_frame(self, timeout_s: float, consume: bool = True) -> tuple[np.ndarray, float]:
        with self._cond:
            self._cond.wait_for(lambda: self._unread or self._failure is not None, timeout=timeout_s)
            if self._unread:
                self._unread = not consume
                return self._latest
            message = self._failure or f"camera {self.index} delivered no frame for {timeout_s:g} s"
        raise SourceError(message)

    def _read(self) -> Frame | None:
        image, timestamp_s = self._wait_for_frame(FRAME_TIMEOUT_S)
        index, self._next_index = self._next_index, self._next_index + 1
        return Frame(image=image, index=index, timestamp_s=timestamp_s, dropped_frames=self._dropped)

    @property
    def dropped_frames(self) -> int:
        return self._dropped

    def _close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=FRAME_TIMEOUT_S)
            self._thread = None
        if self._capture is not None:
            self._capture.release()
            self._capture = None
