"""Background replacement for the footage: a person cut out with the teacher's mask and pasted onto another
scene. A pure function of the images and a ``numpy.random.Generator``; BGR uint8 in and out, keypoints
``(K, 3)`` ``(x, y, v)`` in image pixels. Colour, blur, noise and occlusion live in
:mod:`pose.train.photometric`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


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
