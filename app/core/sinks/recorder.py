"""Annotated video recording, encoded on a thread behind a bounded queue (:mod:`app.core.sinks.encoders`).

Codec: H.264 (libx264 through PyAV, yuv420p, CRF 23) in a fragmented ``.mp4``/``.m4v``/``.mov``, which plays
in browsers and survives a killed run up to its last fragment; OpenCV's ``mp4v`` only when PyAV cannot open
an encoder (said once); ``.avi`` is Motion JPEG.

Timing: every frame keeps its source timestamp (the CSV's ``time_s``), so variable frame rates survive and a
live recording plays in real time however slow processing was. For files every processed frame is recorded
(never dropped: the queue blocks). For live sources, if the encoder falls behind, frames are dropped and
counted. Odd sizes are padded (edge pixels repeated) to even ones, as yuv420p needs, never cropped.

The file is written as ``NAME.partial-XXXXXX.SUFFIX`` and moved into place by :meth:`VideoRecorder.close`,
which the run loop calls on errors, stop requests and signals too.
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path

import cv2
import numpy as np

from app.core.sinks.base import Sink, SinkError, SinkStats
from app.core.sinks.encoders import RECORDING_SUFFIXES, Encoder, open_encoder
from app.core.sinks.outputs import (
    Output,
    check_outputs,
    commit_partial,
    discard_partial,
    reserve_partial,
    shown,
)
from app.core.types import Frame, FrameResult, RunInfo

log = logging.getLogger(__name__)

DEFAULT_FPS = 30.0
"""Nominal frame rate of recordings of sources that announce none (single images)."""
QUEUE_FRAMES = 32
_STOP = None


def even_size(size: tuple[int, int]) -> tuple[int, int]:
    """``(width, height)`` rounded up to even numbers: 17x13 -> 18x14."""
    width, height = size
    return width + width % 2, height + height % 2


def fit_frame(image: np.ndarray, source_size: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """``(H, W, 3)`` BGR at ``source_size``, then padded right and bottom to ``size``. An image of another
    size (a folder of photos) is scaled to fit inside ``source_size``, aspect kept, centred on black."""
    if (image.shape[1], image.shape[0]) != source_size:
        image = _letterboxed(image, source_size)
    right, bottom = size[0] - source_size[0], size[1] - source_size[1]
    if right or bottom:
        image = cv2.copyMakeBorder(image, 0, bottom, 0, right, cv2.BORDER_REPLICATE)
    return image


def _letterboxed(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` scaled to fit inside ``size`` (width, height), aspect kept, centred on a black canvas."""
    height, width = image.shape[:2]
    scale = min(size[0] / width, size[1] / height)
    fitted = (max(1, round(width * scale)), max(1, round(height * scale)))
    shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    canvas = np.zeros((size[1], size[0], 3), np.uint8)
    left, top = (size[0] - fitted[0]) // 2, (size[1] - fitted[1]) // 2
    canvas[top:top + fitted[1], left:left + fitted[0]] = cv2.resize(image, fitted, interpolation=shrink)
    return canvas


class VideoRecorder(Sink):
    """Records the annotated frames of a run to ``path``.

    Attributes (valid after ``open``): ``codec`` and ``encoder`` in use, ``fps`` (nominal) and ``size`` of
    the file; ``frames_written`` and ``dropped_frames`` (live sources only) count as the writer thread goes
    (:attr:`stats` says the same, with the file once it is in place).
    """

    needs_annotated = True

    def __init__(self, path: str | Path, queue_frames: int = QUEUE_FRAMES, label: str = "recording") -> None:
        self.path = Path(path)
        self.label = label
        self.codec: str | None = None
        self.encoder: str | None = None
        self.fps = DEFAULT_FPS
        self.size = (0, 0)
        self.partial_path: Path | None = None
        self.frames_written = 0
        self.dropped_frames = 0
        self._queue: queue.Queue[tuple[np.ndarray, float] | None] = queue.Queue(maxsize=queue_frames)
        self._encoder: Encoder | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._source_size = (0, 0)
        self._live = False
        self._written: tuple[Path, ...] = ()

    @property
    def stats(self) -> SinkStats:
        detail = f"{self.codec}, {self.encoder}, {self.size[0]}x{self.size[1]}" if self.codec else ""
        return SinkStats(paths=self._written, frames=self.frames_written, dropped_frames=self.dropped_frames,
                         detail=detail)

    def outputs(self) -> tuple[Output, ...]:
        return (Output(self.label, self.path, RECORDING_SUFFIXES),)

    def open(self, info: RunInfo) -> VideoRecorder:
        check_outputs(self.outputs(), inputs=[info.source.spec])
        self.fps = info.source.fps or DEFAULT_FPS
        self._source_size, self._live = info.source.size, info.source.is_live
        self.size = even_size(self._source_size)
        if self.size != self._source_size:
            log.warning("recording %dx%d padded to %dx%d (H.264 needs even sizes)",
                        *self._source_size, *self.size)
        self.partial_path = reserve_partial(self.path)
        try:
            self._encoder = open_encoder(self.partial_path, self.fps, self.size, real_time=self._live)
        except SinkError:
            discard_partial(self.partial_path)
            raise
        self.codec, self.encoder = self._encoder.codec, self._encoder.encoder
        log.info("recording %s at %.3g fps with %s (%s)", shown(self.path), self.fps, self.codec,
                 self.encoder)
        self._thread = threading.Thread(target=self._write_loop, name="recorder", daemon=True)
        self._thread.start()
        return self

    def write(self, frame: Frame, result: FrameResult, annotated: np.ndarray | None = None) -> None:
        if self._encoder is None:
            raise SinkError(f"{self.label} '{shown(self.path)}' is not open")
        self._raise_writer_error()
        image = fit_frame(frame.image if annotated is None else annotated, self._source_size, self.size)
        item = (image, frame.timestamp_s)
        if not self._live:
            self._queue.put(item)
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped_frames += 1

    def close(self) -> None:
        """Finish encoding and move the file into place; removed instead if encoding failed or no frame came
        (an empty file would not play), so an earlier recording at :attr:`path` is then kept."""
        if self._encoder is None:
            return
        self._queue.put(_STOP)
        self._thread.join()
        encoder, self._encoder, self._thread = self._encoder, None, None
        try:
            encoder.close()
        except Exception as error:  # av.FFmpegError, cv2.error: the file is not valid
            self._error = self._error or error
        if self._error is not None or self.frames_written == 0:
            discard_partial(self.partial_path)
            self._raise_writer_error()
            log.warning("no frame to record: '%s' not written", shown(self.path))
            return
        commit_partial(self.partial_path, self.path)
        self._written = (self.path,)
        log.info("recorded %d frames to %s", self.frames_written, shown(self.path))

    def _write_loop(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            if self._error is not None:
                continue
            try:
                self.frames_written += self._encoder.write(*item)
            except Exception as error:  # av.FFmpegError, cv2.error (a full disk): reported by write/close
                self._error = error

    def _raise_writer_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise SinkError(f"cannot write {self.label} '{shown(self.path)}': {error}") from error
