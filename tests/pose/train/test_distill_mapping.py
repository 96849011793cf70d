"""BlazePose-33 -> COCO-17: which landmark feeds which keypoint, pixels, and the visibility threshold."""

import numpy as np
import pytest

from pose.skeleton import COCO
from pose.train.distill.mapping import BLAZEPOSE_TO_COCO, LABELLED, blazepose_to_coco

BLAZEPOSE_NAMES = {
    0: "nose", 2: "left_eye", 5: "right_eye", 7: "left_ear", 8: "right_ear", 11: "left_shoulder",
    12: "right_shoulder", 13: "left_elbow", 14: "right_elbow", 15: "left_wrist", 16: "right_wrist",
    23: "left_hip", 24: "right_hip", 25: "left_knee", 26: "right_knee", 27: "left_ankle", 28: "right_ankle",
}


def landmarks_with_ids(visibility: float = 0.9) -> np.ndarray:
    """Landmark i at x = i / 40, y = 0.9 - i / 40: each keypoint shows which landmark it came from."""
    ids = np.arange(33, dtype=np.float64)
    return np.stack([ids / 40, 0.9 - ids / 40, np.full(33, visibility)], axis=1)


def test_each_coco_keypoint_comes_from_the_blazepose_landmark_of_the_same_name():
    assert [BLAZEPOSE_NAMES[i] for i in BLAZEPOSE_TO_COCO] == list(COCO.keypoints)


def test_landmarks_become_pixels_of_the_given_image_size():
    keypoints = blazepose_to_coco(landmarks_with_ids(), (400, 200))
    ids = np.array(BLAZEPOSE_TO_COCO)
    np.testing.assert_allclose(keypoints[:, 0], ids / 40 * 400, rtol=1e-6)
    np.testing.assert_allclose(keypoints[:, 1], (0.9 - ids / 40) * 200, rtol=1e-6)
    assert (keypoints[:, 2] == LABELLED).all()
    assert keypoints.dtype == np.float32


def test_low_visibility_landmarks_are_unlabelled_with_zero_coordinates():
    landmarks = landmarks_with_ids()
    landmarks[[13, 27], 2] = 0.49  # left elbow, left ankle
    keypoints = blazepose_to_coco(landmarks, (400, 200), min_visibility=0.5)
    hidden = [COCO.keypoints.index("left_elbow"), COCO.keypoints.index("left_ankle")]
    assert (keypoints[hidden] == 0).all()
    assert (np.delete(keypoints[:, 2], hidden) == LABELLED).all()


def test_threshold_is_inclusive():
    keypoints = blazepose_to_coco(landmarks_with_ids(visibility=0.5), (10, 10), min_visibility=0.5)
    assert (keypoints[:, 2] == LABELLED).all()


def test_landmarks_outside_the_image_are_unlabelled():
    landmarks = landmarks_with_ids()
    landmarks[0, :2] = (-0.1, 0.5)  # nose left of the image
    landmarks[28, :2] = (0.5, 1.2)  # right ankle below it
    keypoints = blazepose_to_coco(landmarks, (100, 100))
    assert keypoints[0, 2] == 0 and keypoints[16, 2] == 0
    assert (keypoints[1:16, 2] == LABELLED).all()


def test_wrong_landmark_count_is_an_error():
    with pytest.raises(ValueError, match="33"):
        blazepose_to_coco(np.zeros((17, 3)), (10, 10))
