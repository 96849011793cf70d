"""The worker object: lives in its own QThread, drives a :class:`RunSession` one frame per timer tick.

Each tick reads and processes one frame, then re-arms a single-shot timer, so the thread's event loop runs
between frames and every request from the window (pause, seek, new settings, cancel, shutdown) is handled
within one frame. Nothing here blocks the GUI thread; results travel back through signals and a one-slot
:class:`Mailbox` of display frames.

Modes:
    watch: files play in real time (see :mod:`app.gui.pacing`): a frame whose successor is already due is
        read but not processed, and counted as skipped. Nothing is written.
    process: the whole file from its first frame, every frame, as fast as possible, into the chosen
        outputs, with progress; cancel finalises the outputs.
    live (cameras, whatever the mode): the newest camera frame each tick; the camera source counts the frames
        it dropped meanwhile; outputs, when chosen, are written while playing.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from app.core.config import PipelineConfig
from app.core.errors import AppError
from app.core.session import Processed, RunSession
from app.core.sinks import Outputs, RunOutcome
from app.core.types import Frame, PipelineInfo
from app.gui.catalog import Capabilities, as_launched, probe_capabilities
from app.gui.mailbox import Mailbox
from app.gui.messages import DisplayFrame, LiveStats, RunReport, qimage_from_bgr
from app.gui.pacing import Clock, RateMeter, WatchClock

log = logging.getLogger(__name__)

DEFAULT_FPS = 30.0
"""Frame interval assumed for watch-mode pacing when a file announces no frame rate."""
EARLY_TOLERANCE_S = 0.002
"""A frame due within this many seconds is processed at once instead of waiting for a timer."""


class State(StrEnum):
    IDLE = "idle"  # no source
    PAUSED = "paused"
    PLAYING = "playing"  # watch mode, or a live source
    PROCESSING = "processing"  # process-whole-file mode


class Mode(StrEnum):
    WATCH = "watch"
    PROCESS = "process"


def _reports_errors(method: Callable[..., None]) -> Callable[..., None]:
    """Turn an error in a worker slot into an ``error`` signal: the thread boundary, nothing may escape it."""

    @functools.wraps(method)
    def guarded(self: PipelineWorker, *args: Any) -> None:
        try:
            method(self, *args)
        except (AppError, ValueError, OSError) as error:
            self._fail(str(error))
        except Exception as error:  # the last line of defence: log the traceback, keep the app alive
            log.exception("unexpected error in the pipeline worker")
            self._fail(f"unexpected error: {error!r} (details in the log)")

    return guarded


class PipelineWorker(QObject):
    """Runs in a worker thread; call its slots only through queued signals (see :mod:`app.gui.controller`)."""

    capabilities_ready = Signal(object)  # Capabilities
    pipeline_ready = Signal(object)  # PipelineInfo
    source_opened = Signal(object)  # SourceInfo
    frame_ready = Signal()  # a DisplayFrame waits in ``frames``
    state_changed = Signal(str)  # a State value
    progress = Signal(int, int)  # frames processed, frames in the file (0 when unknown)
    run_finished = Signal(object)  # RunReport, after outputs were closed
    ended = Signal()  # the source has no more frames
    busy = Signal(str)  # what slow thing is happening ("" when done)
    notice = Signal(str)
    error = Signal(str)

    def __init__(
        self,
        session: RunSession,
        probe: Callable[[], Capabilities] = probe_capabilities,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__()
        self.session = session
        self.frames: Mailbox[DisplayFrame] = Mailbox()
        self._probe = probe
        self._clock = clock
        self._capabilities: Capabilities | None = None
        self._state = State.IDLE
        self._mode = Mode.WATCH
        self._outputs = Outputs()
        self._pending_config: PipelineConfig | None = None
        self._watch = WatchClock(clock)
        self._fps_in, self._fps_out = RateMeter(), RateMeter()
        self._held: tuple[Frame, float] | None = None  # a read frame waiting until it is due
        self._last: Processed | None = None
        self._announced_runtime: object = None  # the estimator's runtime when the window was last told
        self._skipped = self._dropped = self._run_frames = 0
        self._exhausted = False  # the source returned its last frame
        self._timer = QTimer(self, singleShot=True, timeout=self._tick)
        self._apply_timer = QTimer(self, singleShot=True, interval=0, timeout=self._apply_pending_config)

    # -- setup ---------------------------------------------------------------------------------------------
    @Slot(object)
    @_reports_errors
    def initialise(self, config: PipelineConfig) -> None:
        """Find the models and devices, then build the first pipeline."""
        self.busy.emit("looking for models and devices")
        self._capabilities = self._probe()
        self.capabilities_ready.emit(self._capabilities)
        self._pending_config = config
        self._apply_pending_config()

    @Slot(object)
    def configure(self, config: PipelineConfig) -> None:
        """Use ``config`` from the next frame on (a burst of changes is applied once); while outputs are
        being written it waits until they close, so one file never mixes two settings."""
        self._pending_config = config
        if self.session.writing:
            self.notice.emit("the new settings apply when the current output ends")
            return
        self._apply_timer.start()

    @_reports_errors
    def _apply_pending_config(self) -> None:
        self._apply_timer.stop()
        config, self._pending_config = self._pending_config, None
        if config is None or self.session.writing:
            self._pending_config = config
            return
        config = as_launched(config, self._capabilities)
        self.busy.emit(f"loading {config.model.name} on {config.model.device}")
        try:
            info = self.session.configure(config)
        finally:
            self.busy.emit("")
        self._announce(info)
        if self._state is State.PAUSED and self._last is not None:
            self._show(self.session.redraw(self._last), count=False)

    @Slot(str)
    def set_mode(self, mode: str) -> None:
        self._mode = Mode(mode)

    @Slot(object)
    def set_outputs(self, outputs: Outputs) -> None:
        self._outputs = outputs

    # -- source and transport ----------------------------------------------------------------------------
    @Slot(str, bool, bool)
    @_reports_errors
    def open_source(self, spec: str, autoplay: bool, photos: bool = False) -> None:
        """Open a file, folder or camera in place of the current one (``photos``: a folder's images are
        separate photos); on failure the current one stays."""
        self._timer.stop()
        if self.session.writing:
            self._finish_outputs(cancelled=True)
        self._set_state(State.PAUSED if self.session.source is not None else State.IDLE)
        self._apply_pending_config()  # a file opened at start-up plays with the settings asked for
        self.busy.emit(f"opening {spec}")
        try:
            info = self.session.open(spec, photos=photos)
        finally:
            self.busy.emit("")
        self._reset_playback()
        self._set_state(State.PAUSED)
        self.source_opened.emit(info)
        if autoplay or info.is_live:
            self.play()
        else:
            self.step()

    @Slot()
    @_reports_errors
    def play(self) -> None:
        if self._state is not State.PAUSED or self.session.pipeline is None:
            return
        info = self.session.info
        if self._mode is Mode.PROCESS and not info.is_live:
            self._start_processing()
            return
        if self._exhausted and not info.is_live:
            self._seek_to(0)  # play again from the start
        if info.is_live and self._outputs.any:
            self._start_outputs()
        self._watch.stop()
        self._set_state(State.PLAYING)
        self._timer.start(0)

    @Slot()
    @_reports_errors
    def pause(self) -> None:
        if self._state is not State.PLAYING:
            return
        self._timer.stop()
        self._set_state(State.PAUSED)
        if self.session.writing:
            self._finish_outputs(cancelled=False)

    @Slot()
    @_reports_errors
    def step(self) -> None:
        """Show the next frame, paused."""
        self.pause()
        if self._state is State.PAUSED and self.session.pipeline is not None:
            self._process_next()

    @Slot(int)
    @_reports_errors
    def seek(self, index: int) -> None:
        """Show frame ``index`` of a file (and go on playing from there if it was playing)."""
        if self._state not in (State.PAUSED, State.PLAYING) or self.session.info.is_live:
            return
        self._seek_to(index)
        if self._state is State.PAUSED and self.session.pipeline is not None:
            self._process_next()

    @Slot()
    @_reports_errors
    def cancel(self) -> None:
        """Stop processing the whole file; the outputs written so far are finalised and valid."""
        if self._state is State.PROCESSING:
            self._timer.stop()
            self._set_state(State.PAUSED)
            self._finish_outputs(cancelled=True)

    @Slot()
    def shutdown(self) -> None:
        """Finalise outputs, close the source, and end the worker thread's event loop."""
        self._timer.stop()
        try:
            if self.session.writing:
                self._finish_outputs(cancelled=True)
            self.session.close()
        except AppError as error:
            log.error("while closing: %s", error)
        finally:
            self._timer.stop()
            self._apply_timer.stop()  # no timer may outlive the thread it belongs to
            QThread.currentThread().quit()

    # -- the frame loop ------------------------------------------------------------------------------------
    @_reports_errors
    def _tick(self) -> None:
        if self._state is State.PLAYING and not self.session.info.is_live:
            self._watch_next()
        elif self._state in (State.PLAYING, State.PROCESSING) and self._process_next():
            self._timer.start(0)

    def _process_next(self) -> bool:
        """Read, process and show the next frame; False at the end of the source."""
        frame, read_ms = self._held or self._read()
        self._held = None
        if frame is None:
            self._at_end()
            return False
        self._show(self.session.process(frame, read_ms))
        return True

    def _watch_next(self) -> None:
        """Watch mode: skip the frames that are already late, wait for the next one to be due, process it."""
        frame, read_ms = self._held or self._read()
        self._held = None
        if frame is None:
            self._at_end()
            return
        if not self._watch.started:
            self._watch.start(frame.timestamp_s)
        fps = self.session.info.fps or DEFAULT_FPS
        while self._watch.is_stale(frame.timestamp_s, 1.0 / fps):
            later, later_ms = self._read()
            if later is None:
                break
            frame, read_ms = later, later_ms
            self._skipped += 1
        wait_s = self._watch.wait_s(frame.timestamp_s)
        if wait_s > EARLY_TOLERANCE_S:
            self._held = frame, read_ms
            self._timer.start(math.ceil(wait_s * 1000.0))
            return
        self._show(self.session.process(frame, read_ms))
        self._timer.start(0)

    def _read(self) -> tuple[Frame | None, float]:
        start = time.perf_counter()
        frame = self.session.read()
        read_ms = (time.perf_counter() - start) * 1000.0
        if frame is not None:
            delivered = 1 + frame.dropped_frames - self._dropped
            self._dropped = frame.dropped_frames
            self._fps_in.add(self._clock(), delivered)
        return frame, read_ms

    def _show(self, processed: Processed, count: bool = True) -> None:
        now = self._clock()
        if count:
            self._fps_out.add(now)
            self._run_frames += 1
            if self._state is State.PROCESSING:
                self.progress.emit(processed.frame.index + 1, self.session.info.frame_count or 0)
        self._last = processed
        if count and self.session.pipeline.estimator.runtime != self._announced_runtime:
            self._announce(self.session.pipeline.describe())  # background trials swapped the pose runtime
        stats = LiveStats(self._fps_in.rate(now), self._fps_out.rate(now), self._skipped, self._dropped)
        display = DisplayFrame(qimage_from_bgr(processed.annotated), processed.result, stats)
        if self.frames.put(display):
            self.frame_ready.emit()

    def _announce(self, info: PipelineInfo) -> None:
        """Tell the window what the pipeline runs with (after each configuration, and when the pose runtime
        changed while frames flow)."""
        self._announced_runtime = self.session.pipeline.estimator.runtime
        self.pipeline_ready.emit(info)

    def _at_end(self) -> None:
        self._timer.stop()
        self._exhausted = True
        processing = self._state is State.PROCESSING
        self._set_state(State.PAUSED)
        if processing or self.session.writing:
            self._finish_outputs(cancelled=False)
        self.ended.emit()

    # -- runs with outputs ---------------------------------------------------------------------------------
    def _start_processing(self) -> None:
        if not self._outputs.any:
            self.notice.emit("no CSV or video file chosen: the file is processed but nothing is written")
        self._seek_to(0)
        self._start_outputs()
        self._set_state(State.PROCESSING)
        self.progress.emit(0, self.session.info.frame_count or 0)
        self._timer.start(0)

    def _start_outputs(self) -> None:
        self._run_frames = 0
        self.session.start_outputs(self._outputs)

    def _finish_outputs(self, cancelled: bool, error: str | None = None) -> None:
        """Close the outputs of the run (raises SinkError after closing them all) and report it."""
        frames = self._run_frames
        ended = "failed" if error is not None else "interrupted" if cancelled else "finished"
        try:
            written = self.session.stop_outputs(RunOutcome(ended, frames, error=error))
        finally:
            if self._pending_config is not None:
                self._apply_timer.start()
        paths = tuple(path for stats in written for path in stats.paths)
        self.run_finished.emit(RunReport(frames, paths, cancelled))

    # -- helpers -------------------------------------------------------------------------------------------
    def _seek_to(self, index: int) -> None:
        self.session.seek(index)
        self._held, self._exhausted = None, False
        self._watch.stop()

    def _reset_playback(self) -> None:
        self._held, self._last, self._exhausted = None, None, False
        self._watch.stop()
        self._fps_in.reset()
        self._fps_out.reset()
        self._skipped = self._dropped = self._run_frames = 0

    def _set_state(self, state: State) -> None:
        if state is not self._state:
            self._state = state
            self.state_changed.emit(state.value)

    def _fail(self, message: str) -> None:
        """Stop what was running, keep the outputs valid, and tell the window."""
        self._timer.stop()
        if self._state in (State.PLAYING, State.PROCESSING):
            self._set_state(State.PAUSED)
        if self.session.writing:
            try:
                self._finish_outputs(cancelled=True, error=message)
            except AppError as error:
                message = f"{message}; {error}"
        self.error.emit(message)
