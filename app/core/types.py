"""Typed, frozen values that cross module boundaries: frames in, per-frame results out.

Conventions everywhere in ``app.core``: images are BGR ``uint8`` arrays of shape ``(H, W, 3)``;
coordinates are image pixels with the origin at the top-left corner, x to the right, y down; boxes are
``(x1, y1, x2, y2)``; times are seconds (``_s``) or milliseconds (``_ms``); keypoints follow
``pose.skeleton.COCO`` order (17 keypoints).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

STAGES: tuple[str, ...] = ("read", "detect", "pose", "track", "smooth", "render", "total")
"""Names of the per-frame timing stages, in pipeline order. ``total`` is the wall time of the whole frame."""


@dataclass(frozen=True, eq=False)
class Frame:
    """One image handed over by a source.

    Attributes:
        image: ``(H, W, 3)`` uint8, BGR.
        index: 0-based position in the source's stream of delivered frames (live sources skip no index
            even when they drop frames; drops are counted in ``dropped_frames``).
        timestamp_s: presentation time in seconds from the start of the source: the container's
            timestamp for video files, the capture clock for cameras.
        dropped_frames: frames the source has discarded so far (live sources only; always 0 for files).
        new_scene: nothing carries over from the frames before (a photo unrelated to the last one): the
            pipeline forgets its people, tracks and filters first, and detects afresh.
    """

    image: np.ndarray
    index: int
    timestamp_s: float
    dropped_frames: int = 0
    new_scene: bool = False

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        height, width = self.image.shape[:2]
        return width, height


def _frozen_array(values: np.ndarray, dtype: type, shape_tail: tuple[int, ...], name: str) -> np.ndarray:
    array = np.array(values, dtype=dtype, copy=True)
    if array.size == 0:
        array = array.reshape((0, *shape_tail))
    if array.shape[1:] != shape_tail:
        raise ValueError(f"FrameResult.{name}: expected shape (N, {', '.join(map(str, shape_tail))}), "
                         f"got {array.shape}")
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class FrameResult:
    """Everything the pipeline found in one frame, for N reported (confirmed) people.

    Row ``i`` of every array describes the same person.

    Attributes:
        frame_index: the source frame's index.
        timestamp_s: the source frame's timestamp in seconds.
        image_hw: ``(height, width)`` of the frame in pixels.
        boxes: ``(N, 4)`` float32 person boxes ``x1, y1, x2, y2`` in image pixels: the detector's box on a
            detection frame; in between, the padded box around this frame's confident keypoints.
        box_scores: ``(N,)`` float32 detector confidence in [0, 1] of the box (carried over from the last
            detection of that person on frames where the detector did not run).
        track_ids: ``(N,)`` int64 stable person IDs, counted from 1 by each tracker instance.
        keypoints: ``(N, 17, 2)`` float32 raw keypoints (x, y) in image pixels, as the estimator gave them.
        scores: ``(N, 17)`` float32 keypoint confidences in [0, 1] (heatmap peak values).
        keypoints_smooth: ``(N, 17, 2)`` float32 Kalman-smoothed keypoints in image pixels (equal to
            ``keypoints`` when smoothing is off).
        timings_ms: milliseconds per stage, keys from :data:`STAGES` (stages that did not run are 0).
        detected: True when the person detector ran on this frame.
    """

    frame_index: int
    timestamp_s: float
    image_hw: tuple[int, int]
    boxes: np.ndarray
    box_scores: np.ndarray
    track_ids: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    keypoints_smooth: np.ndarray
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    detected: bool = False

    def __post_init__(self) -> None:
        num_keypoints = np.shape(self.scores)[1] if np.ndim(self.scores) == 2 else 17
        arrays = {
            "boxes": (np.float32, (4,)),
            "box_scores": (np.float32, ()),
            "track_ids": (np.int64, ()),
            "keypoints": (np.float32, (num_keypoints, 2)),
            "scores": (np.float32, (num_keypoints,)),
            "keypoints_smooth": (np.float32, (num_keypoints, 2)),
        }
        object.__setattr__(self, "image_hw", (int(self.image_hw[0]), int(self.image_hw[1])))
        count = None
        for name, (dtype, tail) in arrays.items():
            array = _frozen_array(getattr(self, name), dtype, tail, name)
            if count is not None and len(array) != count:
                raise ValueError(f"FrameResult.{name}: {len(array)} rows, expected {count} like 'boxes'")
            count = len(array)
            object.__setattr__(self, name, array)
        timings = {stage: float(self.timings_ms.get(stage, 0.0)) for stage in STAGES}
        object.__setattr__(self, "timings_ms", MappingProxyType(timings))

    @property
    def num_people(self) -> int:
        return len(self.track_ids)

    def with_timings(self, **stage_ms: float) -> FrameResult:
        """A copy with some stage timings (ms) replaced: ``result.with_timings(read=3.1, render=4.0)``."""
        unknown = set(stage_ms) - set(STAGES)
        if unknown:
            raise ValueError(f"unknown timing stage(s) {sorted(unknown)}; known stages: {', '.join(STAGES)}")
        return replace(self, timings_ms={**self.timings_ms, **stage_ms})

    @classmethod
    def empty(cls, frame: Frame, num_keypoints: int = 17, **timings_ms: float) -> FrameResult:
        """The result for a frame in which nobody was reported."""
        return cls(
            frame_index=frame.index,
            timestamp_s=frame.timestamp_s,
            image_hw=frame.image.shape[:2],
            boxes=np.zeros((0, 4), np.float32),
            box_scores=np.zeros((0,), np.float32),
            track_ids=np.zeros((0,), np.int64),
            keypoints=np.zeros((0, num_keypoints, 2), np.float32),
            scores=np.zeros((0, num_keypoints), np.float32),
            keypoints_smooth=np.zeros((0, num_keypoints, 2), np.float32),
            timings_ms=timings_ms,
        )


@dataclass(frozen=True)
class SourceInfo:
    """What a frame source is, known once it is open.

    Attributes:
        spec: what the user asked for: a path, or a camera index as text.
        kind: ``"video"``, ``"camera"``, ``"image"`` or ``"images"`` (a folder).
        size: ``(width, height)`` in pixels.
        fps: nominal frame rate in frames per second (the container's or the camera's claim; for images
            the rate the user set), or None when unknown.
        frame_count: number of frames when known in advance (files), else None.
        is_live: True for cameras: frames arrive in real time and may be dropped.
    """

    spec: str
    kind: str
    size: tuple[int, int]
    fps: float | None
    frame_count: int | None
    is_live: bool


@dataclass(frozen=True)
class PipelineInfo:
    """What the pipeline is running with, for display (GUI, CLI) and for the metadata JSON.

    Attributes:
        model: pose model registry name, e.g. ``"edite_hrnet_s"``.
        weights: path of the weights file loaded, or None for the model's default.
        weights_sha256: hex SHA-256 of that file, or None when no file was loaded.
        device: where the pose model runs, ``"cpu"`` or ``"cuda"`` (``"cuda:0"``...).
        flip: whether flip-averaging is on.
        half: whether the pose model runs in float16.
        runtime: how the pose model runs (``pose.runtime``), e.g. ``"openvino-bf16"``.
        runtime_ms_per_crop: its milliseconds per crop as timed on this machine when it was chosen; None
            when forced or while it is a first guess.
        runtime_tuning: True while the runtimes are timed in the background (``runtime`` is the first guess).
        detector: the active detector's name, e.g. ``"yolo"`` or ``"hog"``.
        detector_description: one line describing it, for display.
        detector_is_fallback: True when the offline fallback is in use.
        detector_notice: why a fallback was chosen, or None.
        detect_every: the detector runs every this many frames (1 = every frame).
        redetect_score: a followed person whose mean keypoint score falls below this (and below their score on
            their last detector frame) is re-detected.
        min_pose_score: a detection whose mean keypoint score is below this is dropped.
        scores_from_weights: whether the weights file supplied the two thresholds (measured for it when it
            was shipped) where the settings leave them open.
    """

    model: str
    weights: str | None
    weights_sha256: str | None
    device: str
    flip: bool
    half: bool
    runtime: str
    runtime_ms_per_crop: float | None
    runtime_tuning: bool
    detector: str
    detector_description: str
    detector_is_fallback: bool
    detector_notice: str | None
    detect_every: int
    redetect_score: float
    min_pose_score: float
    scores_from_weights: bool

    @property
    def runtime_text(self) -> str:
        """The pose runtime in one line, e.g. ``"onnx, 4.5 ms per crop (the fastest on this CPU)"``."""
        if self.runtime_tuning:
            return (f"{self.runtime} (timing the runtimes for this CPU in the background; the fastest takes "
                    "over)")
        if self.runtime_ms_per_crop is not None:
            return f"{self.runtime}, {self.runtime_ms_per_crop:.1f} ms per crop (the fastest on this CPU)"
        return self.runtime

    @property
    def score_thresholds_text(self) -> str:
        """The two keypoint-score thresholds in one line, and where they come from."""
        source = "measured for these weights" if self.scores_from_weights else "defaults"
        return (f"re-detect below {self.redetect_score:.3g}, drop people below {self.min_pose_score:.3g} "
                f"({source})")


@dataclass(frozen=True)
class RunInfo:
    """Handed to every sink when a run starts: the source and the pipeline it is processed with.

    ``settings`` is the pipeline configuration as plain JSON-ready data (see ``PipelineConfig.to_dict``).
    """

    source: SourceInfo
    pipeline: PipelineInfo
    settings: Mapping[str, object] = field(default_factory=dict)
