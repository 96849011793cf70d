"""Annotated video recording with OpenCV, written from a thread behind a bounded queue.

Codec: H.264 (``avc1``) in ``.mp4`` when this OpenCV build can encode it, else MPEG-4 Part 2 (``mp4v``)
with a warning; ``.avi`` files use Motion-JPEG. The opencv-python wheels ship FFmpeg without an H.264
encoder, so on most machines the recording is ``mp4v`` (plays in VLC, browsers may refuse it).

Timing: the video runs at the source's nominal frame rate. For files every processed frame is recorded
once, so the recording has as many frames as the source (never dropped: the queue blocks). For live
sources the last frame is repeated until the next one is due, so the recording plays in real time even
when processing is slower than the camera; if the writer falls behind, frames are dropped and counted.
The file is finalised by :meth:`VideoRecorder.close`, which the run loop calls on errors and Ctrl-C too.
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path

import cv2
import numpy as np

from app.core.cvlog import opencv_quiet
from app.core.sinks.base import Sink, SinkError
from app.core.sinks.metadata import check_writable
from app.core.types import Frame, FrameResult, RunInfo

log = logging.getLogger(__name__)

CODECS_BY_SUFFIX: dict[str, tuple[tuple[str, str], ...]] = {
    ".mp4": (("avc1", "H.264"), ("mp4v", "MPEG-4 Part 2")),
    ".m4v": (("avc1", "H.264"), ("mp4v", "MPEG-4 Part 2")),
    ".mov": (("avc1", "H.264"), ("mp4v", "MPEG-4 Part 2")),
    ".avi": (("MJPG", "Motion JPEG"),),
}
DEFAULT_FPS = 30.0
"""Frame rate of recordings of sources that announce none (single images)."""
QUEUE_FRAMES = 32
_STOP = None


def open_writer(path: Path, fps: float, size: tuple[int, int]) -> tuple[cv2.VideoWriter, str, str]:
    """The first encoder for ``path``'s suffix that opens: ``(writer, fourcc, codec name)``."""
    candidates = CODECS_BY_SUFFIX.get(path.suffix.lower())
    if candidates is None:
        raise SinkError(f"cannot record to '{path}': use a .mp4, .m4v, .mov or .avi file name")
    for fourcc, name in candidates:
        with opencv_quiet():
            writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*fourcc), fps, size)
        if writer.isOpened():
            if fourcc != candidates[0][0]:
                log.warning("no %s encoder in this OpenCV build; recording '%s' as %s (%s) instead",
                            candidates[0][1], path.name, name, fourcc)
            return writer, fourcc, name
        writer.release()
    raise SinkError(f"cannot record to '{path}': no video encoder could be opened for {path.suffix}")


class VideoRecorder(Sink):
    """Records the annotated frames of a run to ``path``.

    Attributes (valid after ``open``): ``fourcc`` and ``codec`` in use, ``fps`` of the file;
    ``frames_written`` and ``dropped_frames`` (live sources only) count as the writer thread goes.
    """

    needs_annotated = True

    def __init__(self, path: str | Path, queue_frames: int = QUEUE_FRAMES) -> None:
        self.path = Path(path)
        self.fourcc: str | None = None
        self.codec: str | None = None
        self.fps = DEFAULT_FPS
        self.frames_written = 0
        self.dropped_frames = 0
        self._queue: queue.Queue[tuple[np.ndarray, int] | None] = queue.Queue(maxsize=queue_frames)
        self._writer: cv2.VideoWriter | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._size = (0, 0)
        self._live = False
        self._start_s: float | None = None
        self._scheduled = 0

    def open(self, info: RunInfo) -> VideoRecorder:
        check_writable(self.path, "recording")
        self.fps = info.source.fps or DEFAULT_FPS
        self._size, self._live = info.source.size, info.source.is_live
        self._writer, self.fourcc, self.codec = open_writer(self.path, self.fps, self._size)
        log.info("recording %s at %.3g fps with %s (%s)", self.path, self.fps, self.codec, self.fourcc)
        self._thread = threading.Thread(target=self._write_loop, name="recorder", daemon=True)
        self._thread.start()
        return self

    def write(self, frame: Frame, result: FrameResult, annotated: np.ndarray | None = None) -> None:
        if self._writer is None:
            raise SinkError(f"recording '{self.path}' is not open")
        self._raise_writer_error()
        image = frame.image if annotated is None else annotated
        if (image.shape[1], image.shape[0]) != self._size:
            image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
        item = (image, self._repeats_before(frame.timestamp_s))
        if not self._live:
            self._queue.put(item)
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped_frames += 1
            self._scheduled -= item[1] + 1

    def close(self) -> None:
        if self._writer is None:
            return
        self._queue.put(_STOP)
        self._thread.join()
        self._writer.release()
        self._writer = self._thread = None
        log.info("recorded %d frames to %s", self.frames_written, self.path)
        self._raise_writer_error()

    def _repeats_before(self, timestamp_s: float) -> int:
        """How often to repeat the previous frame before this one: 0 for files; for live sources, enough to
        place this frame at its timestamp."""
        if not self._live:
            return 0
        if self._start_s is None:
            self._start_s = timestamp_s
        slot = round((timestamp_s - self._start_s) * self.fps)
        repeats = max(0, slot - self._scheduled)
        self._scheduled += repeats + 1
        return repeats

    def _write_loop(self) -> None:
        previous: np.ndarray | None = None
        while (item := self._queue.get()) is not _STOP:
            image, repeats = item
            if self._error is not None:
                continue
            try:
                for _ in range(repeats if previous is not None else 0):
                    self._writer.write(previous)
                    self.frames_written += 1
                self._writer.write(image)
                self.frames_written += 1
            except cv2.error as error:
                self._error = error
            previous = image

    def _raise_writer_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise SinkError(f"cannot write recording '{self.path}': {error}") from error
