"""BlazePose's 33 landmarks as COCO's 17 keypoints. Pure numpy.

BlazePose numbers its landmarks 0 nose, 1-3 left eye (inner, centre, outer), 4-6 right eye, 7/8 ears,
9/10 mouth, 11/12 shoulders, 13/14 elbows, 15/16 wrists, 17-22 hands, 23/24 hips, 25/26 knees,
27/28 ankles, 29-32 heels and feet (left first). COCO-17 takes the eye centres and the body joints.
"""

from __future__ import annotations

import numpy as np

BLAZEPOSE_NUM_LANDMARKS = 33

BLAZEPOSE_TO_COCO: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
"""BlazePose landmark index of each COCO-17 keypoint, in COCO order (nose, eyes, ears, shoulders, elbows,
wrists, hips, knees, ankles; left before right)."""

DEFAULT_MIN_VISIBILITY = 0.5
"""Landmarks whose BlazePose visibility is below this are left unlabelled."""

LABELLED = 2
"""COCO visibility flag written for a labelled keypoint (``v = 2``, labelled and visible)."""


def blazepose_to_coco(
    landmarks: np.ndarray,
    image_size: tuple[int, int],
    min_visibility: float = DEFAULT_MIN_VISIBILITY,
) -> np.ndarray:
    """COCO-17 keypoints from one person's BlazePose landmarks.

    Args:
        landmarks: ``(33, 3)`` ``(x, y, visibility)``: x and y normalised to the image (0..1, may fall
            outside), visibility in 0..1 as MediaPipe reports it.
        image_size: ``(width, height)`` of the image the landmarks refer to, in pixels.
        min_visibility: landmarks with a lower visibility become unlabelled.

    Returns:
        ``(17, 3)`` float32 ``(x, y, v)`` in image pixels; ``v`` is 2 for a labelled keypoint and 0 (with
        ``x = y = 0``, as COCO writes them) for one that is not visible enough or lies outside the image.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.shape != (BLAZEPOSE_NUM_LANDMARKS, 3):
        raise ValueError(f"expected (33, 3) BlazePose landmarks (x, y, visibility), got {landmarks.shape}")
    width, height = image_size
    picked = landmarks[list(BLAZEPOSE_TO_COCO)]
    xy = picked[:, :2] * (width, height)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] <= width - 1) & (xy[:, 1] >= 0) & (xy[:, 1] <= height - 1)
    labelled = inside & (picked[:, 2] >= min_visibility)
    keypoints = np.zeros((len(BLAZEPOSE_TO_COCO), 3), dtype=np.float32)
    keypoints[labelled, :2] = xy[labelled]
    keypoints[labelled, 2] = LABELLED
    return keypoints
