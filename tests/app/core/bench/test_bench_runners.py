"""The bench's frame runners (app.core.bench.runners) close what each pass built, untimed, even when the pass
fails; our pipeline's runner leaves the shared estimator open. No timing is asserted."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from scripted_people import pose_in_box

from app.core.bench.runners import our_runner, time_scene
from app.core.bench.scenes import compose_scene
from detectors.none import WholeFrameDetector
from pose.base import Estimator, PoseResult, RuntimeInfo
from pose.models.spec import ModelSpec


class StandingInBoxes:
    """A pose.base.Estimator fake: everyone stands in their box, keypoint score 0.9; records close."""

    spec = ModelSpec("standing")
    device = "cpu"
    flip = True
    half = False
    runtime = RuntimeInfo("standing")

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def __call__(self, image: np.ndarray, boxes: np.ndarray) -> PoseResult:
        keypoints = np.array([pose_in_box(box) for box in boxes], np.float32).reshape(-1, 17, 2)
        return PoseResult(keypoints, np.full(keypoints.shape[:2], 0.9, np.float32))


def test_each_pass_closes_its_runner_even_when_it_fails() -> None:
    scene, closed = compose_scene(1, 4), []

    def make():
        def run(image: np.ndarray, index: int) -> None:
            if index == 3 and len(closed) == 1:
                raise OSError("the second pass broke")

        run.close = lambda: closed.append(True)
        return run

    time_scene(make, scene, repeats=1, warmup=2)
    assert closed == [True]
    with pytest.raises(OSError, match="second pass"):
        time_scene(make, scene, repeats=1, warmup=2)
    assert closed == [True, True]


def test_our_runner_closes_its_pipeline_but_not_the_shared_estimator() -> None:
    scene, estimator = compose_scene(2, 8), StandingInBoxes()
    assert isinstance(estimator, Estimator)
    make = our_runner(estimator, WholeFrameDetector(), scene, detect_every=3, background_lag=1)
    before = set(threading.enumerate())
    runner = make()
    for index, frame in enumerate(scene.frames[:5]):  # a background detection starts on frame 3
        runner(frame, index)
    workers = [thread for thread in set(threading.enumerate()) - before
               if thread.name.startswith("background-detection")]
    runner.close()
    assert workers and not any(thread.is_alive() for thread in workers)
    with pytest.raises(RuntimeError, match="Pipeline is closed"):
        runner(scene.frames[5], 5)
    assert not estimator.closed
    timing = time_scene(make, scene, repeats=2, warmup=2)  # fresh pipelines on the same estimator
    assert timing.detected is not None and not estimator.closed
