"""Scheduled detections on a worker thread: newcomers join a fixed number of frames later, so results do not
depend on how long the detector takes; one detector call at a time; errors reach the caller."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from scripted_people import Scene, ScriptedDetector, ScriptedEstimator, ScriptedPerson, walking

from app.core.background_detection import BackgroundDetection, merge_detections
from app.core.config import DetectorConfig, PipelineConfig
from app.core.pipeline import Pipeline
from detectors.base import Detections


class SlowDetector:
    """Wraps a detector: sleeps first, records the thread each call ran on and that calls never overlap."""

    def __init__(self, detector, delay_s: float = 0.0) -> None:
        self.detector, self.delay_s = detector, delay_s
        self.threads: list[str] = []
        self._running = threading.Lock()
        self.name, self.description, self.is_fallback, self.notice = "slow", "slow", False, None

    def __call__(self, image: np.ndarray):
        assert self._running.acquire(blocking=False), "two detector calls overlapped"
        try:
            self.threads.append(threading.current_thread().name)
            time.sleep(self.delay_s)
            return self.detector(image)
        finally:
            self._running.release()


def _walk_in_scene() -> Scene:
    """A walks from the start; B walks in at t = 0.4 s (frame 4)."""
    return Scene([
        ScriptedPerson(walking((150, 240), (30, 0))),
        ScriptedPerson(walking((450, 250), (-30, 0)), visible=lambda t: t >= 0.35),
    ])


def _run(scene: Scene, frames: int, lag: int, delay_s: float = 0.0):
    detector = SlowDetector(ScriptedDetector(scene), delay_s)
    config = PipelineConfig(detector=DetectorConfig(detect_every=6, background_lag=lag))
    pipeline = Pipeline(config, estimator=ScriptedEstimator(scene, noise_px=1.0), detector=detector)
    return [pipeline.process(frame) for frame in scene.frames(frames)], detector


def _first_frame_with(results, people: int) -> int:
    return next(i for i, result in enumerate(results) if len(result.track_ids) == people)


@pytest.mark.parametrize("lag", [0, 2, 5])
def test_a_newcomer_joins_lag_frames_after_the_scheduled_detection(lag: int) -> None:
    results, detector = _run(_walk_in_scene(), 14, lag)
    assert [i for i, result in enumerate(results) if result.detected] == [0, 6, 12]
    confirm = PipelineConfig().tracker.confirm_hits
    assert _first_frame_with(results, 2) == 6 + lag + confirm - 1  # seen at 6, joins at 6 + lag
    in_line = [not name.startswith("background-detection") for name in detector.threads[:2]]
    assert in_line == [True, lag == 0]  # the first detection is always in line; frame 12's may still run


def test_results_do_not_depend_on_how_long_the_detector_takes() -> None:
    fast, _ = _run(_walk_in_scene(), 14, lag=2)
    slow, _ = _run(_walk_in_scene(), 14, lag=2, delay_s=0.05)
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(a.track_ids, b.track_ids)
        np.testing.assert_array_equal(a.keypoints_smooth, b.keypoints_smooth)


def test_an_in_line_detection_waits_for_the_background_one() -> None:
    scene = Scene([ScriptedPerson(walking((150, 240), (30, 0)), visible=lambda t: not 0.65 <= t <= 0.75)])
    results, detector = _run(scene, 10, lag=3, delay_s=0.05)  # started at 6, gone at 7 -> in line at 8
    assert [i for i, result in enumerate(results) if result.detected] == [0, 6, 8]
    assert detector.threads[1].startswith("background-detection")
    assert not detector.threads[2].startswith("background-detection")  # did not overlap the one from 6


def test_collect_returns_the_detections_on_the_lag_th_frame_and_errors_too() -> None:
    boxes = np.array([[0, 0, 10, 20]], np.float32)
    background = BackgroundDetection(lambda image: Detections(boxes, np.ones(1, np.float32)), lag=2)
    assert background.collect() is None and not background.pending
    image = np.zeros((4, 4, 3), np.uint8)
    background.start(image)
    with pytest.raises(RuntimeError, match="already running"):
        background.start(image)
    assert background.collect() is None and background.pending
    np.testing.assert_array_equal(background.collect().xyxy, boxes)
    assert not background.pending

    def broken(image):
        raise OSError("camera unplugged")

    failing = BackgroundDetection(broken, lag=1)
    failing.start(image)
    with pytest.raises(OSError, match="unplugged"):
        failing.collect()
    failing.start(image)
    failing.cancel()  # a dropped run's error does not matter
    with pytest.raises(ValueError, match=">= 1 frame"):
        BackgroundDetection(broken, lag=0)


def test_closing_waits_for_the_run_in_flight_and_stops_the_worker_even_on_error() -> None:
    finished: list[bool] = []

    def detector(image: np.ndarray) -> Detections:
        time.sleep(0.05)
        finished.append(True)
        return Detections.empty()

    image, before = np.zeros((4, 4, 3), np.uint8), set(threading.enumerate())
    with pytest.raises(KeyError), BackgroundDetection(detector, lag=3) as background:
        background.start(image)
        workers = [thread for thread in set(threading.enumerate()) - before
                   if thread.name.startswith("background-detection")]
        raise KeyError("the caller failed")
    assert workers and not any(thread.is_alive() for thread in workers)
    assert finished == [True] and not background.pending
    background.close()  # idempotent
    with pytest.raises(RuntimeError, match="BackgroundDetection is closed"):
        background.start(image)


def test_a_detection_adds_newcomers_and_gives_a_followed_box_its_lost_limb_back() -> None:
    followed = np.array([[0, 0, 100, 200], [300, 0, 360, 200]], np.float32)  # the second lost an arm
    detections = Detections(
        np.array([[5, 5, 105, 205], [300, 0, 400, 200], [600, 0, 700, 200]], np.float32),
        np.array([0.9, 0.8, 0.6], np.float32),
    )
    boxes, scores = merge_detections(followed, np.array([0.7, 0.75], np.float32), detections)
    np.testing.assert_array_equal(boxes, [[0, 0, 105, 205], [300, 0, 400, 200], [600, 0, 700, 200]])
    np.testing.assert_array_equal(scores, np.array([0.7, 0.75, 0.6], np.float32))  # followed keep theirs
    empty = np.zeros((0, 4), np.float32)
    boxes, scores = merge_detections(empty, np.zeros(0, np.float32), detections)
    assert len(boxes) == 3 and len(scores) == 3


def test_a_detection_of_a_neighbour_does_not_widen_a_followed_box() -> None:
    """Two people side by side: each followed box widens only to its own detection, never to the union of
    two people; a detection that half-overlaps a box (0.3 <= IoU < 0.5) is neither merged nor new."""
    followed = np.array([[0, 0, 100, 200], [90, 0, 190, 200]], np.float32)
    detections = Detections(np.array([[95, 0, 195, 200], [40, 0, 130, 200]], np.float32),
                            np.array([0.9, 0.5], np.float32))
    boxes, _ = merge_detections(followed, np.array([0.7, 0.7], np.float32), detections)
    np.testing.assert_array_equal(boxes, [[0, 0, 100, 200], [90, 0, 195, 200]])
