"""The per-frame pipeline: detect (every k frames) -> pose -> track -> smooth, with per-stage timings.

``Pipeline(config).process(frame)`` turns one :class:`Frame` into a :class:`FrameResult`; a run session
drives a whole source into outputs (see :mod:`app.core.session`). Between detector runs each person's box is
derived from their previous keypoints; the detector runs again at once when a tracked person's mean keypoint
score drops below the re-detect threshold (``DetectorConfig.redetect_score``, by default the one measured for
the weights) and below their score on their last detector frame, or when a person followed from their
keypoints is lost (:mod:`app.core.slip_watch`: a person who is simply hard to see, or gone, is not re-detected
on every frame). A scheduled run while people are followed only looks for newcomers, and widens a followed
box that lost a limb to the detected box of that person: it runs in the background and its boxes join
``DetectorConfig.background_lag`` frames later (:mod:`app.core.background_detection`). A scene where the
detector found nobody is searched again on the schedule, in line (there is nothing to pose meanwhile): an
empty webcam view costs one detector run in k frames, not one per frame, and a person who walks in is found
within k frames.
"""

from __future__ import annotations

import logging
import pickle
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from app.core.background_detection import BackgroundDetection, merge_detections
from app.core.config import PipelineConfig, detector_export_dir, weights_min_pose_score
from app.core.errors import ModelLoadError
from app.core.slip_watch import SlipWatch
from app.core.tracking.similarity import suppress_duplicate_poses
from app.core.tracking.smoother import KeypointSmoother
from app.core.tracking.tracker import Tracker
from app.core.types import Frame, FrameResult, PipelineInfo, RunInfo, SourceInfo
from app.core.weights import calibrated_score_thresholds
from pose.base import Closeable, Estimator
from pose.geometry import boxes_from_keypoints
from pose.skeleton import Skeleton

if TYPE_CHECKING:
    from detectors.base import PersonDetector
    from pose.estimator import TopDownEstimator

log = logging.getLogger(__name__)

DUPLICATE_OKS = 0.9
"""Two poses this similar (OKS) are one person seen twice; the weaker is dropped."""


@dataclass(frozen=True)
class _Followed:
    """Where to look for each person on the next frame: boxes around their keypoints, and box scores."""

    boxes: np.ndarray
    box_scores: np.ndarray


class Pipeline(Closeable):
    """Detector, pose estimator, tracker and smoother for one stream of frames.

    Args:
        config: the settings; see :class:`app.core.config.PipelineConfig`.
        estimator, detector: ready-made components (tests inject fakes): a :class:`pose.base.Estimator`
            and a :class:`detectors.base.PersonDetector`. They stay the caller's: :meth:`close` leaves them
            open (the caller may share them between pipelines). When None they are built from
            ``config.model`` and ``config.detector`` and belong to the pipeline. Building raises
            :class:`ModelLoadError` naming the model, the weights file or the detector that could not be
            set up.
        weights_sha256: the loaded weights' SHA-256 when an estimator is injected.

    A pipeline is stateful (tracks, smoothing filters, detection schedule): use one per stream and call
    :meth:`reset` before feeding it another one. :meth:`close` (or leaving a ``with`` block) stops the
    background detection's thread and closes the estimator the pipeline built; :meth:`process` afterwards
    raises ``RuntimeError``.
    """

    def __init__(
        self,
        config: PipelineConfig | None = None,
        *,
        estimator: Estimator | None = None,
        detector: PersonDetector | None = None,
        weights_sha256: str | None = None,
    ) -> None:
        self.config = config or PipelineConfig()
        self._weights, self._weights_sha256 = self.config.model.weights, weights_sha256
        self._owns_estimator = estimator is None
        if estimator is None:
            estimator, self._weights, self._weights_sha256 = _build_estimator(self.config)
        self.estimator = estimator
        self.skeleton: Skeleton = estimator.spec.skeleton
        if detector is None:
            detector = _build_detector(self.config, estimator)
        self.detector = detector
        self._background = _background_for(detector, self.config)
        self._calibrated = calibrated_score_thresholds(self._weights)
        self._redetect_score, self._min_pose_score = self.config.detector.score_thresholds(self._calibrated)
        self.tracker = Tracker(self.config.tracker, self.skeleton)
        self.smoother = KeypointSmoother(self.config.smoother)
        self._slip_watch = SlipWatch()
        self._followed: _Followed | None = None
        self._frames_since_detection = 0
        self._redetect = True

    # -- description -------------------------------------------------------------------------------
    def describe(self) -> PipelineInfo:
        """What is running: model, weights and their hash, device, runtime, detector (and fallback notice)."""
        estimator, detector, runtime = self.estimator, self.detector, self.estimator.runtime
        return PipelineInfo(
            model=estimator.spec.name,
            weights=self._weights,
            weights_sha256=self._weights_sha256,
            device=estimator.device,
            flip=estimator.flip,
            half=estimator.half,
            runtime=runtime.name,
            runtime_ms_per_crop=runtime.ms_per_crop,
            runtime_tuning=runtime.tuning,
            detector=detector.name,
            detector_description=detector.description,
            detector_is_fallback=bool(detector.is_fallback),
            detector_notice=detector.notice,
            detect_every=self.config.detector.detect_every,
            redetect_score=self._redetect_score,
            min_pose_score=self._min_pose_score,
            scores_from_weights=self._calibrated is not None and None in (
                self.config.detector.redetect_score, self.config.detector.min_pose_score),
        )

    def reconfigure(self, config: PipelineConfig) -> None:
        """Apply new settings between frames, rebuilding only what changed.

        A new model (name, weights, device, precision) or detector (name, weights, confidence) is loaded;
        flip, smoothing, tracking and the detection interval switch at once. Tracks and filters restart when
        the tracker or smoother settings or the keypoint set (weights trained on another skeleton) change.
        What is replaced is closed (an injected estimator is left
        to its owner). Raises :class:`ModelLoadError` and keeps the old settings if a new model or detector
        cannot be set up.
        """
        self._ensure_open()
        old = self.config
        estimator, weights, sha256 = self.estimator, self._weights, self._weights_sha256
        if _model_identity(config) != _model_identity(old):
            estimator, weights, sha256 = _build_estimator(config)
        detector = self.detector
        if _detector_identity(config) != _detector_identity(old) or estimator is not self.estimator:
            try:
                detector = _build_detector(config, estimator)
            except ModelLoadError:
                if estimator is not self.estimator:
                    estimator.close()  # built for the settings that failed
                raise
        new, now = config.detector, old.detector
        schedule_changed = (new.background_lag, new.detect_every) != (now.background_lag, now.detect_every)
        if detector is not self.detector or schedule_changed:
            if self._background is not None:
                self._background.close()
            self._background = _background_for(detector, config)
        if estimator is not self.estimator:
            if self._owns_estimator:
                self.estimator.close()
            self._owns_estimator = True
        self.estimator, self.detector, self.config = estimator, detector, config
        if weights != self._weights:
            self._calibrated = calibrated_score_thresholds(weights)
        self._weights, self._weights_sha256 = weights, sha256
        self._redetect_score, self._min_pose_score = config.detector.score_thresholds(self._calibrated)
        estimator.flip = config.model.flip
        skeleton_changed = estimator.spec.skeleton != self.skeleton
        self.skeleton = estimator.spec.skeleton
        if config.tracker != old.tracker or config.smoother != old.smoother or skeleton_changed:
            self.tracker = Tracker(config.tracker, self.skeleton)
            self.smoother = KeypointSmoother(config.smoother)
            self.reset()

    # -- processing ----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget all tracks and filters (before processing another stream); track IDs restart at 1."""
        self.tracker.reset()
        self.smoother.reset()
        self._slip_watch.reset()
        if self._background is not None:
            self._background.cancel()
        self._followed = None
        self._frames_since_detection = 0
        self._redetect = True

    def _close(self) -> None:
        if self._background is not None:
            self._background.close()
        if self._owns_estimator:
            self.estimator.close()

    def process(self, frame: Frame) -> FrameResult:
        """Find, track and smooth everyone in ``frame``; timings cover detect, pose, track and smooth.
        A :attr:`Frame.new_scene` starts afresh (:meth:`reset`): everyone found is shown at once."""
        self._ensure_open()
        if frame.new_scene:
            self.reset()
        clock = _StageClock()
        in_line = self._must_detect_in_line()
        if in_line:
            if self._background is not None:
                self._background.cancel()  # the detector is needed now; a stale result is not
            boxes, box_scores = self._detect(frame.image)
        else:
            boxes, box_scores = self._followed.boxes, self._followed.box_scores
            detections = self._background.collect() if self._background is not None else None
            if detections is not None:
                boxes, box_scores = merge_detections(boxes, box_scores, detections)
        detected = in_line or self._start_background_detection(frame.image)
        self._frames_since_detection = 1 if detected else self._frames_since_detection + 1
        clock.lap("detect")

        keypoints, scores = self._estimate(frame.image, boxes)
        keep = self._plausible(boxes, keypoints, scores)
        boxes, box_scores, keypoints, scores = boxes[keep], box_scores[keep], keypoints[keep], scores[keep]
        around_keypoints = self._boxes_around(keypoints, scores)
        followable = np.isfinite(around_keypoints).all(axis=1)
        if not in_line:  # report where each person is now, not the crop taken from the last frame
            boxes = np.where(followable[:, None], around_keypoints, boxes)
        self._followed = _Followed(around_keypoints[followable], box_scores[followable])
        clock.lap("pose")

        update = self.tracker.update(frame.timestamp_s, boxes, keypoints, scores)
        clock.lap("track")

        if self.config.smoother.enabled:
            self.smoother.forget(update.ended)
            heights = boxes[:, 3] - boxes[:, 1]
            smooth = self.smoother.update(frame.timestamp_s, update.ids, keypoints, scores, heights)
        else:
            smooth = keypoints
        clock.lap("smooth")

        shown = update.confirmed
        self._slip_watch.forget(update.ended)
        slipped = self._slip_watch.slipped(update.ids[shown], scores[shown].mean(axis=1), update.lost,
                                           self._redetect_score, detected=in_line)
        self._redetect = bool(not followable.all() or slipped)
        return FrameResult(
            frame_index=frame.index,
            timestamp_s=frame.timestamp_s,
            image_hw=frame.image.shape[:2],
            boxes=boxes[shown],
            box_scores=box_scores[shown],
            track_ids=update.ids[shown],
            keypoints=keypoints[shown],
            scores=scores[shown],
            keypoints_smooth=smooth[shown],
            timings_ms=clock.laps_ms,
            detected=detected,
        )

    def run_info(self, source: SourceInfo) -> RunInfo:
        """What sinks are told at the start of a run of ``source``."""
        return RunInfo(source=source, pipeline=self.describe(), settings=self.config.to_dict())

    # -- steps -----------------------------------------------------------------------------------------
    def _detection_due(self) -> bool:
        return self._frames_since_detection >= self.config.detector.detect_every

    def _must_detect_in_line(self) -> bool:
        """Detect on this frame, before posing: the first frame, someone lost, or a run that is due and
        either has nobody to follow meanwhile or cannot go to the background."""
        if self._redetect or self._followed is None:
            return True
        nobody_followed = not len(self._followed.boxes)
        return self._detection_due() and (nobody_followed or self._background is None)

    def _start_background_detection(self, image: np.ndarray) -> bool:
        """Start the scheduled detection on the worker thread if it is due; True if started."""
        if self._background is None or self._background.pending or not self._detection_due():
            return False
        self._background.start(image)
        return True

    def _detect(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        detections = self.detector(image)
        boxes = np.asarray(detections.xyxy, np.float32).reshape(-1, 4)
        return boxes, np.asarray(detections.scores, np.float32).reshape(-1)

    def _boxes_around(self, keypoints: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """``(N, 4)`` padded boxes around each person's keypoints that score at least the weights' own
        min pose score (a property of their score scale, not the user's setting: with the tracker's 0.3,
        weights that score legs lower dropped them from the box, and the crop shrank frame by frame to the
        upper body); NaN rows where too few."""
        boxes = boxes_from_keypoints(keypoints, scores, weights_min_pose_score(self._calibrated),
                                     self.config.detector.keypoint_box_padding)
        return np.asarray(boxes, np.float32).reshape(-1, 4)

    def _estimate(self, image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(N, K, 2)`` keypoints and ``(N, K)`` scores clipped to [0, 1], the confidence every later stage
        and output promises (a trained heatmap's peak overshoots its 1.0 target a little)."""
        count = self.skeleton.num_keypoints
        if not len(boxes):
            return np.zeros((0, count, 2), np.float32), np.zeros((0, count), np.float32)
        poses = self.estimator(image, boxes)
        scores = np.clip(np.asarray(poses.scores, np.float32), 0.0, 1.0)
        return np.asarray(poses.keypoints, np.float32), scores

    def _plausible(self, boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Indices of people kept: a real pose (mean score high enough), each person once."""
        candidates = np.flatnonzero(scores.mean(axis=1) >= self._min_pose_score)
        unique = suppress_duplicate_poses(
            keypoints[candidates], scores[candidates], boxes[candidates], self.skeleton.oks_sigmas,
            threshold=DUPLICATE_OKS,
        )
        return candidates[unique]


class _StageClock:
    """Milliseconds between successive ``lap`` calls, plus the total."""

    def __init__(self) -> None:
        self._start = self._last = time.perf_counter()
        self.laps_ms: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps_ms[stage] = (now - self._last) * 1000.0
        self.laps_ms["total"] = (now - self._start) * 1000.0
        self._last = now


def _model_identity(config: PipelineConfig) -> tuple[object, ...]:
    """The model settings whose change needs a new estimator (flip does not)."""
    model = config.model
    return model.name, model.weights, model.device, model.half, model.runtime


def _detector_identity(config: PipelineConfig) -> tuple[object, ...]:
    """The detector settings whose change needs a new detector (the schedule does not)."""
    detector = config.detector
    return (detector.name, detector.weights, detector.trust_weights, detector.confidence, detector.image_size,
            detector.runtime)


def _background_for(detector: PersonDetector, config: PipelineConfig) -> BackgroundDetection | None:
    """Background runs for scheduled detections, or None when they run in line (see ``background_lag``)."""
    lag, every = config.detector.background_lag, config.detector.detect_every
    return BackgroundDetection(detector, lag) if 0 < lag < every else None


def _naming(error: BaseException, context: str) -> str:
    """The error's message when it already says what failed ("cannot ..."), else ``context: message``."""
    message = str(error).strip().strip("'\"")
    return message if message.lower().startswith("cannot") else f"{context}: {message}"


def _build_estimator(config: PipelineConfig) -> tuple[TopDownEstimator, str | None, str | None]:
    """The pose model on the configured device, the weights file it loaded (the given one, else the shipped
    default from assets/weights, else None: random weights) and that file's SHA-256."""
    from app.core.weights import resolve_weights
    from pose.estimator import TopDownEstimator
    from pose.models.checkpoint import file_sha256
    from pose.models.registry import create_model

    model_config = config.model
    weights = model_config.weights
    try:
        weights, input_size = resolve_weights(model_config.name, model_config.weights)  # shipped by default
        model = create_model(model_config.name, weights=weights, input_size=input_size)
    except pickle.UnpicklingError as error:  # torch.load(weights_only=True) on a file that is no checkpoint
        message = f"cannot load weights '{weights}': not a PyTorch checkpoint of tensors"
        raise ModelLoadError(message) from error
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        what = f"weights '{weights}'" if weights else f"model '{model_config.name}'"
        raise ModelLoadError(_naming(error, f"cannot load {what}")) from error
    runtime = model_config.runtime
    if runtime == "auto" and not weights:  # random weights (tests, development): skip the ~10 s ONNX export
        runtime = "torch"
    try:
        estimator = TopDownEstimator(model, device=model_config.device, flip=model_config.flip,
                                     half=model_config.half, runtime=runtime, tune_in_background=True)
    except (ValueError, RuntimeError) as error:
        where = f"model '{model_config.name}' on device '{model_config.device}'"
        raise ModelLoadError(_naming(error, f"cannot run {where}")) from error
    if not weights:
        log.warning("model '%s' has no weights file: it runs with random weights and finds no real poses; "
                    "pass --weights", model_config.name)
        return estimator, None, None
    return estimator, weights, file_sha256(weights)


def _build_detector(config: PipelineConfig, estimator: Estimator) -> PersonDetector:
    """The configured detector on the pose model's device (YOLO; the fallback runs on the CPU)."""
    from detectors import create_detector

    options = config.detector
    kwargs: dict[str, Any] = {
        "confidence": options.confidence,
        "device": estimator.device,
        "half": estimator.half,
        "trust_weights": options.trust_weights,
        "image_size": options.image_size,
        "runtime": options.runtime,
        "export_dir": detector_export_dir(),
    }
    if options.weights:
        kwargs["weights"] = options.weights
    try:
        detector = create_detector(options.name, **kwargs)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise ModelLoadError(_naming(error, f"cannot set up detector '{options.name}'")) from error
    return detector  # a fallback's notice is logged by the detector factory and shown by the CLI / GUI
