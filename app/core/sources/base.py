"""The frame-source interface: ``open`` / ``read`` / ``close``, a context manager and an iterator."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from types import TracebackType

from app.core.errors import SourceError
from app.core.types import Frame, SourceInfo

__all__ = ["FrameSource", "SourceError"]


class FrameSource(ABC):
    """A stream of BGR frames with timestamps.

    Use as ``with open_source("clip.mp4") as source: for frame in source: ...``. ``read()`` returns the next
    :class:`Frame`, or None at the end of a finite source; it raises :class:`SourceError` when the source
    fails (e.g. a truncated file or an unplugged camera). File sources never drop frames; live sources hand
    over the latest frame and count the ones they discarded in :attr:`dropped_frames`.
    """

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self._info: SourceInfo | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def open(self) -> FrameSource:
        """Open the source (idempotent); raises :class:`SourceError` naming what is wrong."""
        if self._info is None:
            self._info = self._open()
        return self

    @abstractmethod
    def _open(self) -> SourceInfo:
        """Acquire the underlying resource and describe it."""

    def read(self) -> Frame | None:
        """The next frame, or None at the end of a finite source; raises :class:`SourceError` on failure."""
        if self._info is None:
            raise SourceError(f"source '{self.spec}' is not open: call open() or use it in a 'with' block")
        return self._read()

    @abstractmethod
    def _read(self) -> Frame | None:
        """The next frame of the open source."""

    def close(self) -> None:
        """Release the underlying resource (idempotent)."""
        if self._info is not None:
            self._close()
            self._info = None

    @abstractmethod
    def _close(self) -> None:
        """Release what ``_open`` acquired."""

    def __enter__(self) -> FrameSource:
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        while (frame := self.read()) is not None:
            yield frame

    # -- description -----------------------------------------------------------------------------
    @property
    def info(self) -> SourceInfo:
        """What the open source is (size, nominal fps, frame count, liveness)."""
        if self._info is None:
            raise SourceError(f"source '{self.spec}' is not open: call open() or use it in a 'with' block")
        return self._info

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return self.info.size

    @property
    def fps(self) -> float | None:
        """Nominal frame rate (frames per second), or None when unknown."""
        return self.info.fps

    @property
    def frame_count(self) -> int | None:
        """Number of frames when known in advance, else None."""
        return self.info.frame_count

    @property
    def is_live(self) -> bool:
        return self.info.is_live

    @property
    def dropped_frames(self) -> int:
        """Frames discarded so far because the consumer was slower than the source (live sources only)."""
        return 0
