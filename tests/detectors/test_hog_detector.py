"""The HOG fallback finds people on real footage and is labelled as the fallback."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from support import REPO_ROOT

from detectors import create_detector
from detectors.hog import HogConfig, HogDetector, pyramid_scales
from pose.geometry import iou_matrix


@pytest.fixture(scope="module")
def vtest_frame_100() -> np.ndarray:
    """Frame 100 (0-based) of OpenCV's vtest.avi, 768x576: pedestrians about 80 px tall.

    Counted by eye: 7 people. A man walking right (x~603), a couple walking together (x~507 and x~528),
    a woman in black (x~360) and a man in a jacket (x~392) facing each other, a person half hidden behind
    the green sign (x~438) and a small far-away walker at the top left (x~230, about 40 px tall).
    """
    image = cv2.imread(str(REPO_ROOT / "tests" / "data" / "vtest_frame100.jpg"))
    assert image is not None and image.shape == (576, 768, 3)
    return image


# the five unoccluded people of that frame, by eye: (x1, y1, x2, y2) around head to feet
PEOPLE_BY_EYE = np.array(
    [
        [585, 150, 620, 235],
        [493, 145, 522, 222],
        [515, 148, 545, 222],
        [345, 195, 385, 278],
        [375, 175, 410, 258],
    ],
    np.float32,
)


def test_finds_at_least_three_of_the_people_in_vtest_frame_100(vtest_frame_100):
    detector = create_detector("hog")
    assert detector.is_fallback and "fallback" in detector.description
    detections = detector(vtest_frame_100)
    found = iou_matrix(PEOPLE_BY_EYE, detections.xyxy).max(axis=1, initial=0) > 0.3
    assert found.sum() >= 3, f"found {found.sum()} of 5 people; detections {detections.xyxy.round()}"
    assert len(detections) <= 7, "more boxes than people in the frame"
    assert np.all(np.diff(detections.scores) <= 0) and np.all(
        (detections.scores > 0) & (detections.scores < 1)
    )


def test_a_blank_frame_has_nobody():
    assert len(create_detector("hog", smallest_person=0.5)(np.full((288, 384, 3), 128, np.uint8))) == 0


def test_pyramid_upscales_small_frames_so_the_smallest_person_fills_the_window():
    config = HogConfig(smallest_person=0.125, scale_step=1.25)
    scales = pyramid_scales((576, 768), config)
    assert scales[0] == pytest.approx(96 / (0.125 * 576))  # a 72 px person becomes 96 px, as in training
    assert 576 * scales[-1] >= 128 > 576 * scales[-1] / 1.25
    np.testing.assert_allclose(np.array(scales[:-1]) / np.array(scales[1:]), 1.25)
    assert pyramid_scales((100, 40), HogConfig(smallest_person=1.0)) == []  # too narrow for any window


def test_frames_too_small_for_any_window_give_no_detections():
    assert len(HogDetector(HogConfig(smallest_person=1.0))(np.zeros((100, 40, 3), np.uint8))) == 0


@pytest.mark.parametrize("bad", [{"smallest_person": 0}, {"smallest_person": 1.5}, {"scale_step": 1.0}])
def test_invalid_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        HogConfig(**bad)


def test_rejects_frames_that_are_not_bgr_uint8():
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8 BGR"):
        create_detector("hog")(np.zeros((480, 640), np.uint8))
