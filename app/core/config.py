"""Pipeline settings: one small frozen dataclass per concern, composed by :class:`PipelineConfig`.

Each component takes its own config (the tracker a :class:`TrackerConfig`, never the whole thing).
Model-intrinsic values (input size, keypoint set, normalisation) come from the model's ``spec``, not
from here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pose.evaluation.score_thresholds import ScoreThresholds

DEFAULT_MODEL = "edite_hrnet_s"
DEFAULT_DETECT_EVERY = 10
"""Default detection interval k: the smallest k whose detector share of the frame time is at most about a
quarter, capped at 10 so that newcomers are found within a third of a second at 30 fps (people already
followed are re-detected at once when lost). ``tests/benchmarks/bench_detect_interval.py`` measures the
share."""
FALLBACK_REDETECT_SCORE = 0.35
"""``DetectorConfig.redetect_score`` for weights that record no measured thresholds."""
FALLBACK_MIN_POSE_SCORE = 0.2
"""``DetectorConfig.min_pose_score`` for weights that record no measured thresholds."""


def weights_min_pose_score(calibrated: ScoreThresholds | None) -> float:
    """The min pose score measured for the weights (``calibrated``), else :data:`FALLBACK_MIN_POSE_SCORE`;
    what ``DetectorConfig.min_pose_score`` = None means."""
    return calibrated.min_pose if calibrated else FALLBACK_MIN_POSE_SCORE


def detector_export_dir() -> Path:
    """Where YOLO's OpenVINO exports are kept: ``yolo-openvino/`` beside the pose models' exports."""
    from pose.runtime import cache_root

    return cache_root() / "yolo-openvino"


def _check_range(owner: str, name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"{owner}.{name} must be in [{low}, {high}], got {value}")


@dataclass(frozen=True)
class ModelConfig:
    """The pose model.

    Attributes:
        name: registry name (``pose.models.registry``), e.g. ``"edite_hrnet_s"``.
        weights: path of a weights file, or None for the model's default weights.
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        flip: average the heatmaps of the crop and its mirror image (more accurate, twice the cost).
        half: run in float16; None lets the estimator decide (on for CUDA, off on CPU).
        runtime: how the model runs (``pose.runtime``): ``"auto"`` (with weights loaded, the fastest accurate
            CPU runtime on this machine, timed once and cached; else the BN-folded torch model), ``"onnx"``,
            ``"openvino"``, ``"openvino-bf16"``, ``"torch"`` or ``"eager"``.
    """

    name: str = DEFAULT_MODEL
    weights: str | None = None
    device: Literal["auto", "cpu", "cuda"] | str = "auto"
    flip: bool = True
    half: bool | None = None
    runtime: str = "auto"


@dataclass(frozen=True)
class DetectorConfig:
    """The person detector and how often it runs.

    Attributes:
        name: ``"auto"`` (YOLO when its weights are at hand, else the offline fallback), ``"yolo"``,
            ``"hog"`` (offline fallback) or ``"none"`` (the whole frame is one person box).
        weights: detector weights (YOLO), or None for the detector's default.
        trust_weights: load detector ``.pt`` weights that are no official ultralytics release (a pickle runs
            code when loaded): the command line's ``--trust-weights``.
        confidence: minimum detector score in [0, 1] for a box to be kept.
        image_size: YOLO's network input, longest side in pixels (a multiple of 32); None: the detector's
            own (640; 1280 for the bundled YOLO11n-pose, to find small people). Smaller is faster and misses
            small people.
        runtime: what runs YOLO: ``"auto"`` (an OpenVINO export on the CPU, cached beside the pose model's
            exports; torch on CUDA), ``"torch"`` or ``"openvino"`` (:data:`detectors.yolo.RUNTIMES`).
        detect_every: run the detector on every k-th frame (k >= 1); in between, each person's box is
            derived from their previous keypoints.
        background_lag: while people are followed, a scheduled detection runs on a worker thread and the
            people it finds join this many frames later (:mod:`app.core.background_detection`), so the
            frame it was taken on is not held up; 0, or a lag not below ``detect_every``, runs it in line.
        redetect_score: re-detect on the next frame when a tracked person's mean keypoint score falls below
            this value and below their score on their last detector frame (:mod:`app.core.slip_watch`), or
            when a person followed from their keypoints is lost. None: the value measured for the weights
            when they were shipped (:func:`app.core.weights.calibrated_score_thresholds`), else
            :data:`FALLBACK_REDETECT_SCORE`.
        keypoint_box_padding: box derived from keypoints = their extent scaled by this factor (> 1 adds the
            head top and feet the keypoints do not reach).
        min_pose_score: people whose mean keypoint score is below this are discarded as false detections.
            None: the value measured for the weights, else :data:`FALLBACK_MIN_POSE_SCORE`.
    """

    name: str = "auto"
    weights: str | None = None
    trust_weights: bool = False
    confidence: float = 0.5
    image_size: int | None = None
    runtime: str = "auto"
    detect_every: int = DEFAULT_DETECT_EVERY
    background_lag: int = 4
    redetect_score: float | None = None
    keypoint_box_padding: float = 1.25
    min_pose_score: float | None = None

    def __post_init__(self) -> None:
        _check_range("DetectorConfig", "confidence", self.confidence, 0.0, 1.0)
        for name in ("redetect_score", "min_pose_score"):
            if getattr(self, name) is not None:
                _check_range("DetectorConfig", name, getattr(self, name), 0.0, 1.0)
        if self.detect_every < 1:
            raise ValueError(f"DetectorConfig.detect_every must be >= 1, got {self.detect_every}")
        if self.background_lag < 0:
            raise ValueError(f"DetectorConfig.background_lag must be >= 0, got {self.background_lag}")
        if self.keypoint_box_padding < 1.0:
            raise ValueError(f"DetectorConfig.keypoint_box_padding must be >= 1: {self.keypoint_box_padding}")

    def score_thresholds(self, calibrated: ScoreThresholds | None) -> tuple[float, float]:
        """``(redetect_score, min_pose_score)`` in use: each as set here, else the one ``calibrated`` for
        the weights, else its fallback."""
        redetect = calibrated.redetect if calibrated else FALLBACK_REDETECT_SCORE
        min_pose = weights_min_pose_score(calibrated)
        return (redetect if self.redetect_score is None else self.redetect_score,
                min_pose if self.min_pose_score is None else self.min_pose_score)


@dataclass(frozen=True)
class TrackerConfig:
    """Matching people across frames.

    Attributes:
        iou_weight: similarity = ``iou_weight * box IoU + (1 - iou_weight) * OKS`` in [0, 1].
        min_similarity: pairs less similar than this are never matched.
        min_keypoint_score: keypoints below this score are left out of OKS.
        confirm_hits: a new track is reported once it has been matched in this many frames (tracks seen on
            the tracker's very first frame are reported at once).
        max_age_s: a track that has not been matched for this many seconds ends; its ID is never reused.
    """

    iou_weight: float = 0.5
    min_similarity: float = 0.2
    min_keypoint_score: float = 0.3
    confirm_hits: int = 3
    max_age_s: float = 1.0

    def __post_init__(self) -> None:
        _check_range("TrackerConfig", "iou_weight", self.iou_weight, 0.0, 1.0)
        _check_range("TrackerConfig", "min_similarity", self.min_similarity, 0.0, 1.0)
        if self.confirm_hits < 1:
            raise ValueError(f"TrackerConfig.confirm_hits must be >= 1, got {self.confirm_hits}")
        if self.max_age_s <= 0:
            raise ValueError(f"TrackerConfig.max_age_s must be > 0 seconds, got {self.max_age_s}")


@dataclass(frozen=True)
class SmootherConfig:
    """Per-keypoint constant-velocity Kalman smoothing.

    Attributes:
        enabled: when False, smoothed keypoints equal the raw ones.
        strength: one knob in [0, 1]: 0 follows the measurements almost exactly, 1 smooths hardest (more lag).
        min_score: keypoints scoring below this are predicted from their motion, not updated.
    """

    enabled: bool = True
    strength: float = 0.5
    min_score: float = 0.3

    def __post_init__(self) -> None:
        _check_range("SmootherConfig", "strength", self.strength, 0.0, 1.0)
        _check_range("SmootherConfig", "min_score", self.min_score, 0.0, 1.0)


@dataclass(frozen=True)
class RenderConfig:
    """What the overlay draws.

    Attributes:
        skeleton: draw limbs and keypoints.
        boxes: draw person boxes.
        ids: label each box with its track ID.
        trails: draw a fading trail of each person's recent positions.
        trail_s: trail length in seconds.
        keypoints: which coordinates to draw: ``"smooth"``, ``"raw"`` or ``"both"`` (raw drawn thin).
        min_score: keypoints below this score (and limbs touching them) are not drawn.
    """

    skeleton: bool = True
    boxes: bool = True
    ids: bool = True
    trails: bool = False
    trail_s: float = 1.0
    keypoints: Literal["smooth", "raw", "both"] = "smooth"
    min_score: float = 0.3

    def __post_init__(self) -> None:
        if self.keypoints not in ("smooth", "raw", "both"):
            raise ValueError(f"RenderConfig.keypoints must be smooth, raw or both, got {self.keypoints!r}")
        _check_range("RenderConfig", "min_score", self.min_score, 0.0, 1.0)


@dataclass(frozen=True)
class PipelineConfig:
    """Everything the pipeline needs, one part per concern."""

    model: ModelConfig = field(default_factory=ModelConfig)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    smoother: SmootherConfig = field(default_factory=SmootherConfig)
    render: RenderConfig = field(default_factory=RenderConfig)

    def to_dict(self) -> dict[str, dict[str, object]]:
        """Plain, JSON-ready data (for the metadata file and settings persistence)."""
        return asdict(self)
