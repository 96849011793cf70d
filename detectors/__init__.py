"""Person detectors: person boxes only, as found (the pose estimator fixes their aspect when it crops).

`create_detector("auto" | "yolo" | "hog" | "none", **options)` builds one; every detector maps a BGR uint8
frame to `Detections` (xyxy, scores). ultralytics is imported only when a YOLO detector is built.
"""

from detectors.base import Detections, DetectorUnavailableError, DetectorWeightsNotFoundError, PersonDetector
from detectors.factory import DETECTOR_NAMES, create_detector

__all__ = [
    "DETECTOR_NAMES",
    "Detections",
    "DetectorUnavailableError",
    "DetectorWeightsNotFoundError",
    "PersonDetector",
    "create_detector",
]
