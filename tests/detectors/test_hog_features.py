"""Our torch HOG reproduces OpenCV 4's HOGDescriptor, so OpenCV's trained people SVM applies to it.

The reference descriptors in tests/data/hog_reference.npz were computed by OpenCV 4.14
(tests/data/make_hog_reference.py), since OpenCV 5 no longer has HOG.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO_ROOT

from detectors.hog_features import block_features, gradient_histograms, window_descriptor, window_scores


@pytest.fixture(scope="module")
def reference():
    return np.load(REPO_ROOT / "tests" / "data" / "hog_reference.npz")


def _descriptor(image: np.ndarray, x: int, y: int) -> np.ndarray:
    return window_descriptor(block_features(gradient_histograms(image)), x // 8, y // 8)


def test_descriptor_of_a_lone_window_matches_opencv(reference):
    descriptor = _descriptor(reference["window"], 0, 0)
    assert descriptor.shape == (3780,)
    np.testing.assert_allclose(descriptor, reference["window_descriptor"], atol=5e-4)


def test_descriptor_inside_a_larger_image_matches_opencv(reference):
    """Interior windows see real neighbours, not reflected borders: checks the block grid and its order."""
    np.testing.assert_allclose(
        _descriptor(reference["region"], 16, 16), reference["region_descriptor"], atol=5e-4
    )


def test_window_scores_match_opencv_svm_scores(reference):
    scores = window_scores(reference["region"])  # 96 x 144: windows at x = 0, 8, .., 32 and y = 0, 8, 16
    assert scores.shape == (3, 5)
    np.testing.assert_allclose(scores[2, 2], reference["region_score"], atol=2e-3)
    np.testing.assert_allclose(window_scores(reference["window"]), [[reference["window_score"]]], atol=2e-3)


def test_orientation_votes_split_the_gradient_between_the_two_nearest_bins():
    ramp = np.tile(np.arange(0, 250, 10, dtype=np.uint8), (6, 1))[..., None].repeat(3, axis=2)
    votes = gradient_histograms(ramp).numpy()  # horizontal gradient: 0 degrees, between bins 8 and 0
    centre = votes[:, 3, 3]
    np.testing.assert_allclose(centre[[0, 8]], centre.sum() / 2, rtol=1e-5)
    assert np.count_nonzero(centre) == 2


def test_images_smaller_than_a_window_are_rejected():
    with pytest.raises(ValueError, match="smaller than the 64x128 HOG window"):
        window_scores(np.zeros((100, 200, 3), np.uint8))
