"""The app's state behind the window: one source, one pipeline, its overlay renderer and the open outputs.

Qt-free: the worker thread drives it, tests can drive it directly. Everything heavy (opening a camera,
building a model, processing a frame) happens here, so it must never run on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from app.core.config import PipelineConfig
from app.core.errors import SourceError
from app.core.pipeline import Pipeline
from app.core.render import Renderer
from app.core.runner import process_frame
from app.core.sinks import CsvSink, RunOutcome, Sink, VideoRecorder
from app.core.sources import FrameSource, make_source
from app.core.types import Frame, FrameResult, PipelineInfo, SourceInfo

SourceFactory = Callable[[str], FrameSource]


@dataclass(frozen=True)
class Outputs:
    """Where a run writes: the keypoint CSV (with ``<stem>.meta.json`` beside it) and the annotated video."""

    csv: Path | None = None
    video: Path | None = None

    @property
    def any(self) -> bool:
        return self.csv is not None or self.video is not None


@dataclass(frozen=True, eq=False)
class Processed:
    """One processed frame: the frame, what was found in it, and the overlay ``(H, W, 3)`` BGR uint8."""

    frame: Frame
    result: FrameResult
    annotated: np.ndarray


class Session:
    """Source, pipeline, renderer and outputs, as the worker uses them.

    Args:
        source_factory: builds an unopened source from what the user typed or picked (a path or a camera
            index as text); tests pass fakes.
    """

    def __init__(self, source_factory: SourceFactory = make_source) -> None:
        self._source_factory = source_factory
        self.pipeline: Pipeline | None = None
        self.source: FrameSource | None = None
        self._renderer: Renderer | None = None
        self._outputs: ExitStack | None = None
        self._sinks: tuple[Sink, ...] = ()
        self._written: tuple[Path, ...] = ()
        self.next_index = 0

    # -- pipeline ----------------------------------------------------------------------------------------
    def configure(self, config: PipelineConfig) -> PipelineInfo:
        """Apply ``config``; only what changed is rebuilt (``Pipeline.reconfigure``). Raises ModelLoadError
        and keeps the previous settings when a model or detector cannot be set up."""
        if self.pipeline is None:
            self.pipeline = Pipeline(config)
        else:
            self.pipeline.reconfigure(config)
        if self._renderer is None or self._renderer.config != config.render:
            self._renderer = Renderer(config.render, self.pipeline.skeleton)
        return self.pipeline.describe()

    # -- source ------------------------------------------------------------------------------------------
    @property
    def info(self) -> SourceInfo | None:
        return self.source.info if self.source is not None else None

    def open(self, spec: str) -> SourceInfo:
        """Open ``spec`` in place of the current source (whose outputs are closed first)."""
        source = self._source_factory(spec).open()
        self.close_source()
        self.source, self.next_index = source, 0
        self._restart_stream()
        return source.info

    def close_source(self) -> tuple[Path, ...]:
        """Close the outputs and the source; returns the output files written."""
        written = self.stop_outputs()
        if self.source is not None:
            self.source.close()
            self.source = None
        return written

    def read(self) -> Frame | None:
        """The next frame of the source, or None at its end."""
        if self.source is None:
            raise SourceError("no source is open: open a video or a camera first")
        frame = self.source.read()
        if frame is not None:
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
        while self.next_index < index and self.read() is not None:
            pass
        self._restart_stream()

    def _restart_stream(self) -> None:
        if self.pipeline is not None:
            self.pipeline.reset()
        if self._renderer is not None:
            self._renderer.reset()

    # -- processing --------------------------------------------------------------------------------------
    def process(self, frame: Frame, read_ms: float = 0.0) -> Processed:
        """Pipeline, overlay and outputs for one frame (``read_ms``: how long reading it took)."""
        if self.pipeline is None or self._renderer is None:
            raise RuntimeError("Session.configure() must be called before process()")
        result, annotated = process_frame(self.pipeline, frame, self._renderer, self._sinks, read_ms)
        return Processed(frame, result, annotated)

    def redraw(self, processed: Processed) -> Processed:
        """``processed`` with its overlay drawn again under the current overlay settings (nothing re-run)."""
        if self._renderer is None:
            raise RuntimeError("Session.configure() must be called before redraw()")
        return replace(processed, annotated=self._renderer.draw(processed.frame.image, processed.result))

    # -- outputs -----------------------------------------------------------------------------------------
    @property
    def writing(self) -> bool:
        return self._outputs is not None

    def start_outputs(self, outputs: Outputs) -> None:
        """Open the CSV and/or recorder for the frames processed from now on (the core's sinks, so the files
        match ``main.py run``); raises SinkError with nothing left open."""
        if self.pipeline is None or self.source is None:
            raise RuntimeError("Session.start_outputs() needs a pipeline and an open source")
        self.stop_outputs()
        sinks: list[Sink] = []
        if outputs.csv is not None:
            sinks.append(CsvSink(outputs.csv, self.pipeline.skeleton))
        if outputs.video is not None:
            sinks.append(VideoRecorder(outputs.video))
        info = self.pipeline.run_info(self.source)
        with ExitStack() as stack:
            for sink in sinks:
                stack.callback(sink.close)
                sink.open(info)
            self._outputs = stack.pop_all()
        self._sinks = tuple(sinks)
        self._written = tuple(path for sink in sinks for path in _paths_of(sink))

    def stop_outputs(self, outcome: RunOutcome | None = None) -> tuple[Path, ...]:
        """Finalise the open outputs (all of them, even if one fails: then SinkError), their metadata saying
        how the run ended; returns their paths."""
        if self._outputs is None:
            return ()
        outputs, self._outputs, sinks, self._sinks = self._outputs, None, self._sinks, ()
        for sink in sinks if outcome is not None else ():
            sink.end(outcome)
        outputs.close()
        return self._written

    def close(self) -> None:
        """Close outputs and source (idempotent)."""
        self.close_source()


def _paths_of(sink: Sink) -> tuple[Path, ...]:
    """The files a sink writes: the CSV and its metadata JSON, or the recording."""
    if isinstance(sink, CsvSink):
        return sink.path, sink.metadata_path
    return (Path(sink.path),)
