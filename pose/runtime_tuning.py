"""Runtime trials off the caller's thread, so the first start on a new machine does not wait for them.

The first time a model runs on a machine, :func:`pose.runtime_autotune.autotune` times every CPU runtime
(a minute or two on two cores). An app must not wait for that: :class:`BackgroundTuning` runs the trials and
builds the winner's forward pass on a thread, from its own copy of the model, while the estimator serves
frames with :func:`pose.runtime.resolve_runtime`'s guess; the estimator swaps the winner in between two
calls. The trials then share the CPU with the frames being processed, which slows every runtime alike; the
choice is cached like any other, so later starts use it at once. A run that ends first stops the trials
after the one in progress and waits for it: a thread left inside ONNX Runtime or OpenVINO while Python shuts
down crashed the process (a segmentation fault or an abort after every output was written).
"""

from __future__ import annotations

import atexit
import copy
import logging
import threading
import weakref
from collections.abc import Callable

from torch import nn

from pose.base import Closeable
from pose.runtime import Forward
from pose.runtime_autotune import Choice, TuningCancelledError, autotune

logger = logging.getLogger(__name__)

ForwardBuilder = Callable[[nn.Module, str], Forward]
"""(model, runtime name) -> that runtime's forward pass, as the estimator would build it."""
Tuner = Callable[..., Choice]
"""``(model, cancelled=...)`` -> the runtime chosen for it on this machine
(:func:`pose.runtime_autotune.autotune`); ``cancelled()`` turns True when the trials should stop (then it
raises ``TuningCancelledError``)."""
CLOSE_WAIT_S = 120.0
""":meth:`BackgroundTuning.close` waits at most this long for the trial in progress."""

_RUNNING: weakref.WeakSet[BackgroundTuning] = weakref.WeakSet()
"""Every tuning not yet closed, closed at interpreter exit if its owner never did (see the module doc)."""


class BackgroundTuning(Closeable):
    """Times the runtimes for ``model`` and builds the winner, on a thread started at once.

    Args:
        model: eval-mode float32 CPU pose model; copied, so the caller may go on using it.
        build: makes the winner's forward pass from the copy.
        running: the runtime the caller already serves frames with: when it wins, nothing is built (the
            caller keeps its forward pass).
        tune: picks the runtime (default :func:`pose.runtime_autotune.autotune`).

    :meth:`close` before the thread ends stops the trials after the one in progress, waits for it (a few
    seconds, at most :data:`CLOSE_WAIT_S`) and builds nothing; nothing is cached, so the next start times
    them again. The thread is a daemon, and a tuning left open is closed the same way at interpreter exit,
    so an owner that never closes it (an error path) neither waits for every trial nor crashes on the way out.
    """

    def __init__(
        self, model: nn.Module, build: ForwardBuilder, running: str, tune: Tuner | None = None
    ) -> None:
        self._model = copy.deepcopy(model)
        self._build, self._running, self._tune = build, running, tune or autotune
        self._lock = threading.Lock()
        self._done, self._cancel = threading.Event(), threading.Event()
        self._ready: tuple[Choice, Forward | None] | None = None
        self.error: str | None = None
        """Why the trials failed (one line), or None."""
        self._thread = threading.Thread(target=self._run, name="pose-runtime-trials", daemon=True)
        _RUNNING.add(self)
        self._thread.start()

    @property
    def running(self) -> bool:
        """True until the winner is built or the trials failed."""
        return not self._done.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the thread is done (True) or ``timeout_s`` passed (False)."""
        return self._done.wait(timeout_s)

    def take(self) -> tuple[Choice, Forward | None] | None:
        """The choice and its built forward pass (None when the caller's own runtime won), handed over once
        when ready (the caller then owns the forward pass), else None."""
        with self._lock:
            ready, self._ready = self._ready, None
        return ready

    def _run(self) -> None:
        try:
            choice = self._tune(self._model, cancelled=self._cancel.is_set)
            wanted = choice.runtime != self._running and not self._cancel.is_set()  # closed: nobody takes it
            forward = self._build(self._model, choice.runtime) if wanted else None
        except TuningCancelledError as stopped:
            logger.info("pose runtime trials stopped (%s): they run again on the next start", stopped)
        except Exception as error:  # the estimator keeps its first guess; the reason is logged
            self.error = " ".join(f"{type(error).__name__}: {error}".split())
            logger.warning("timing the pose runtimes failed, keeping the first guess: %s", self.error)
        else:
            with self._lock:
                if self.closed:
                    if forward is not None:
                        forward.close()
                else:
                    self._ready = choice, forward
        finally:
            self._model = None
            self._done.set()

    def _close(self) -> None:
        _RUNNING.discard(self)
        self._cancel.set()
        if self._thread is not threading.current_thread():
            self._thread.join(CLOSE_WAIT_S)
        ready = self.take()
        if ready is not None and ready[1] is not None:
            ready[1].close()


@atexit.register
def _close_left_open() -> None:
    """Stop the trials of every tuning still open before Python tears down the runtimes they run in."""
    for tuning in list(_RUNNING):
        tuning.close()
