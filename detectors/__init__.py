"""Person detectors: boxes only, expanded to the 3:4 aspect of the pose model.

`create_detector("auto" | "yolo" | "hog" | "none", **options)` builds one; every detector maps a BGR uint8
frame to `Detections` (xyxy, scores). ultralytics is imported only when a YOLO detector is built.
"""

from detectors.base import Detections, DetectorUnavailableError, PersonDetector
from detectors.boxes import boxes_from_keypoints, clip_to_image, expand_to_aspect, iou_matrix, nms
from detectors.factory import DETECTOR_NAMES, create_detector

__all__ = [
    "DETECTOR_NAMES",
    "Detections",
    "DetectorUnavailableError",
    "PersonDetector",
    "boxes_from_keypoints",
    "clip_to_image",
    "create_detector",
    "expand_to_aspect",
    "iou_matrix",
    "nms",
]
