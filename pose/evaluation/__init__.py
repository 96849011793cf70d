"""Accuracy of a TopDownEstimator on COCO-format data: COCO keypoint AP/AR (OKS) and MPII-style PCKh.

Used by ``python main.py eval`` and by training validation, so both measure what the app runs.
"""

from pose.evaluation.annotations import (
    AnnotationError,
    ImageBoxes,
    detection_person_boxes,
    gt_person_boxes,
    load_coco_annotations,
)
from pose.evaluation.coco_metric import COCO_STATS, coco_keypoint_stats
from pose.evaluation.nms import oks_nms, rescore
from pose.evaluation.pckh import pckh
from pose.evaluation.runner import (
    EvalReport,
    ImagePredictions,
    coco_results,
    evaluate,
    pckh_results,
    people_results,
    predict,
)

__all__ = [
    "COCO_STATS",
    "AnnotationError",
    "EvalReport",
    "ImageBoxes",
    "ImagePredictions",
    "coco_keypoint_stats",
    "coco_results",
    "detection_person_boxes",
    "evaluate",
    "gt_person_boxes",
    "load_coco_annotations",
    "oks_nms",
    "pckh",
    "pckh_results",
    "people_results",
    "predict",
    "rescore",
]
