"""Pipeline.close and reconfigure free what the pipeline owns: the background detection's worker thread and
the estimators it built; injected components stay open for their owner."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from scripted_people import Scene, ScriptedDetector, ScriptedEstimator, ScriptedPerson, walking

from app.core import pipeline as pipeline_module
from app.core.config import DetectorConfig, PipelineConfig
from app.core.errors import ModelLoadError
from app.core.pipeline import Pipeline
from pose.base import Estimator

SCENE = Scene([ScriptedPerson(walking((150, 240), (30, 0))), ScriptedPerson(walking((450, 250), (-30, 0)))])
CONFIG = PipelineConfig(detector=DetectorConfig(detect_every=3, background_lag=2))
"""A scheduled detection runs in the background on frame 3."""


@pytest.fixture
def built(monkeypatch) -> list[ScriptedEstimator]:
    """The estimators the pipeline builds itself (scripted fakes instead of real models)."""
    estimators: list[ScriptedEstimator] = []

    def build_estimator(config: PipelineConfig):
        estimators.append(ScriptedEstimator(SCENE))
        return estimators[-1], None, None

    monkeypatch.setattr(pipeline_module, "_build_estimator", build_estimator)
    monkeypatch.setattr(pipeline_module, "_build_detector", lambda config, estimator: ScriptedDetector(SCENE))
    return estimators


def _background_threads_after(pipeline: Pipeline, frames: int) -> list[threading.Thread]:
    """The background-detection threads started while ``pipeline`` processes the scene's first frames."""
    before = set(threading.enumerate())
    results = [pipeline.process(frame) for frame in SCENE.frames(frames)]
    assert [result.detected for result in results][:4] == [True, False, False, True]
    return [thread for thread in set(threading.enumerate()) - before
            if thread.name.startswith("background-detection")]


def test_closing_stops_the_background_thread_and_closes_the_estimator_it_built(built) -> None:
    with pytest.raises(KeyError), Pipeline(CONFIG) as pipeline:
        workers = _background_threads_after(pipeline, 4)
        raise KeyError("the caller failed")
    assert workers and not any(thread.is_alive() for thread in workers)
    assert [estimator.closed for estimator in built] == [True]
    pipeline.close()  # idempotent
    with pytest.raises(RuntimeError, match="Pipeline is closed"):
        pipeline.process(SCENE.frame(4))


def test_closing_leaves_an_injected_estimator_open() -> None:
    estimator = ScriptedEstimator(SCENE)
    assert isinstance(estimator, Estimator)  # the fake has every member the pipeline may use
    with Pipeline(CONFIG, estimator=estimator, detector=ScriptedDetector(SCENE)) as pipeline:
        pipeline.process(SCENE.frame(0))
    assert not estimator.closed


def test_reconfigure_closes_the_estimator_and_background_it_replaces(built) -> None:
    pipeline = Pipeline(CONFIG)
    workers = _background_threads_after(pipeline, 4)
    pipeline.reconfigure(replace(CONFIG, model=replace(CONFIG.model, runtime="torch")))
    assert [estimator.closed for estimator in built] == [True, False]
    assert pipeline.estimator is built[1]
    assert workers and not any(thread.is_alive() for thread in workers)
    pipeline.process(SCENE.frame(4))  # runs on the new estimator
    pipeline.close()
    assert built[1].closed


def test_reconfigure_leaves_a_replaced_injected_estimator_to_its_owner(built) -> None:
    injected = ScriptedEstimator(SCENE)
    pipeline = Pipeline(CONFIG, estimator=injected, detector=ScriptedDetector(SCENE))
    pipeline.reconfigure(replace(CONFIG, model=replace(CONFIG.model, runtime="torch")))
    assert pipeline.estimator is built[0] and not injected.closed
    pipeline.close()
    assert built[0].closed and not injected.closed


def test_a_failed_reconfigure_closes_what_it_built_and_keeps_the_old_settings(built, monkeypatch) -> None:
    pipeline = Pipeline(CONFIG)

    def broken(config, estimator):
        raise ModelLoadError("cannot set up detector 'yolo': no weights")

    monkeypatch.setattr(pipeline_module, "_build_detector", broken)
    with pytest.raises(ModelLoadError, match="cannot set up detector"):
        pipeline.reconfigure(replace(CONFIG, model=replace(CONFIG.model, runtime="torch")))
    assert [estimator.closed for estimator in built] == [False, True]
    assert pipeline.estimator is built[0] and pipeline.config == CONFIG
    pipeline.process(SCENE.frame(0))
