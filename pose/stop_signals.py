"""Stopping a long job cleanly: the flags a loop polls, and SIGINT, SIGTERM and SIGHUP turned into one.

The headless run (``main.py run``) and training both use :class:`SignalStop`: the first signal only sets a
flag, the loop finishes its frame or step and closes or saves what it has; the same signal again acts as it
did before (a second Ctrl-C raises ``KeyboardInterrupt``, a second ``kill PID`` ends the process).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Protocol

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""Ctrl-C, ``kill PID`` and a closed terminal (SIGHUP does not exist on Windows)."""


class StopFlag(Protocol):
    """What a loop polls between steps: a ``threading.Event``, a ``multiprocessing.Event``, a
    :class:`SignalStop`."""

    def is_set(self) -> bool: ...


class SettableFlag(StopFlag, Protocol):
    """A stop flag that can also be raised."""

    def set(self) -> None: ...


class SignalStop:
    """A stop flag that the stop signals set while it is entered.

    ``with SignalStop() as stop: run(session, stop=stop)``. The first signal sets the flag and gives that
    signal back its handler from before, so the same signal again acts at once. Outside the main thread
    (where Python allows no handlers) it is a plain flag. :meth:`set` stops without a signal (a preview
    window's q key).

    Args:
        on_signal: called with the signal's name (``"SIGTERM"``) when one sets the flag, e.g. to log it.

    Attributes:
        signal_name: the name of the signal that set it, or None.
        signal_number: its number, or None.
    """

    def __init__(self, on_signal: Callable[[str], None] | None = None) -> None:
        self._event = threading.Event()
        self._previous: dict[int, object] = {}
        self._on_signal = on_signal
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
            if handler is not None:  # None: a handler set outside Python, which cannot be put back
                signal.signal(number, handler)
        self._previous.clear()

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self._previous[number] is not None:
            signal.signal(number, self._previous[number])
        if self.signal_number is None:
            self.signal_number, self.signal_name = number, signal.Signals(number).name
        self._event.set()
        if self._on_signal is not None:
            self._on_signal(signal.Signals(number).name)
