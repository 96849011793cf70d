"""Footage to label: videos (optionally a frame range) and still images, read frame by frame."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


@dataclass(frozen=True)
class Footage:
    """Frames ``start, start + every, ...`` (below ``stop``) of a video, or one still image.

    Written on the command line as ``PATH`` or ``PATH@START:STOP`` (0-based frames, stop exclusive).
    """

    path: Path
    start: int = 0
    stop: int | None = None
    every: int = 1

    @property
    def is_image(self) -> bool:
        return self.path.suffix.lower() in IMAGE_SUFFIXES

    @property
    def name(self) -> str:
        """A file-name-safe identifier: parent folder and stem (``videos_cam01``)."""
        return f"{self.path.parent.name}_{self.path.stem}".replace(" ", "_")

    def frame_name(self, index: int) -> str:
        """The file-name stem a labelled frame is written under (``videos_cam01_000120``)."""
        return f"{self.name}_{index:06d}"

    def describe(self) -> str:
        if self.is_image:
            return str(self.path)
        stop = "end" if self.stop is None else str(self.stop)
        return f"{self.path} frames {self.start}..{stop} (exclusive) every {self.every}"

    def frames(self) -> Iterator[tuple[int, np.ndarray]]:
        """``(frame index, BGR uint8 frame)`` pairs.

        Raises:
            FileNotFoundError: the file does not exist or cannot be decoded.
        """
        if not self.path.is_file():
            raise FileNotFoundError(f"footage '{self.path}' does not exist")
        if self.is_image:
            image = cv2.imread(str(self.path), cv2.IMREAD_COLOR)
            if image is None:
                raise FileNotFoundError(f"cannot decode image '{self.path}'")
            yield 0, image
            return
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise FileNotFoundError(f"cannot open video '{self.path}': unsupported codec or not a video")
        try:
            index = 0
            while self.stop is None or index < self.stop:
                ok, frame = capture.read()
                if not ok:
                    break
                if index >= self.start and (index - self.start) % self.every == 0:
                    yield index, frame
                index += 1
        finally:
            capture.release()


def parse_footage(text: str, every: int = 1) -> Footage:
    """``"clip.mp4"`` or ``"clip.mp4@100:200"`` as :class:`Footage` sampled every ``every`` frames."""
    if every < 1:
        raise ValueError(f"--every must be at least 1, got {every}")
    path, sep, frames = text.rpartition("@")
    if not sep:
        return Footage(Path(text), every=every)
    start, _colon, stop = frames.partition(":")
    try:
        return Footage(Path(path), int(start or 0), int(stop) if stop else None, every)
    except ValueError:
        raise ValueError(f"footage {text!r}: write PATH or PATH@START:STOP with integer frames") from None
