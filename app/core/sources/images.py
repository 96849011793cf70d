"""A single image file, or a folder of images played in name order as a sequence."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from app.core.sources.base import FrameSource, SourceError
from app.core.types import Frame, SourceInfo

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
DEFAULT_SEQUENCE_FPS = 30.0
"""Frame rate assumed for a folder of images when none is given (sets timestamps, hence tracker ages)."""
DEFAULT_PHOTOS_FPS = 1.0
"""A folder of separate photos plays one a second unless a rate is given: the GUI's real-time Watch mode
shows each (it skips frames to keep a rate it cannot reach, and 30 photos a second is none of them)."""


def _natural_key(path: Path) -> list[object]:
    """Sort ``img2.png`` before ``img10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError(f"cannot read image '{path}': not an image file, or damaged")
    return image


class ImageSource(FrameSource):
    """One image, or every image of a folder (natural name order) as frames ``fps`` apart.

    Timestamps are ``index / fps``. A folder is frames of one scene (a video's, tracked across images) unless
    ``photos``: then every image is a :attr:`Frame.new_scene`, posed on its own. An image whose size differs
    from the one before is a new scene either way (no video changes size). ``size`` is the first image's.
    """

    def __init__(self, path: str | Path, fps: float | None = None, photos: bool = False) -> None:
        super().__init__(str(path))
        self.path = Path(path)
        self.photos = photos
        self._requested_fps = fps
        self._files: list[Path] = []
        self._next_index = 0
        self._last_shape: tuple[int, ...] | None = None

    def _open(self) -> SourceInfo:
        if not self.path.exists():
            raise SourceError(f"cannot open '{self.path}': no such file or folder")
        if self.path.is_dir():
            images = (p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            files = sorted(images, key=_natural_key)
            if not files:
                suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
                raise SourceError(f"cannot open folder '{self.path}': it holds no images ({suffixes})")
            kind = "images"
            fps = self._requested_fps or (DEFAULT_PHOTOS_FPS if self.photos else DEFAULT_SEQUENCE_FPS)
        else:
            files, kind, fps = [self.path], "image", self._requested_fps
        height, width = _read_image(files[0]).shape[:2]
        self._files = files
        self._next_index = 0
        self._last_shape = None
        return SourceInfo(spec=self.spec, kind=kind, size=(width, height), fps=fps,
                          frame_count=len(files), is_live=False)

    def _read(self) -> Frame | None:
        if self._next_index >= len(self._files):
            return None
        index = self._next_index
        image = _read_image(self._files[index])
        self._next_index += 1
        timestamp_s = index / self.info.fps if self.info.fps else 0.0
        new_scene = index > 0 and (self.photos or image.shape != self._last_shape)
        self._last_shape = image.shape
        return Frame(image=image, index=index, timestamp_s=timestamp_s, new_scene=new_scene)

    def _close(self) -> None:
        self._files = []
        self._last_shape = None
