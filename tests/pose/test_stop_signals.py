"""SignalStop: the first stop signal sets the flag, the same signal again acts as it did before."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from pose.stop_signals import SignalStop


def _send(number: int) -> None:
    os.kill(os.getpid(), number)  # handled by the main thread before os.kill returns


def test_the_first_signal_sets_the_flag_names_it_and_is_announced():
    announced: list[str] = []
    with SignalStop(on_signal=announced.append) as stop:
        assert not stop.is_set()
        _send(signal.SIGTERM)
        assert stop.is_set()
        assert (stop.signal_name, stop.exit_code, announced) == ("SIGTERM", 143, ["SIGTERM"])
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_second_ctrl_c_interrupts_at_once_and_the_handlers_come_back():
    before = signal.getsignal(signal.SIGINT)
    with SignalStop() as stop:
        _send(signal.SIGINT)
        assert stop.is_set() and stop.exit_code == 130
        with pytest.raises(KeyboardInterrupt):
            _send(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_a_set_without_a_signal_names_none():
    with SignalStop() as stop:
        stop.set()
    assert stop.is_set() and stop.signal_name is None


def test_outside_the_main_thread_it_installs_nothing():
    handlers: list[object] = []

    def enter() -> None:
        with SignalStop():
            handlers.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=enter)
    thread.start()
    thread.join()
    assert handlers == [signal.SIG_DFL]
