"""`create_detector(name, **options)`: the one place that turns a detector name into a `PersonDetector`."""

from __future__ import annotations

import logging
from dataclasses import fields
from typing import Any

from detectors.base import DetectorUnavailableError, PersonDetector
from detectors.hog import HogConfig, HogDetector
from detectors.none import WholeFrameDetector
from detectors.yolo import YoloConfig, YoloDetector

logger = logging.getLogger(__name__)

DETECTOR_NAMES = ("auto", "yolo", "hog", "none")
"""Names `create_detector` accepts, the default first."""

_YOLO_OPTIONS = frozenset(field.name for field in fields(YoloConfig))
_HOG_OPTIONS = frozenset(field.name for field in fields(HogConfig))


def create_detector(name: str = "auto", **options: Any) -> PersonDetector:
    """Build the person detector called `name`.

    Args:
        name: "auto" or "yolo": YOLO when its weights are on disk or can be downloaded now, else the HOG
            fallback, whose `notice` says in one line why (also logged as a warning); "hog": the offline
            fallback; "none": the whole frame is one person.
        options: fields of `YoloConfig` (weights, confidence, iou, image_size, device, half, weights_dir)
            and of `HogConfig` (hit_threshold, smallest_person, scale_step, nms_overlap). Each detector
            takes its own and ignores the others', so the same options can be passed whatever the name.

    Raises:
        ValueError: unknown name. TypeError: an option no detector knows.
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
        try:
            return YoloDetector(yolo_config)
        except DetectorUnavailableError as error:
            notice = f"{error} -> using the HOG fallback detector"
            logger.warning(notice)
            return HogDetector(hog_config, notice=notice)
    raise ValueError(f"unknown detector '{name}': choose one of {', '.join(DETECTOR_NAMES)}")
