"""The run loop: read -> process -> render -> sinks, frame after frame, with per-stage timings and a summary.

Sinks are opened before the first frame and closed however the loop ends (end of source, ``max_frames``,
a stop request, an error, Ctrl-C), so every output written so far stays valid; before closing, each is told
how the run ended (:class:`~app.core.sinks.base.RunOutcome`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from app.core.errors import one_line
from app.core.render import Renderer
from app.core.sinks.base import RunOutcome, Sink
from app.core.sources.base import FrameSource
from app.core.types import STAGES, Frame, FrameResult

if TYPE_CHECKING:
    from app.core.pipeline import Pipeline

FrameCallback = Callable[[Frame, FrameResult, "np.ndarray | None"], None]
"""Called after each frame with the frame, its result (all timings filled) and the overlay (or None)."""


class StopFlag(Protocol):
    """Anything with ``is_set()``, e.g. a ``threading.Event`` set by a GUI's stop button.

    A flag with a ``signal_name`` attribute (e.g. ``"SIGTERM"``) names the signal that set it in the outcome.
    """

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class RunSummary:
    """How a run went.

    Attributes:
        frames: frames processed.
        person_frames: people summed over frames (rows in the CSV / 17).
        max_people: most people reported in one frame.
        tracks: distinct track IDs reported.
        elapsed_s: wall time of the loop in seconds.
        stage_ms: mean milliseconds per frame for each stage of :data:`app.core.types.STAGES`.
        detector_frames: frames on which the detector ran.
        dropped_frames: frames the source dropped (live sources).
        stopped_early: True when ``max_frames`` or a stop request ended the run before the source did.
    """

    frames: int
    person_frames: int
    max_people: int
    tracks: int
    elapsed_s: float
    stage_ms: Mapping[str, float]
    detector_frames: int
    dropped_frames: int
    stopped_early: bool

    @property
    def mean_fps(self) -> float:
        """Frames processed per second of wall time."""
        return self.frames / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class RunStats:
    """Accumulates per-frame results into a :class:`RunSummary`."""

    started_s: float = field(default_factory=time.perf_counter)
    frames: int = 0
    person_frames: int = 0
    max_people: int = 0
    detector_frames: int = 0
    dropped_frames: int = 0
    track_ids: set[int] = field(default_factory=set)
    stage_totals_ms: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def add(self, frame: Frame, result: FrameResult) -> None:
        self.frames += 1
        self.person_frames += result.num_people
        self.max_people = max(self.max_people, result.num_people)
        self.detector_frames += int(result.detected)
        self.dropped_frames = frame.dropped_frames
        self.track_ids.update(result.track_ids.tolist())
        for stage, ms in result.timings_ms.items():
            self.stage_totals_ms[stage] += ms

    def summary(self, stopped_early: bool = False) -> RunSummary:
        count = max(self.frames, 1)
        return RunSummary(
            frames=self.frames,
            person_frames=self.person_frames,
            max_people=self.max_people,
            tracks=len(self.track_ids),
            elapsed_s=time.perf_counter() - self.started_s,
            stage_ms={stage: total / count for stage, total in self.stage_totals_ms.items()},
            detector_frames=self.detector_frames,
            dropped_frames=self.dropped_frames,
            stopped_early=stopped_early,
        )


def process_frame(
    pipeline: Pipeline,
    frame: Frame,
    renderer: Renderer | None,
    sinks: Sequence[Sink],
    read_ms: float = 0.0,
) -> tuple[FrameResult, np.ndarray | None]:
    """Pipeline, overlay (when ``renderer`` is given) and outputs for one frame.

    Returns:
        The result with ``read`` (= ``read_ms``), ``render`` and ``total`` timings filled in, and the
        annotated ``(H, W, 3)`` BGR image, or None without a renderer.
    """
    start = time.perf_counter()
    result = pipeline.process(frame)
    render_start = time.perf_counter()
    annotated = renderer.draw(frame.image, result) if renderer is not None else None
    result = result.with_timings(read=read_ms, render=(time.perf_counter() - render_start) * 1000.0)
    for sink in sinks:
        sink.write(frame, result, annotated)
    return result.with_timings(total=read_ms + (time.perf_counter() - start) * 1000.0), annotated


def run(
    pipeline: Pipeline,
    source: FrameSource,
    sinks: Sequence[Sink] = (),
    *,
    max_frames: int | None = None,
    renderer: Renderer | None = None,
    on_frame: FrameCallback | None = None,
    stop: StopFlag | None = None,
) -> RunSummary:
    """Process every frame of ``source`` (opened if needed) with ``pipeline`` into ``sinks``.

    Args:
        pipeline: the pipeline; it is :meth:`~app.core.pipeline.Pipeline.reset` first, so IDs start at 1.
        source: where frames come from; left open (the caller owns it).
        sinks: outputs; opened here with the run's :class:`~app.core.types.RunInfo` and always closed.
        max_frames: stop after this many frames (None: until the source ends).
        renderer: draws the overlay; by default one is made from ``pipeline.config.render`` when a sink
            needs the overlay. Pass one to get overlays in ``on_frame`` (e.g. for a preview window).
        on_frame: called after each frame (see :data:`FrameCallback`); runs in this thread.
        stop: checked after each frame; the run ends when it is set.

    Raises:
        SourceError, SinkError: from the source or the sinks, after all sinks were closed.
    """
    source.open()
    pipeline.reset()
    if renderer is None and any(sink.needs_annotated for sink in sinks):
        renderer = Renderer(pipeline.config.render, pipeline.skeleton)
    if renderer is not None:
        renderer.reset()
    stats = RunStats()
    info = pipeline.run_info(source)
    with ExitStack() as stack:
        for sink in sinks:
            stack.enter_context(sink.open(info))
        stats.started_s = time.perf_counter()
        try:
            stopped_early = _loop(pipeline, source, sinks, stats, max_frames, renderer, on_frame, stop)
        except BaseException as error:
            _end(sinks, outcome_of_error(error, stats.frames))
            raise
        summary = stats.summary(stopped_early=stopped_early)
        if stop is not None and stop.is_set():
            _end(sinks, RunOutcome("interrupted", summary.frames, signal=getattr(stop, "signal_name", None)))
        else:
            _end(sinks, RunOutcome("finished", summary.frames))
    return summary


def outcome_of_error(error: BaseException, frames: int) -> RunOutcome:
    """How a run that raised ``error`` after ``frames`` frames ended: Ctrl-C interrupts, the rest fails."""
    if isinstance(error, KeyboardInterrupt):
        return RunOutcome("interrupted", frames, signal="SIGINT")
    return RunOutcome("failed", frames, error=one_line(error))


def _end(sinks: Sequence[Sink], outcome: RunOutcome) -> None:
    for sink in sinks:
        sink.end(outcome)


def _loop(
    pipeline: Pipeline,
    source: FrameSource,
    sinks: Sequence[Sink],
    stats: RunStats,
    max_frames: int | None,
    renderer: Renderer | None,
    on_frame: FrameCallback | None,
    stop: StopFlag | None,
) -> bool:
    """Read and process frames until the source ends (False) or ``max_frames``/``stop`` ends it (True)."""
    while max_frames is None or stats.frames < max_frames:
        if stop is not None and stop.is_set():
            return True
        start = time.perf_counter()
        frame = source.read()
        if frame is None:
            return False
        read_ms = (time.perf_counter() - start) * 1000.0
        result, annotated = process_frame(pipeline, frame, renderer, sinks, read_ms)
        stats.add(frame, result)
        if on_frame is not None:
            on_frame(frame, result, annotated)
    return True
