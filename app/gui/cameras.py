"""Which camera indices answer. Qt-free; the camera dialog runs it off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.core.errors import SourceError
from app.core.sources import CameraSource, FrameSource

PROBED_INDICES = range(5)
"""Indices tried by default: enough for a laptop camera plus a few USB ones, quick when none answer."""


@dataclass(frozen=True)
class CameraFound:
    """A camera that opened and delivered a frame: its index and frame size ``(width, height)``."""

    index: int
    size: tuple[int, int]


def probe_cameras(
    indices: Iterable[int] = PROBED_INDICES, open_camera: Callable[[int], FrameSource] = CameraSource
) -> list[CameraFound]:
    """Open each index in turn (the core's camera source: a frame must arrive) and close it again."""
    found = []
    for index in indices:
        source = open_camera(index)
        try:
            source.open()
        except SourceError:
            continue
        try:
            found.append(CameraFound(index, source.info.size))
        finally:
            source.close()
    return found
