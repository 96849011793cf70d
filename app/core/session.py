"""A run session, Qt-free: the one owner of a run's source, pipeline, overlay renderer and outputs.

The CLI opens one and runs it to its end (:func:`app.core.runner.run`); the GUI's worker steps it one frame
per timer tick, seeks, switches sources and starts or stops the outputs while playing. Outputs are opened from
one :class:`~app.core.sinks.Outputs` value; whenever they stop, every sink is told how the run ended
(:class:`~app.core.sinks.RunOutcome`) and closed, all of them even if one fails. Everything heavy (opening a
camera, building a model, processing a frame) happens here, so a GUI must call it off its GUI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace

import numpy as np

from app.core.config import PipelineConfig
from app.core.errors import SourceError
from app.core.pipeline import Pipeline
from app.core.render import Renderer
from app.core.run_stats import RunStats, RunSummary
from app.core.sinks import Outputs, RunOutcome, Sink, SinkStats
from app.core.sources import FrameSource, make_source
from app.core.types import Frame, FrameResult, PipelineInfo, SourceInfo

NO_OUTPUTS = Outputs()

SourceFactory = Callable[..., FrameSource]
"""``factory(spec, photos=False)``: an unopened source from what the user typed or picked (a path, a URL, a
camera index as text); ``photos``: a folder's images are separate photos (:func:`make_source`)."""


@dataclass(frozen=True, eq=False)
class Processed:
    """One processed frame: the frame, what was found in it (every timing filled in), and the overlay
    ``(H, W, 3)`` BGR uint8 (None when the session draws none)."""

    frame: Frame
    result: FrameResult
    annotated: np.ndarray | None


class RunSession:
    """Source, pipeline, renderer and outputs of a run, opened and closed together.

    Args:
        pipeline: the pipeline to run (its owner closes it); None builds one at the first :meth:`configure`,
            which :meth:`close` closes.
        source_factory: turns a spec given to :meth:`open` into a source; tests pass fakes.
        overlay: draw the overlay on every frame (a preview shows it); False draws it only for outputs that
            need it (the recording).

    Attributes:
        pipeline: the pipeline (None until configured).
        source: the open source, or None.
        next_index: the index of the next frame :meth:`read` returns.
    """

    def __init__(
        self,
        pipeline: Pipeline | None = None,
        *,
        source_factory: SourceFactory = make_source,
        overlay: bool = True,
    ) -> None:
        self.pipeline = pipeline
        self._owns_pipeline = pipeline is None
        self.source: FrameSource | None = None
        self.next_index = 0
        self._source_factory = source_factory
        self._overlay = overlay
        self._renderer = Renderer(pipeline.config.render, pipeline.skeleton) if pipeline is not None else None
        self._sinks: tuple[Sink, ...] = ()
        self._output_frames = 0
        self._written: list[SinkStats] = []
        self._stats = RunStats()
        self._exhausted = False  # the source returned its end
        self._summary: RunSummary | None = None  # set once, by close()

    # -- pipeline ----------------------------------------------------------------------------------------
    def configure(self, config: PipelineConfig) -> PipelineInfo:
        """Apply ``config``; only what changed is rebuilt (``Pipeline.reconfigure``). Raises ModelLoadError
        and keeps the previous settings when a model or detector cannot be set up."""
        if self.pipeline is None:
            self.pipeline = Pipeline(config)
        else:
            self.pipeline.reconfigure(config)
        renderer, skeleton = self._renderer, self.pipeline.skeleton
        if renderer is None or renderer.config != config.render or renderer.skeleton != skeleton:
            self._renderer = Renderer(config.render, skeleton)
        return self.pipeline.describe()

    # -- source ------------------------------------------------------------------------------------------
    @property
    def info(self) -> SourceInfo | None:
        return self.source.info if self.source is not None else None

    @property
    def frames(self) -> int:
        """Frames processed since the source was opened."""
        return self._stats.frames

    def open(
        self, source: FrameSource | str, outputs: Outputs = NO_OUTPUTS, photos: bool = False
    ) -> SourceInfo:
        """Open ``source`` (a spec goes through the source factory, with ``photos``) in place of the current
        one, then start ``outputs``. The current outputs are stopped and the current source closed first;
        tracks, trails and the run's counts start afresh.

        Raises:
            SourceError: the new source cannot be opened (the current one stays).
            SinkError: an output cannot be written (the new source stays open, nothing is written).
        """
        if self._summary is not None:
            raise RuntimeError("this run session is closed; start a new one")
        if isinstance(source, str):
            source = self._source_factory(source, photos=photos)
        source.open()
        self._close_source()
        self.source, self.next_index, self._exhausted = source, 0, False
        self._restart_stream()
        self._stats = RunStats()
        self.start_outputs(outputs)
        self._stats.started_s = time.perf_counter()  # the run's wall time starts with its first frame
        return source.info

    def read(self) -> Frame | None:
        """The next frame of the source, or None at its end."""
        if self.source is None:
            raise SourceError("no source is open: open a video or a camera first")
        frame = self.source.read()
        if frame is None:
            self._exhausted = True
        else:
            self.next_index = frame.index + 1
        return frame

    def seek(self, index: int) -> None:
        """Make frame ``index`` of a file the next one read; tracks and trails start afresh.

        The core's file source reads forward only, so going back reopens the file and both directions read
        (decode) up to ``index``.
        """
        if self.source is None or self.source.is_live:
            raise SourceError("only video files and image folders can be seeked")
        count = self.source.frame_count
        index = max(0, min(index, count - 1 if count else index))
        if index < self.next_index:
            self.source.close()
            self.source.open()
            self.next_index = 0
        self._exhausted = False
        while self.next_index < index and self.read() is not None:
            pass
        self._restart_stream()

    def _restart_stream(self) -> None:
        if self.pipeline is not None:
            self.pipeline.reset()
        if self._renderer is not None:
            self._renderer.reset()

    # -- processing --------------------------------------------------------------------------------------
    def step(self) -> Processed | None:
        """Read and process the next frame; None at the end of the source."""
        start = time.perf_counter()
        frame = self.read()
        if frame is None:
            return None
        return self.process(frame, read_ms=(time.perf_counter() - start) * 1000.0)

    def process(self, frame: Frame, read_ms: float = 0.0) -> Processed:
        """Pipeline, overlay and outputs for one frame (``read_ms``: how long reading it took).

        The result carries every stage's timing: ``read`` (= ``read_ms``), the pipeline's, ``render`` and
        ``total``.
        """
        if self.pipeline is None:
            raise RuntimeError("RunSession.configure() must be called before process()")
        start = time.perf_counter()
        if frame.new_scene and self._renderer is not None:
            self._renderer.reset()  # no trail runs from one photo into the next (the pipeline resets itself)
        result = self.pipeline.process(frame)
        render_start = time.perf_counter()
        draw = self._overlay or any(sink.needs_annotated for sink in self._sinks)
        annotated = self._renderer.draw(frame.image, result) if draw else None
        result = result.with_timings(read=read_ms, render=(time.perf_counter() - render_start) * 1000.0)
        for sink in self._sinks:
            sink.write(frame, result, annotated)
        self._output_frames += 1
        result = result.with_timings(total=read_ms + (time.perf_counter() - start) * 1000.0)
        self._stats.add(frame, result)
        return Processed(frame, result, annotated)

    def redraw(self, processed: Processed) -> Processed:
        """``processed`` with its overlay drawn again under the current overlay settings (nothing re-run)."""
        if self._renderer is None:
            raise RuntimeError("RunSession.configure() must be called before redraw()")
        return replace(processed, annotated=self._renderer.draw(processed.frame.image, processed.result))

    # -- outputs -----------------------------------------------------------------------------------------
    @property
    def writing(self) -> bool:
        return bool(self._sinks)

    @property
    def sinks(self) -> tuple[Sink, ...]:
        """The outputs being written now (empty when none)."""
        return self._sinks

    def start_outputs(self, outputs: Outputs) -> None:
        """Stop the current outputs, then open ``outputs`` for the frames processed from now on; raises
        SinkError with nothing left open when one cannot be written."""
        self.stop_outputs()
        if not outputs.any:
            return
        if self.pipeline is None or self.source is None:
            raise RuntimeError("RunSession.start_outputs() needs a pipeline and an open source")
        sinks = outputs.sinks(self.pipeline.skeleton)
        info = self.pipeline.run_info(self.source.info)
        with ExitStack() as stack:
            for sink in sinks:
                stack.callback(sink.close)
                sink.open(info)
            stack.pop_all()
        self._sinks, self._output_frames = tuple(sinks), 0

    def stop_outputs(self, outcome: RunOutcome | None = None) -> tuple[SinkStats, ...]:
        """Tell every open output how the run ended (default: interrupted after the frames they got) and
        close them all, even if one fails (its SinkError is raised after the others closed).

        Returns:
            What each output wrote (files in place, frames); empty when none was open.
        """
        sinks, self._sinks = self._sinks, ()
        if outcome is None:
            outcome = RunOutcome("interrupted", self._output_frames)
        with ExitStack() as stack:
            for sink in sinks:
                sink.end(outcome)
                stack.callback(sink.close)
        written = tuple(sink.stats for sink in sinks)
        self._written.extend(written)
        return written

    # -- the end -----------------------------------------------------------------------------------------
    def close(self, outcome: RunOutcome | None = None) -> RunSummary:
        """End the session once: stop the outputs (told ``outcome``, see :meth:`stop_outputs`), close the
        source and the pipeline it built, and return the summary; later calls return the same summary and do
        nothing."""
        if self._summary is None:
            summary = self._stats.summary(stopped_early=self.source is not None and not self._exhausted)
            self._summary = summary
            try:
                self._close_source(outcome)
            finally:
                if self._owns_pipeline and self.pipeline is not None:
                    self.pipeline.close()
            self._summary = replace(summary, outputs=tuple(self._written))
        return self._summary

    def _close_source(self, outcome: RunOutcome | None = None) -> None:
        try:
            self.stop_outputs(outcome)
        finally:
            if self.source is not None:
                self.source.close()
                self.source = None
