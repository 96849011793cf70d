"""The GUI thread's handle on the worker: owns the QThread, turns method calls into queued requests.

The window calls plain methods (``controller.play()``); each emits a signal connected to the worker's slot,
and Qt delivers it in the worker thread between two frames. The worker's signals come back the same way:
the controller re-emits each of them in the GUI thread under the same name, so connect to the controller's
(and tests wait on them: a waiter on the worker's own signal would run in the worker thread).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal

from app.core.config import PipelineConfig
from app.core.sinks import Outputs
from app.gui.mailbox import Mailbox
from app.gui.messages import DisplayFrame
from app.gui.worker import PipelineWorker

RELAYED = (
    "capabilities_ready", "pipeline_ready", "source_opened", "frame_ready", "state_changed", "progress",
    "run_finished", "ended", "busy", "notice", "error",
)


class PipelineController(QObject):
    """Starts ``worker`` in its own thread; :meth:`shutdown` finalises outputs and joins the thread."""

    # The worker's signals, re-emitted in the GUI thread (see PipelineWorker for their arguments).
    capabilities_ready = Signal(object)
    pipeline_ready = Signal(object)
    source_opened = Signal(object)
    frame_ready = Signal()
    state_changed = Signal(str)
    progress = Signal(int, int)
    run_finished = Signal(object)
    ended = Signal()
    busy = Signal(str)
    notice = Signal(str)
    error = Signal(str)

    _initialise = Signal(object)
    _configure = Signal(object)
    _open = Signal(str, bool, bool)
    _play = Signal()
    _pause = Signal()
    _step = Signal()
    _seek = Signal(int)
    _cancel = Signal()
    _set_mode = Signal(str)
    _set_outputs = Signal(object)
    _shutdown = Signal()

    def __init__(self, worker: PipelineWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self._thread = QThread(self)
        self._thread.setObjectName("pipeline-worker")
        worker.moveToThread(self._thread)
        for request, slot in (
            (self._initialise, worker.initialise),
            (self._configure, worker.configure),
            (self._open, worker.open_source),
            (self._play, worker.play),
            (self._pause, worker.pause),
            (self._step, worker.step),
            (self._seek, worker.seek),
            (self._cancel, worker.cancel),
            (self._set_mode, worker.set_mode),
            (self._set_outputs, worker.set_outputs),
            (self._shutdown, worker.shutdown),
        ):
            request.connect(slot)
        for name in RELAYED:
            getattr(worker, name).connect(getattr(self, name))  # queued: the controller lives here
        self._thread.start()

    @property
    def frames(self) -> Mailbox[DisplayFrame]:
        """Where the newest processed frame waits (``frame_ready`` says when one arrives)."""
        return self.worker.frames

    def start(self, config: PipelineConfig) -> None:
        """Probe models and devices, then build the pipeline for ``config`` (all in the worker)."""
        self._initialise.emit(config)

    def configure(self, config: PipelineConfig) -> None:
        self._configure.emit(config)

    def open(self, spec: str, autoplay: bool = True, photos: bool = False) -> None:
        """Open a video file, image, folder, or camera index (as text); ``photos``: a folder's images are
        separate photos, each posed on its own."""
        self._open.emit(spec, autoplay, photos)

    def play(self) -> None:
        self._play.emit()

    def pause(self) -> None:
        self._pause.emit()

    def step(self) -> None:
        self._step.emit()

    def seek(self, index: int) -> None:
        self._seek.emit(index)

    def cancel(self) -> None:
        self._cancel.emit()

    def set_mode(self, mode: str) -> None:
        self._set_mode.emit(mode)

    def set_outputs(self, outputs: Outputs) -> None:
        self._set_outputs.emit(outputs)

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    def shutdown(self) -> None:
        """Let the current frame finish, close outputs and source, and wait for the thread to end."""
        if self._thread.isRunning():
            self._shutdown.emit()
            self._thread.wait()
