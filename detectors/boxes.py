"""Temporary: ``boxes_from_keypoints`` and ``iou_matrix`` now live in ``pose.geometry``.

Kept only until ``app/core/pipeline.py`` and ``app/core/background_detection.py`` import them from there;
then this module goes.
"""

from pose.geometry import boxes_from_keypoints, iou_matrix

__all__ = ["boxes_from_keypoints", "iou_matrix"]
