"""Video encoders behind one small interface: H.264 through PyAV, MPEG-4 Part 2 / Motion JPEG through OpenCV.

:func:`open_encoder` picks PyAV's libx264 for ``.mp4``, ``.m4v`` and ``.mov``: yuv420p, CRF 23, no B-frames,
a keyframe every 2 s, fragmented MP4 (``frag_keyframe+empty_moov+default_base_moof``, each fragment flushed
to disk), so a killed run leaves a file that plays up to its last fragment, and browsers play it. Each frame
keeps its source timestamp, so variable frame rates survive. Only when PyAV cannot open an encoder does it
fall back to OpenCV's ``mp4v`` (constant rate, browsers refuse it), and says so once. ``.avi`` is Motion JPEG
through OpenCV.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from app.core.cvlog import opencv_quiet
from app.core.errors import SinkError
from app.core.sinks.outputs import shown

log = logging.getLogger(__name__)

H264_SUFFIXES = (".mp4", ".m4v", ".mov")
RECORDING_SUFFIXES = (*H264_SUFFIXES, ".avi")
CRF = 23
"""libx264 constant rate factor (its default: 0 lossless .. 51 worst)."""
PRESET = "veryfast"
"""libx264 speed preset: the encoder shares the CPU with the pose model."""
KEYFRAME_INTERVAL_S = 2.0
"""A keyframe (and an MP4 fragment) every this many seconds: what a killed run loses at most."""
FRAGMENTED_MP4 = "frag_keyframe+empty_moov+default_base_moof"
TIME_BASE = Fraction(1, 90000)
"""Timestamp unit of the H.264 stream (MPEG's 90 kHz clock)."""


class Encoder(Protocol):
    """Writes BGR frames of one fixed (even) size to a file, in order."""

    codec: str
    """Human name of the codec, e.g. ``"H.264"``."""
    encoder: str
    """The encoder in use, e.g. ``"libx264"`` or ``"mp4v"``."""

    def write(self, image: np.ndarray, timestamp_s: float) -> int:
        """Encode ``(H, W, 3)`` BGR uint8 shown at ``timestamp_s`` seconds; returns frames written (>= 1)."""

    def close(self) -> None:
        """Flush and finalise the file."""


class PyAvEncoder:
    """H.264 (libx264) in MP4/MOV through PyAV, with the source's timestamps (variable frame rate kept)."""

    codec = "H.264"
    encoder = "libx264"

    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        import av  # imported here: a missing or broken PyAV means the OpenCV fallback

        muxer = "mov" if path.suffix.lower() == ".mov" else "mp4"
        self._container = av.open(str(path), mode="w", format=muxer,
                                  options={"movflags": FRAGMENTED_MP4, "flush_packets": "1"})
        try:
            stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001),
                                                options={"crf": str(CRF), "preset": PRESET})
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.time_base = stream.codec_context.time_base = TIME_BASE
            stream.codec_context.gop_size = max(1, round(KEYFRAME_INTERVAL_S * fps))
            stream.codec_context.max_b_frames = 0  # presentation = decoding order: timestamps as given
            stream.codec_context.open()
        except Exception:
            self._container.close()
            raise
        self._stream = stream
        self._frame_ticks = max(1, round(1 / (fps * TIME_BASE)))
        self._first_s: float | None = None
        self._last_pts = -1

    def write(self, image: np.ndarray, timestamp_s: float) -> int:
        import av

        if self._first_s is None:
            self._first_s = timestamp_s
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = self._last_pts = max(round((timestamp_s - self._first_s) / TIME_BASE), self._last_pts + 1)
        frame.time_base = TIME_BASE
        self._mux(self._stream.encode(frame))
        return 1

    def close(self) -> None:
        try:
            self._mux(self._stream.encode(None))
        finally:
            self._container.close()

    def _mux(self, packets: list) -> None:
        for packet in packets:
            packet.duration = self._frame_ticks  # the last frame lasts one nominal frame interval
            self._container.mux(packet)


class OpenCvEncoder:
    """OpenCV's FFmpeg writer at a constant ``fps``: ``mp4v`` in MP4/MOV, Motion JPEG in AVI.

    With ``real_time`` (live sources) the previous frame is repeated until a frame's timestamp is due, so the
    file plays in real time; otherwise every frame is written once.
    """

    def __init__(self, path: Path, fps: float, size: tuple[int, int], real_time: bool) -> None:
        self.encoder, self.codec = ("MJPG", "Motion JPEG") if path.suffix.lower() == ".avi" else (
            "mp4v", "MPEG-4 Part 2")
        with opencv_quiet():
            self._writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*self.encoder),
                                           fps, size)
        if not self._writer.isOpened():
            self._writer.release()
            raise SinkError(f"cannot record to '{shown(path)}': OpenCV could not open a {self.codec} encoder")
        self._fps, self._real_time = fps, real_time
        self._first_s: float | None = None
        self._slots = 0
        self._previous: np.ndarray | None = None

    def write(self, image: np.ndarray, timestamp_s: float) -> int:
        if self._first_s is None:
            self._first_s = timestamp_s
        repeats = 0
        if self._real_time and self._previous is not None:
            repeats = max(0, round((timestamp_s - self._first_s) * self._fps) - self._slots)
        for _ in range(repeats):
            self._writer.write(self._previous)
        self._writer.write(image)
        self._slots += repeats + 1
        self._previous = image
        return repeats + 1

    def close(self) -> None:
        self._writer.release()


def open_encoder(path: Path, fps: float, size: tuple[int, int], real_time: bool) -> Encoder:
    """The encoder for ``path``'s suffix (see the module docstring); ``size`` is ``(width, height)``, even.

    Raises:
        SinkError: an unknown suffix, or no encoder could be opened.
    """
    suffix = path.suffix.lower()
    if suffix not in RECORDING_SUFFIXES:
        raise SinkError(f"cannot record to '{shown(path)}': use a {', '.join(RECORDING_SUFFIXES)} file name")
    if suffix in H264_SUFFIXES:
        try:
            return PyAvEncoder(path, fps, size)
        except Exception as error:  # ImportError, av.FFmpegError: any reason PyAV cannot encode here
            log.warning("PyAV cannot open an H.264 encoder (%s); recording '%s' as MPEG-4 Part 2 (mp4v) "
                        "through OpenCV instead (browsers may not play it)", error, path.name)
    return OpenCvEncoder(path, fps, size, real_time)
