"""Photometric augmentation (colour, blur, noise, occlusion, low resolution) and background replacement."""

import numpy as np
import pytest

from pose.train.distill.augment import paste_person
from pose.train.photometric import (
    PhotometricConfig,
    add_noise,
    blur,
    jitter_colour,
    low_resolution,
    occlude,
    photometric,
)


@pytest.fixture
def image() -> np.ndarray:
    rng = np.random.default_rng(0)
    base = np.zeros((60, 80, 3), np.uint8)
    base[:, :40] = (40, 120, 200)
    base[:, 40:] = (200, 90, 30)
    return np.clip(base + rng.integers(0, 20, base.shape), 0, 255).astype(np.uint8)


def test_colour_jitter_changes_colours_but_keeps_the_layout(image):
    out = jitter_colour(image, np.random.default_rng(1), PhotometricConfig(brightness=0.3, hue=10))
    assert out.shape == image.shape and out.dtype == np.uint8
    assert not np.array_equal(out, image)
    # the two halves stay distinguishable: colour jitter does not move or mix pixels
    assert np.abs(out[:, :40].mean((0, 1)) - out[:, 40:].mean((0, 1))).max() > 30


def test_blur_smooths_an_edge():
    edge = np.zeros((40, 40, 3), np.uint8)
    edge[:, 20:] = 255
    out = blur(edge, np.random.default_rng(3), max_sigma=3.0)
    assert 0 < out[20, 19:21].mean() < 255 or 0 < out[19:21, 20].mean() < 255
    assert np.abs(np.diff(out.astype(int), axis=1)).max() < 255


def test_noise_is_zero_mean_and_bounded(image):
    flat = np.full((200, 200, 3), 128, np.uint8)
    out = add_noise(flat, np.random.default_rng(2), max_sigma=10.0)
    assert abs(out.astype(float).mean() - 128) < 1.0
    assert 0 < out.astype(float).std() <= 10.5


def test_occlusion_stays_inside_the_box(image):
    box = np.array([10, 5, 30, 40])
    for seed in range(10):
        out = occlude(image, box, np.random.default_rng(seed), max_fraction=0.5)
        changed = np.nonzero(np.any(out != image, axis=2))
        if len(changed[0]):
            assert changed[1].min() >= 10 and changed[1].max() <= 41
            assert changed[0].min() >= 5 and changed[0].max() <= 46


def test_low_resolution_keeps_the_size_and_loses_fine_detail():
    checkers = (np.indices((64, 48)).sum(axis=0) % 2 * 255).astype(np.uint8)
    fine = np.repeat(checkers[..., None], 3, axis=2)
    out = low_resolution(fine, np.random.default_rng(5), max_downscale=3.0)
    assert out.shape == fine.shape and out.dtype == np.uint8
    detail = np.abs(np.diff(out.astype(int), axis=1)).mean()
    assert detail < 0.2 * np.abs(np.diff(fine.astype(int), axis=1)).mean()


def test_photometric_with_zero_probabilities_is_the_identity(image):
    config = PhotometricConfig(colour_prob=0, blur_prob=0, noise_prob=0, occlusion_prob=0)
    out = photometric(image, np.array([0, 0, 10, 10]), np.random.default_rng(0), config)
    assert np.array_equal(out, image)


def test_paste_person_moves_keypoints_with_the_person():
    person = np.zeros((100, 40, 3), np.uint8)
    person[:] = (0, 255, 0)
    mask = np.full((100, 40), 255, np.uint8)
    keypoints = np.zeros((17, 3), np.float32)
    keypoints[0] = (20, 10, 2)  # head
    keypoints[15] = (10, 95, 2)  # a foot
    background = np.full((300, 400, 3), 50, np.uint8)
    rng = np.random.default_rng(4)
    pasted = paste_person(person, mask, keypoints, background, rng, height_range=(0.5, 0.5))
    x, y, w, h = pasted.box
    assert h == pytest.approx(150, abs=1) and w == pytest.approx(60, abs=1)
    scale = h / 100
    np.testing.assert_allclose(pasted.keypoints[0, :2], (x + 20 * scale, y + 10 * scale), atol=1e-3)
    np.testing.assert_allclose(pasted.keypoints[15, :2], (x + 10 * scale, y + 95 * scale), atol=1e-3)
    assert (pasted.keypoints[1:15] == 0).all()  # unlabelled keypoints stay unlabelled at (0, 0)
    centre = pasted.image[int(y + h / 2), int(x + w / 2)]
    assert tuple(centre) == (0, 255, 0)  # the person is there
    assert tuple(pasted.image[0, 0]) == (50, 50, 50) or x == 0  # the background elsewhere
    assert pasted.area == pytest.approx(40 * 100 * scale * scale)


def test_paste_only_copies_masked_pixels():
    person = np.full((50, 50, 3), 255, np.uint8)
    mask = np.zeros((50, 50), np.uint8)
    mask[:, :25] = 255  # left half is the person, right half was the old background
    background = np.zeros((100, 100, 3), np.uint8)
    pasted = paste_person(person, mask, np.zeros((17, 3), np.float32), background, np.random.default_rng(0),
                          height_range=(0.5, 0.5))
    x, y, w, h = (int(v) for v in pasted.box)
    assert pasted.image[y + h // 2, x + 3].min() > 200
    assert pasted.image[y + h // 2, x + w - 3].max() < 50
