"""The run loop: step a :class:`~app.core.session.RunSession` to its end, then close it with how it ended.

However the loop ends (end of source, ``max_frames``, a stop request, an error, Ctrl-C), the session is
closed, so every output written so far stays valid and each was told how the run ended
(:class:`~app.core.sinks.base.RunOutcome`); an error is raised again after that.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.core.errors import one_line
from app.core.run_stats import RunSummary
from app.core.session import RunSession
from app.core.sinks.base import RunOutcome
from app.core.types import Frame, FrameResult
from pose.stop_signals import StopFlag

FrameCallback = Callable[[Frame, FrameResult, "np.ndarray | None"], None]
"""Called after each frame with the frame, its result (all timings filled) and the overlay (or None)."""


def run(
    session: RunSession,
    *,
    max_frames: int | None = None,
    on_frame: FrameCallback | None = None,
    stop: StopFlag | None = None,
) -> RunSummary:
    """Process the frames of ``session``'s open source until it ends, then close the session.

    Args:
        session: opened (:meth:`RunSession.open`) with its source and outputs.
        max_frames: stop after this many frames (None: until the source ends).
        on_frame: called after each frame (see :data:`FrameCallback`); runs in this thread.
        stop: checked before each frame; the run ends when it is set (a GUI's stop button sets a
            ``threading.Event``). A flag with a ``signal_name`` (:class:`pose.stop_signals.SignalStop`) names
            the signal that set it in the outcome.

    Returns:
        The session's summary; its outputs were told ``finished`` (source end or ``max_frames``) or
        ``interrupted`` (``stop``).

    Raises:
        SourceError, SinkError, KeyboardInterrupt: whatever stopped the loop, after the session was closed
        with a ``failed`` (Ctrl-C: ``interrupted``) outcome.
    """
    try:
        _loop(session, max_frames, on_frame, stop)
    except BaseException as error:
        session.close(outcome_of_error(error, session.frames))
        raise
    if stop is not None and stop.is_set():
        signal = getattr(stop, "signal_name", None)
        return session.close(RunOutcome("interrupted", session.frames, signal=signal))
    return session.close(RunOutcome("finished", session.frames))


def outcome_of_error(error: BaseException, frames: int) -> RunOutcome:
    """How a run that raised ``error`` after ``frames`` frames ended: Ctrl-C interrupts, the rest fails."""
    if isinstance(error, KeyboardInterrupt):
        return RunOutcome("interrupted", frames, signal="SIGINT")
    return RunOutcome("failed", frames, error=one_line(error))


def _loop(
    session: RunSession, max_frames: int | None, on_frame: FrameCallback | None, stop: StopFlag | None
) -> None:
    """Step until the source ends, ``max_frames`` frames were processed or ``stop`` is set."""
    while max_frames is None or session.frames < max_frames:
        if stop is not None and stop.is_set():
            return
        processed = session.step()
        if processed is None:
            return
        if on_frame is not None:
            on_frame(processed.frame, processed.result, processed.annotated)
