"""The sink interface: ``open(info)`` / ``write(frame, result, annotated)`` / ``close()``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType

import numpy as np

from app.core.errors import SinkError
from app.core.types import Frame, FrameResult, RunInfo

__all__ = ["Sink", "SinkError"]


class Sink(ABC):
    """Receives every processed frame of a run.

    ``open(info)`` creates the output (raising :class:`SinkError` naming the path when it cannot), ``write``
    is called once per processed frame in order, and ``close`` finalises the output so that it stays valid
    even when the run stopped on an error or Ctrl-C. ``with sink.open(info): ...`` closes it for you.

    Attributes:
        needs_annotated: True when ``write`` needs the rendered overlay (the run loop renders only if some
            consumer asks for it).
    """

    needs_annotated: bool = False

    @abstractmethod
    def open(self, info: RunInfo) -> Sink:
        """Create the output for a run of ``info.source`` through ``info.pipeline``; returns self."""

    @abstractmethod
    def write(self, frame: Frame, result: FrameResult, annotated: np.ndarray | None = None) -> None:
        """Add one processed frame; ``annotated`` is the ``(H, W, 3)`` BGR overlay if ``needs_annotated``."""

    @abstractmethod
    def close(self) -> None:
        """Finalise the output (idempotent; safe after a failed ``open``)."""

    def __enter__(self) -> Sink:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
