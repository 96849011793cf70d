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
attribute: called at the end of each timed pass, inside the timing, for work still in flight."""


@dataclass(frozen=True)
class Timing:
    """Milliseconds per frame over whole passes of a scene: the median pass and the fastest, and the mean
    per pipeline stage over all timed frames (empty for runners whose results carry no ``timings_ms``;
    a mean, so that a detector run every k frames counts 1/k)."""

    median_ms: float
    min_ms: float
    stages_ms: dict[str, float] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return 1000.0 / self.median_ms


def time_scene(make_runner: Callable[[], FrameRunner], scene: Scene, repeats: int, warmup: int = 2) -> Timing:
    """Mean milliseconds per frame of ``repeats`` passes over the scene, each with a fresh runner (a new
    stream: trackers start over); the first ``warmup`` frames of each pass are run but not timed, and the
    runner's ``finish()`` (if any) is timed with the last frame."""
    passes, stages = [], {}
    for _ in range(repeats):
        runner = make_runner()
        for index, frame in enumerate(scene.frames[:warmup]):
            runner(frame, index)
        start = time.perf_counter()
        for index, frame in enumerate(scene.frames[warmup:], start=warmup):
            for stage, ms in getattr(runner(frame, index), "timings_ms", {}).items():
                stages.setdefault(stage, []).append(ms)
        getattr(runner, "finish", lambda: None)()
        passes.append((time.perf_counter() - start) * 1000.0 / (len(scene.frames) - warmup))
    means = {stage: round(statistics.fmean(ms), 2) for stage, ms in stages.items() if stage != "total"}
    return Timing(statistics.median(passes), min(passes), means)


class GivenBoxes:
    """A person detector that pays for a real detector's run but reports the scene's known boxes.

    The timed cost is the real detector's (YOLO11n with random weights finds nothing useful); the pose
    stage then sees exactly the scene's people, so every configuration estimates the same number of people.
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


class TemplatePoses:
    """Runs the estimator in full (its whole cost), then reports a fixed upright pose inside each box.

    For untrained weights only: their heatmaps are flat, every keypoint decodes to one corner, and the
    pipeline could never follow anyone between detector runs, so every frame would pay for the detector.
    A trained model's poses span the person; this template does too (its padded extent is the box), so
    the detection schedule, tracking and smoothing do the work they do with trained weights.
    """

    # (x, y) in the unit box: nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles (COCO order).
    TEMPLATE = np.array([
        [0.5, 0.08], [0.46, 0.06], [0.54, 0.06], [0.42, 0.08], [0.58, 0.08], [0.35, 0.22], [0.65, 0.22],
        [0.3, 0.38], [0.7, 0.38], [0.28, 0.52], [0.72, 0.52], [0.4, 0.55], [0.6, 0.55], [0.4, 0.75],
        [0.6, 0.75], [0.4, 0.95], [0.6, 0.95],
    ], np.float32)

    def __init__(self, estimator, padding: float) -> None:
        self._estimator = estimator
        self._shrink = 1.0 / padding  # the pipeline pads the keypoints' extent by `padding` again
        self.spec, self.device, self.half = estimator.spec, estimator.device, estimator.half

    @property
    def flip(self) -> bool:
        return self._estimator.flip

    def __call__(self, image: np.ndarray, boxes: np.ndarray):
        from pose.estimator import PoseResult

        self._estimator(image, boxes)
        boxes = np.asarray(boxes, np.float32)
        centre, size = (boxes[:, :2] + boxes[:, 2:]) / 2, (boxes[:, 2:] - boxes[:, :2]) * self._shrink
        unit = (self.TEMPLATE - 0.5) / np.ptp(self.TEMPLATE, axis=0)  # extent exactly 1 x 1
        keypoints = centre[:, None] + unit[None] * size[:, None]
        return PoseResult(keypoints.astype(np.float32), np.full(keypoints.shape[:2], 0.9, np.float32))


def our_runner(
    estimator, detector, scene: Scene, detect_every: int, template_poses: bool = False,
    background_lag: int | None = None,
) -> Callable[[], FrameRunner]:
    """Runner factory for :class:`app.core.pipeline.Pipeline` with the app's default settings (detect,
    pose, track, smooth; no drawing) but ``detect_every`` and ``background_lag`` (None: the default).
    ``template_poses``: see :class:`TemplatePoses` (untrained weights)."""
    from app.core.config import DetectorConfig, PipelineConfig
    from app.core.pipeline import Pipeline
    from app.core.types import Frame

    boxes = GivenBoxes(detector, scene)
    lag = DetectorConfig.background_lag if background_lag is None else background_lag
    config = PipelineConfig(detector=DetectorConfig(detect_every=detect_every, background_lag=lag))
    if template_poses:
        estimator = TemplatePoses(estimator, config.detector.keypoint_box_padding)

    def make() -> FrameRunner:
        pipeline = Pipeline(config, estimator=estimator, detector=boxes)

        def run(image: np.ndarray, index: int) -> object:
            boxes.seek(index)
            return pipeline.process(Frame(image, index, index / 30.0))

        run.finish = pipeline.reset  # waits for a background detection still in flight
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

        return run

    return make


def yolo_pose_runner(device: str = "cpu") -> Callable[[], FrameRunner] | str:
    """ultralytics YOLO11n-pose built from ``yolo11n-pose.yaml`` (random weights: timing only), or why not.

    Built once and reused: it has no state across frames. It runs on as many torch threads as our pipeline
    (ultralytics would set ``os.cpu_count() - 1`` on its first CPU call: one thread on a 2-core machine).
    """
    os.environ.setdefault("YOLO_OFFLINE", "1")
    try:
        import torch
        from ultralytics import YOLO
    except ImportError as error:
        return f"ultralytics not installed ({error})"
    model = YOLO("yolo11n-pose.yaml", task="pose")
    threads = torch.get_num_threads()

    def make() -> FrameRunner:
        def run(image: np.ndarray, index: int) -> object:
            result = model.predict(image, device=device, verbose=False)
            torch.set_num_threads(threads)
            return result

        return run

    return make
