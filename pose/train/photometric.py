"""Photometric augmentation: colour, blur, noise, occlusion and low resolution, for an image or a crop.

Pure functions of a BGR uint8 image and a ``numpy.random.Generator``, BGR uint8 out; they move no pixel, so
keypoint labels stay where they are. The training pipeline applies them to each network crop
(:func:`pose.train.augmentation.make_example`); distillation applies them to its pasted composites.
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
        low_resolution_prob, max_downscale: the image is shrunk by up to this factor and enlarged back, as a
            small person looks once cropped to the network's input size.
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
    low_resolution_prob: float = 0.0
    max_downscale: float = 3.0


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


def low_resolution(image: np.ndarray, rng: np.random.Generator, max_downscale: float) -> np.ndarray:
    """Shrink by ``U(1.5, max_downscale)`` (area mean), enlarge back (bilinear): same size, less detail."""
    height, width = image.shape[:2]
    factor = rng.uniform(1.5, max(max_downscale, 1.5))
    small = cv2.resize(
        image, (max(1, round(width / factor)), max(1, round(height / factor))), interpolation=cv2.INTER_AREA
    )
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


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
    """Occlusion, colour, blur, noise and low resolution, each with its probability, in that order."""
    if rng.random() < config.occlusion_prob:
        image = occlude(image, box, rng, config.max_occlusion)
    if rng.random() < config.colour_prob:
        image = jitter_colour(image, rng, config)
    if rng.random() < config.blur_prob:
        image = blur(image, rng, config.max_blur_sigma)
    if rng.random() < config.noise_prob:
        image = add_noise(image, rng, config.max_noise_sigma)
    if rng.random() < config.low_resolution_prob:
        image = low_resolution(image, rng, config.max_downscale)
    return image
