"""SIGINT, SIGTERM and SIGHUP as one clean stop: the run loop finishes its frame and closes every output.

A second SIGINT (Ctrl-C pressed again) raises ``KeyboardInterrupt`` at once, for a run stuck in a long call.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""The signals handled (SIGHUP does not exist on Windows)."""


class SignalStop:
    """A stop flag (:class:`app.core.runner.StopFlag`) that the stop signals set while it is entered.

    ``with SignalStop() as stop: run(session, stop=stop)``. Outside the main thread (where Python allows
    no handlers) it is a plain flag. :meth:`set` stops without a signal (a preview window's q key).

    Attributes:
        signal_name: the name of the signal that set it (``"SIGTERM"``), or None.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._previous: dict[int, object] = {}
        self.signal_name: str | None = None
        self.signal_number: int | None = None

    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        self._event.set()

    @property
    def exit_code(self) -> int:
        """The shell's code for death by that signal, 128 + its number: 130 INT, 143 TERM, 129 HUP."""
        return 128 + (self.signal_number or signal.SIGINT)

    def __enter__(self) -> SignalStop:
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self._event.is_set() and number == signal.SIGINT:
            raise KeyboardInterrupt
        if self.signal_number is None:
            self.signal_number, self.signal_name = number, signal.Signals(number).name
        self._event.set()
