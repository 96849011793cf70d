"""Video files and network streams (RTSP, HTTP) read with OpenCV's FFmpeg backend; container timestamps."""

from __future__ import annotations

from pathlib import Path

import cv2

from app.core.cvlog import opencv_quiet
from app.core.errors import path_problem, shown
from app.core.sources.base import FrameSource, SourceError
from app.core.types import Frame, SourceInfo

TRUNCATION_TOLERANCE = 0.02
"""A file may end this fraction of its announced frame count early (container estimates) before it counts as
truncated; at least 2 frames are always tolerated."""

class VideoFileSource(FrameSource):
    """Frames of a video file, in order, none dropped.

    Timestamps are the container's presentation times (``CAP_PROP_POS_MSEC``), so variable-frame-rate files
    keep their real timing; should a container report none, a frame is placed one nominal frame interval after
    the previous one. A file that stops well before its announced frame count raises :class:`SourceError`.
    """

    kind = "video"

    def __init__(self, path: str | Path) -> None:
        super().__init__(str(path))
        self.path = Path(path)
        self._capture: cv2.VideoCapture | None = None
        self._next_index = 0
        self._last_timestamp_s = -1.0

    def _target(self) -> str:
        """What FFmpeg opens, once checked to exist; raises :class:`SourceError`."""
        name = f"cannot open video '{shown(self.path)}'"
        try:
            if not self.path.exists():
                raise SourceError(f"{name}: no such file")
            if not self.path.is_file():
                raise SourceError(f"{name}: not a file")
        except OSError as error:
            raise SourceError(f"{name}: {path_problem(error)}") from error
        return str(self.path)

    def _unreadable(self) -> str:
        return (f"cannot open video '{shown(self.path)}': not a video file, damaged, or a format FFmpeg "
                "cannot read")

    def _open(self) -> SourceInfo:
        with opencv_quiet():
            capture = cv2.VideoCapture(self._target(), cv2.CAP_FFMPEG)
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if not capture.isOpened() or width <= 0 or height <= 0:
            capture.release()
            raise SourceError(self._unreadable())
        fps = capture.get(cv2.CAP_PROP_FPS)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self._capture = capture
        self._next_index = 0
        self._last_timestamp_s = -1.0
        return SourceInfo(
            spec=self.spec,
            kind=self.kind,
            size=(width, height),
            fps=fps if fps > 0 else None,
            frame_count=count if count > 0 else None,
            is_live=self._is_live(count),
        )

    def _is_live(self, frame_count: int) -> bool:
        return False

    def _read(self) -> Frame | None:
        ok, image = self._capture.read()
        if not ok or image is None:
            self._check_complete()
            return None
        frame = Frame(image=image, index=self._next_index, timestamp_s=self._timestamp_s())
        self._next_index += 1
        self._last_timestamp_s = frame.timestamp_s
        return frame

    def _timestamp_s(self) -> float:
        container_s = self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        if container_s > self._last_timestamp_s or self._next_index == 0:
            return max(container_s, 0.0)
        step = 1.0 / self.info.fps if self.info.fps else 1.0 / 30.0
        return self._last_timestamp_s + step

    def _check_complete(self) -> None:
        expected = self.info.frame_count
        if expected is None:
            return
        tolerated = max(2, round(expected * TRUNCATION_TOLERANCE))
        if self._next_index < expected - tolerated:
            raise SourceError(
                f"video '{self.path}' ended after {self._next_index} of its {expected} frames: "
                "the file is truncated or damaged (results up to that point were kept)"
            )

    def _close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


URL_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "srt", "udp", "tcp")
"""Network sources FFmpeg reads; a spec starting ``SCHEME://`` is a URL, never a path."""
LIVE_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "srt", "udp", "tcp")


def is_url(spec: str) -> bool:
    """Whether ``spec`` is a network stream URL (``rtsp://...``, ``http(s)://...``: :data:`URL_SCHEMES`)."""
    scheme, separator, _ = spec.partition("://")
    return bool(separator) and scheme.lower() in URL_SCHEMES


class StreamSource(VideoFileSource):
    """A network stream or remote file by URL (kept as given: a path would turn ``//`` into ``/``).

    RTSP, RTMP, SRT, UDP and TCP streams are live; HTTP(S) is live unless it announces a frame count.
    """

    kind = "stream"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url

    def _target(self) -> str:
        return self.url

    def _unreadable(self) -> str:
        return (f"cannot open stream '{shown(self.url)}': no answer, refused, or not a video stream "
                "(check the address, the port and that the server is running)")

    def _is_live(self, frame_count: int) -> bool:
        return self.url.partition("://")[0].lower() in LIVE_SCHEMES or frame_count <= 0
