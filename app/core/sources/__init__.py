"""Frame sources: video files, cameras, images and image folders behind one interface (:class:`FrameSource`).

``open_source(spec)`` picks the implementation: an int (or a string of digits) is a camera index, a URL
(``rtsp://``, ``http(s)://``, ...) a network stream, a folder an image sequence, a file with an image suffix
one image; anything else is read as a video file.
"""

from __future__ import annotations

from pathlib import Path

from app.core.errors import path_problem, shown
from app.core.sources.base import FrameSource, SourceError
from app.core.sources.camera import CameraSource
from app.core.sources.images import IMAGE_SUFFIXES, ImageSource
from app.core.sources.video import StreamSource, VideoFileSource, is_url

__all__ = [
    "CameraSource",
    "FrameSource",
    "ImageSource",
    "SourceError",
    "StreamSource",
    "VideoFileSource",
    "is_url",
    "make_source",
    "open_source",
]


def make_source(spec: str | int | Path, fps: float | None = None, photos: bool = False) -> FrameSource:
    """The right (unopened) source for ``spec``; ``fps`` sets the frame rate of an image folder, ``photos``
    makes its images separate scenes (:class:`ImageSource`); a SourceError when ``photos`` is asked of a
    camera, stream or video."""
    source = _pick_source(spec, fps, photos)
    if photos and not isinstance(source, ImageSource):
        raise SourceError(f"'{shown(spec)}' is a video, camera or stream: only an image or a folder of "
                          "images can be taken as separate photos")
    return source


def _pick_source(spec: str | int | Path, fps: float | None, photos: bool) -> FrameSource:
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        return CameraSource(int(spec))
    if isinstance(spec, str) and is_url(spec):
        return StreamSource(spec)
    path = Path(spec)
    try:
        is_dir = path.is_dir()
    except OSError as error:  # e.g. a name over 255 bytes
        raise SourceError(f"cannot open '{shown(path)}': {path_problem(error)}") from error
    if is_dir or path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSource(path, fps=fps, photos=photos)
    return VideoFileSource(path)


def open_source(spec: str | int | Path, fps: float | None = None, photos: bool = False) -> FrameSource:
    """Open ``spec`` (camera index, video file, image, or image folder); raises :class:`SourceError`."""
    return make_source(spec, fps=fps, photos=photos).open()
