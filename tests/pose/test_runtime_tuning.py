"""Background runtime trials (pose.runtime_tuning): the estimator starts at once on a first guess and takes
the timed winner over between two calls; failures and early closes leave nothing running or open."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch
from support import REPO_ROOT

from pose import runtime_autotune, runtime_tuning
from pose.base import RuntimeInfo
from pose.estimator import TopDownEstimator
from pose.models.registry import create_model
from pose.runtime import resolve_runtime
from pose.runtime_autotune import Choice
from pose.runtime_tuning import BackgroundTuning

WAIT_S = 60.0
"""Upper bound on a background thread in these tests (a hang fails instead of blocking CI)."""


class RecordedForward:
    """A forward pass that records whether it was closed."""

    def __init__(self, runtime: str) -> None:
        self.runtime, self.closed = runtime, False

    def close(self) -> None:
        self.closed = True


def _choice(runtime: str = "torch", ms: float = 1.5) -> Choice:
    return Choice(runtime, ms, (), cached=False)


@pytest.fixture
def tiny() -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model("edite_hrnet_tiny", input_size=(64, 64)).eval()


def test_the_winner_is_built_from_a_copy_and_handed_over_once(tiny):
    tuned_models = []

    def tune(model, cancelled):
        tuned_models.append(model)
        return _choice("openvino-bf16", 2.5)

    tuning = BackgroundTuning(tiny, lambda model, runtime: RecordedForward(runtime), "onnx", tune)
    assert tuning.wait(WAIT_S) and not tuning.running
    choice, forward = tuning.take()
    assert choice.runtime == forward.runtime == "openvino-bf16"
    assert tuned_models[0] is not tiny  # the caller's model is never touched by the thread
    assert tuning.take() is None
    tuning.close()
    assert not forward.closed  # handed over: the caller owns it now


def test_when_the_running_runtime_wins_nothing_is_built(tiny):
    built = []
    tuning = BackgroundTuning(tiny, lambda model, runtime: built.append(runtime), "onnx",
                              lambda model, cancelled: _choice("onnx", 3.0))
    assert tuning.wait(WAIT_S)
    assert tuning.take() == (_choice("onnx", 3.0), None) and built == []


def test_failed_trials_say_why_and_hand_over_nothing(tiny):
    def tune(model, cancelled):
        raise ValueError("no pose runtime passed the trials")

    tuning = BackgroundTuning(tiny, lambda model, runtime: RecordedForward(runtime), "onnx", tune)
    assert tuning.wait(WAIT_S)
    assert tuning.take() is None and tuning.error == "ValueError: no pose runtime passed the trials"


@pytest.mark.parametrize("last_trial", ["stopped", "ended with a winner"])
def test_closing_during_the_trials_stops_them_and_waits_for_the_thread(tiny, last_trial):
    """A run that ends before the trials must not leave their thread inside a runtime at exit (it crashed
    the interpreter): close() stops them after the trial in progress, waits, and builds nothing."""
    started, built = threading.Event(), []

    def tune(model, cancelled):
        started.set()
        while not cancelled():  # a trial in progress until the caller closes
            time.sleep(0.01)
        if last_trial == "stopped":
            raise runtime_autotune.TuningCancelledError("stopped after 1 of 4 runtime trials")
        return _choice()

    tuning = BackgroundTuning(tiny, lambda model, runtime: built.append(runtime), "onnx", tune)
    assert started.wait(WAIT_S)
    tuning.close()
    assert not tuning.running and not any(t.name == "pose-runtime-trials" for t in threading.enumerate())
    assert built == [] and tuning.take() is None and tuning.error is None


LEFT_OPEN = """
import sys, threading, time
from pose.models.registry import create_model
from pose.runtime_tuning import BackgroundTuning

started = threading.Event()

def tune(model, cancelled):
    started.set()
    while not cancelled():  # a long trial, until Python exits
        time.sleep(0.01)
    open(sys.argv[1], "w").write("cancelled")
    raise RuntimeError("stopped")

tuning = BackgroundTuning(create_model("edite_hrnet_tiny", input_size=(64, 64)).eval(),
                          lambda model, runtime: None, "onnx", tune)
started.wait()
"""  # exits without closing the tuning


def test_a_tuning_left_open_is_stopped_at_interpreter_exit(tmp_path):
    marker = tmp_path / "trial"
    done = subprocess.run([sys.executable, "-c", LEFT_OPEN, str(marker)], cwd=REPO_ROOT, timeout=WAIT_S,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert marker.read_text() == "cancelled"  # the trial saw the stop before Python tore down


@pytest.fixture
def recorded_tunings(monkeypatch, tmp_path):
    """Every BackgroundTuning the estimator starts, with no cached choice (exports go to ``tmp_path``)."""
    monkeypatch.setenv("EDITE_POSE_CACHE", str(tmp_path))
    created: list[BackgroundTuning] = []

    class Recorded(BackgroundTuning):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr(runtime_tuning, "BackgroundTuning", Recorded)
    monkeypatch.setattr(runtime_autotune, "cached_choice", lambda model: None)
    return created


def _background_estimator(model: torch.nn.Module) -> TopDownEstimator:
    return TopDownEstimator(model, device="cpu", flip=False, runtime="auto", tune_in_background=True)


def _people_image() -> tuple[np.ndarray, np.ndarray]:
    image = np.random.default_rng(0).integers(0, 255, (120, 100, 3), np.uint8)
    return image, np.array([[10.0, 10.0, 60.0, 110.0], [40.0, 5.0, 95.0, 100.0]])


def test_the_estimator_runs_at_once_on_a_guess_then_takes_the_timed_winner_over(tiny, recorded_tunings,
                                                                                monkeypatch):
    monkeypatch.setattr(runtime_tuning, "autotune", lambda model, cancelled: _choice("torch", 1.5))
    guess = resolve_runtime("auto", torch.device("cpu"))
    image, boxes = _people_image()
    with _background_estimator(tiny) as estimator:
        assert estimator.runtime == RuntimeInfo(guess, None, tuning=True)
        first = estimator(image, boxes)
        (tuning,) = recorded_tunings
        assert tuning.wait(WAIT_S)
        second = estimator(image, boxes)
        assert estimator.runtime == RuntimeInfo("torch", 1.5)
    np.testing.assert_allclose(second.keypoints, first.keypoints, atol=0.5)


def test_the_estimator_keeps_its_first_guess_running_when_it_wins(tiny, recorded_tunings, monkeypatch):
    guess = resolve_runtime("auto", torch.device("cpu"))
    monkeypatch.setattr(runtime_tuning, "autotune", lambda model, cancelled: _choice(guess, 4.0))
    image, boxes = _people_image()
    with _background_estimator(tiny) as estimator:
        running = estimator._forward_fn
        assert recorded_tunings[0].wait(WAIT_S)
        estimator(image, boxes)
        assert estimator.runtime == RuntimeInfo(guess, 4.0) and estimator._forward_fn is running


def test_the_estimator_keeps_its_guess_when_the_trials_fail(tiny, recorded_tunings, monkeypatch):
    def failing(model, cancelled):
        raise ValueError("no pose runtime passed the trials")

    monkeypatch.setattr(runtime_tuning, "autotune", failing)
    image, boxes = _people_image()
    with _background_estimator(tiny) as estimator:
        assert recorded_tunings[0].wait(WAIT_S)
        estimator(image, boxes)
        assert estimator.runtime == RuntimeInfo(resolve_runtime("auto", torch.device("cpu")))


def test_a_cached_choice_is_used_at_once_without_trials(tiny, recorded_tunings, monkeypatch):
    monkeypatch.setattr(runtime_autotune, "cached_choice", lambda model: _choice("torch", 2.0))
    monkeypatch.setattr(runtime_autotune, "autotune", lambda model, cancelled=None: _choice("torch", 2.0))
    with TopDownEstimator(tiny, device="cpu", runtime="auto", tune_in_background=True) as estimator:
        assert estimator.runtime == RuntimeInfo("torch", 2.0)
    assert recorded_tunings == []
