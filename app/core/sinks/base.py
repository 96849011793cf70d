"""The sink interface: ``open(info)`` / ``write(frame, result, annotated)`` / ``close()``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

import numpy as np

from app.core.errors import SinkError
from app.core.sinks.outputs import Output
from app.core.types import Frame, FrameResult, RunInfo

__all__ = ["RunOutcome", "Sink", "SinkError", "SinkStats"]

Ended = Literal["finished", "interrupted", "failed"]


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended, as the metadata records it.

    Attributes:
        ended: ``"finished"`` (the source ended, or ``max_frames`` was reached), ``"interrupted"`` (a signal
            or a stop request) or ``"failed"`` (an error, e.g. a truncated source).
        frames: frames processed.
        signal: the signal's name (``"SIGTERM"``) when one interrupted the run, else None.
        error: the error's one-line message when the run failed, else None.
    """

    ended: Ended
    frames: int
    signal: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class SinkStats:
    """What a sink has written, for summaries and reports (callers never need to know the sink's type).

    Attributes:
        paths: the files it has put in place: empty until it is closed, and when it wrote nothing.
        frames: frames written.
        dropped_frames: frames it dropped because its writer fell behind (live recordings only).
        detail: how it wrote them, for people (``"H.264, libx264, 640x480"``); ``""`` when nothing to add.
    """

    paths: tuple[Path, ...] = ()
    frames: int = 0
    dropped_frames: int = 0
    detail: str = ""


class Sink(ABC):
    """Receives every processed frame of a run.

    ``open(info)`` creates the output (raising :class:`SinkError` naming the path when it cannot), ``write``
    is called once per processed frame in order, and ``close`` finalises the output so that it stays valid
    even when the run stopped on an error or Ctrl-C. ``with sink.open(info): ...`` closes it for you.

    The run loop calls :meth:`end` with the :class:`RunOutcome` just before ``close``; files are written
    under a temporary name and moved into place by ``close`` (:mod:`app.core.sinks.outputs`).

    Attributes:
        needs_annotated: True when ``write`` needs the rendered overlay (the run loop renders only if some
            consumer asks for it).
        outcome: how the run ended, once :meth:`end` was called (None before).
    """

    needs_annotated: bool = False
    outcome: RunOutcome | None = None

    @abstractmethod
    def outputs(self) -> tuple[Output, ...]:
        """The files this sink writes, for :func:`~app.core.sinks.outputs.check_outputs`."""

    @property
    @abstractmethod
    def stats(self) -> SinkStats:
        """The files put in place and the frames written so far."""

    @abstractmethod
    def open(self, info: RunInfo) -> Sink:
        """Create the output for a run of ``info.source`` through ``info.pipeline``; returns self."""

    @abstractmethod
    def write(self, frame: Frame, result: FrameResult, annotated: np.ndarray | None = None) -> None:
        """Add one processed frame; ``annotated`` is the ``(H, W, 3)`` BGR overlay if ``needs_annotated``."""

    def end(self, outcome: RunOutcome) -> None:
        """Record how the run ended (before ``close``)."""
        self.outcome = outcome

    @abstractmethod
    def close(self) -> None:
        """Finalise the output (idempotent; safe after a failed ``open``)."""

    def __enter__(self) -> Sink:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
