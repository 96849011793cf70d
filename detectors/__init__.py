"""Person detectors: person boxes only, as found (the pose estimator fixes their aspect when it crops).

`create_detector("auto" | "yolo" | "hog" | "none", **options)` builds one; every detector maps a BGR uint8
frame to `Detections` (xyxy, scores). ultralytics is imported only when a YOLO detector is built.
"""

from detectors.base import Detections, DetectorUnavailableError, PersonDetector
from detectors.boxes import boxes_from_keypoints, iou_matrix, nms
from detectors.factory import DETECTOR_NAMES, create_detector

__all__ = [
    "DETECTOR_NAMES",
    "Detections",
    "DetectorUnavailableError",
    "PersonDetector",
    "boxes_from_keypoints",
    "create_detector",
    "iou_matrix",
    "nms",
]
