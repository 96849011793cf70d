"""Augmentations that the footage needs beyond the training pipeline's flip / scale / rotation / half-body:
colour, blur, noise, occlusion, and background replacement (a person cut out with the teacher's mask and
pasted onto another scene). Pure functions of an image and a ``numpy.random.Generator``; BGR uint8 in and
out, keypoints ``(K, 3)`` ``(x, y, v)`` in image pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class PhotometricConfig:
    """Probabilities and strengths of the photometric augmentations.

    Attributes:
        colour_prob, brightness, contrast, saturation, hue: colour jitter (brightness/contrast/saturation
            as relative changes, hue in OpenCV units of 2 degrees).
        blur_prob, max_blur_sigma: Gaussian or motion blur of up to this sigma (pixels).
        noise_prob, max_noise_sigma: additive Gaussian noise of up to this standard deviation (0..255).
        occlusion_prob, max_occlusion: a rectangle of up to this fraction of the person box (per side) is
            covered with a random colour or a patch of noise.
    """

    colour_prob: float = 0.8
    brightness: float = 0.3
    contrast: float = 0.3
    saturation: float = 0.4
    hue: float = 8.0
    blur_prob: float = 0.3
    max_blur_sigma: float = 2.0
    noise_prob: float = 0.3
    max_noise_sigma: float = 12.0
    occlusion_prob: float = 0.4
    max_occlusion: float = 0.4


def jitter_colour(image: np.ndarray, rng: np.random.Generator, config: PhotometricConfig) -> np.ndarray:
    """Random brightness, contrast, saturation and hue changes."""
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-config.hue, config.hue)) % 180
    hsv[..., 1] *= 1 + rng.uniform(-config.saturation, config.saturation)
    out = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR).astype(np.float32)
    mean = out.mean()
    out = (out - mean) * (1 + rng.uniform(-config.contrast, config.contrast)) + mean
    out *= 1 + rng.uniform(-config.brightness, config.brightness)
    return np.clip(out, 0, 255).astype(np.uint8)


def blur(image: np.ndarray, rng: np.random.Generator, max_sigma: float) -> np.ndarray:
    """Gaussian blur, or (half the time) a linear motion blur at a random angle, of up to ``max_sigma``."""
    sigma = rng.uniform(0.5, max_sigma)
    if rng.random() < 0.5:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    length = max(3, round(sigma * 4) | 1)
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (length, length))
    return cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6))


def add_noise(image: np.ndarray, rng: np.random.Generator, max_sigma: float) -> np.ndarray:
    """Additive Gaussian noise with a standard deviation drawn from ``U(1, max_sigma)``."""
    noise = rng.normal(0.0, rng.uniform(1.0, max_sigma), image.shape)
    return np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def occlude(image: np.ndarray, box: np.ndarray, rng: np.random.Generator, max_fraction: float) -> np.ndarray:
    """Cover a random rectangle inside ``box`` ``(x, y, w, h)`` with a flat colour or noise.

    Keypoints keep their labels: the model should learn where an occluded joint is, as COCO labels it.
    """
    out = image.copy()
    x, y, w, h = (float(v) for v in box)
    ow, oh = w * rng.uniform(0.15, max_fraction), h * rng.uniform(0.15, max_fraction)
    ox, oy = x + rng.uniform(0, max(w - ow, 1)), y + rng.uniform(0, max(h - oh, 1))
    x1, y1 = max(0, int(ox)), max(0, int(oy))
    x2, y2 = min(image.shape[1], int(ox + ow) + 1), min(image.shape[0], int(oy + oh) + 1)
    if x2 <= x1 or y2 <= y1:
        return out
    if rng.random() < 0.5:
        out[y1:y2, x1:x2] = rng.integers(0, 256, 3, dtype=np.uint8)
    else:
        out[y1:y2, x1:x2] = rng.integers(0, 256, (y2 - y1, x2 - x1, 3), dtype=np.uint8)
    return out


def photometric(
    image: np.ndarray, box: np.ndarray, rng: np.random.Generator, config: PhotometricConfig
) -> np.ndarray:
    """Occlusion, colour, blur and noise, each with its probability, in that order."""
    if rng.random() < config.occlusion_prob:
        image = occlude(image, box, rng, config.max_occlusion)
    if rng.random() < config.colour_prob:
        image = jitter_colour(image, rng, config)
    if rng.random() < config.blur_prob:
        image = blur(image, rng, config.max_blur_sigma)
    if rng.random() < config.noise_prob:
        image = add_noise(image, rng, config.max_noise_sigma)
    return image


@dataclass(frozen=True)
class Pasted:
    """A person pasted onto a new background.

    Attributes:
        image: BGR uint8 composite, the background's size.
        keypoints: ``(K, 3)`` keypoints in composite pixels (unlabelled ones stay ``(0, 0, 0)``).
        box: ``(4,)`` float32 ``(x, y, w, h)`` of the pasted person.
        area: person mask area in composite pixels.
    """

    image: np.ndarray
    keypoints: np.ndarray
    box: np.ndarray
    area: float


def paste_person(
    person: np.ndarray,
    mask: np.ndarray,
    keypoints: np.ndarray,
    background: np.ndarray,
    rng: np.random.Generator,
    height_range: tuple[float, float] = (0.35, 0.9),
) -> Pasted:
    """Paste ``person`` (BGR, the mask's size) cut out by ``mask`` (uint8 0/255) onto ``background``.

    The person is scaled so that its height is a fraction ``U(height_range)`` of the background height
    (never wider than the background), placed at a random position fully inside it, and blended with a
    slightly feathered mask so the cut edge does not become a cue. ``keypoints`` are relative to the
    person image's top-left and come back in composite pixels.
    """
    bg_h, bg_w = background.shape[:2]
    p_h, p_w = mask.shape
    scale = min(rng.uniform(*height_range) * bg_h / p_h, 0.95 * bg_w / p_w)
    new_w, new_h = max(1, round(p_w * scale)), max(1, round(p_h * scale))
    person_scaled = cv2.resize(person, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    alpha = cv2.resize(mask, (new_w, new_h), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(0.6, scale))[..., None]
    left, top = int(rng.integers(0, bg_w - new_w + 1)), int(rng.integers(0, bg_h - new_h + 1))
    out = background.copy()
    region = out[top : top + new_h, left : left + new_w].astype(np.float32)
    out[top : top + new_h, left : left + new_w] = (alpha * person_scaled + (1 - alpha) * region).astype(
        np.uint8
    )
    moved = keypoints.astype(np.float32).copy()
    labelled = moved[:, 2] > 0
    moved[labelled, :2] = moved[labelled, :2] * scale + (left, top)
    box = np.array([left, top, new_w, new_h], dtype=np.float32)
    return Pasted(out, moved, box, float((mask > 127).sum() * scale * scale))
