"""Training-time augmentation and targets for one person (mmpose 0.16 ``TopDown*`` pipeline).

Order: random flip (left/right keypoints swapped) -> half-body crop -> random scale and rotation -> affine
crop -> normalised RGB tensor and Gaussian heatmap targets from the codec. Random draws come from a
``numpy.random.Generator`` passed in, so a sample's augmentation depends only on that generator's seed.

The flip is folded into the crop matrix instead of flipping the whole image: warping the original image
with ``crop o flip`` reads exactly the pixels that warping the flipped image with ``crop`` would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pose.codecs import encode_heatmaps
from pose.models.spec import ModelSpec
from pose.skeleton import Skeleton
from pose.train.config import AugmentConfig
from pose.transforms import apply_affine, crop_matrix, warp_crops

LOWER_BODY_PARTS = ("hip", "knee", "ankle", "pelvis")
"""A keypoint whose name contains one of these is lower body for the half-body transform; others upper."""


@dataclass(frozen=True)
class CropPlan:
    """Where to crop one person and where its keypoints are, after the random choices.

    Attributes:
        center, size: ``(2,)`` crop center and ``(w, h)`` in pixels of the (possibly flipped) image.
        rotation: degrees, counter-clockwise on screen.
        flip: whether the image is mirrored (``x -> W - 1 - x``) before cropping.
        keypoints: ``(K, 2)`` keypoints in the (possibly flipped) image, channels already swapped.
        visible: ``(K,)`` 1 for labelled keypoints, in the same channel order.
    """

    center: np.ndarray
    size: np.ndarray
    rotation: float
    flip: bool
    keypoints: np.ndarray
    visible: np.ndarray


@dataclass(frozen=True)
class TrainingExample:
    """Network input and targets for one person.

    Attributes:
        image: ``(3, H, W)`` float32 RGB, normalised with the model's mean and std.
        heatmaps: ``(K, H/4, W/4)`` float32 Gaussian targets, peak 1.
        target_weight: ``(K,)`` float32, 0 for keypoints that are unlabelled or fall off the heatmap.
    """

    image: np.ndarray
    heatmaps: np.ndarray
    target_weight: np.ndarray


def lower_body_mask(skeleton: Skeleton) -> np.ndarray:
    """``(K,)`` bool, True for lower-body keypoints (see :data:`LOWER_BODY_PARTS`)."""
    return np.array([any(part in name for part in LOWER_BODY_PARTS) for name in skeleton.keypoints])


def flip_keypoints(
    keypoints: np.ndarray, visible: np.ndarray, image_width: int, skeleton: Skeleton
) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints of the mirrored image: ``x -> W - 1 - x`` and left/right channels swapped.

    Args:
        keypoints: ``(K, 2)`` pixels. visible: ``(K,)``.
        image_width: ``W`` in pixels.
    """
    perm = list(skeleton.flip_permutation())
    flipped = keypoints[perm].copy()
    flipped[:, 0] = image_width - 1 - flipped[:, 0]
    return flipped, visible[perm].copy()


def half_body_box(
    keypoints: np.ndarray,
    visible: np.ndarray,
    lower: np.ndarray,
    aspect_ratio: float,
    padding: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Crop around the upper or the lower body only (mmpose ``TopDownHalfBodyTransform``).

    The upper body is chosen when a standard normal draw is below 0.5 (about 69 %) and it has more than
    2 visible keypoints; otherwise the lower body if it has more than 2, else the upper body. The box is
    centred on the mean of the chosen keypoints, spans their extent, is grown to ``aspect_ratio`` (w / h)
    and multiplied by ``padding``.

    Returns:
        ``(center (2,), size (2,))`` in pixels, or None when fewer than 2 keypoints are chosen.
    """
    labelled = visible > 0
    upper_points = keypoints[labelled & ~lower]
    lower_points = keypoints[labelled & lower]
    if rng.standard_normal() < 0.5 and len(upper_points) > 2:
        chosen = upper_points
    else:
        chosen = lower_points if len(lower_points) > 2 else upper_points
    if len(chosen) < 2:
        return None
    center = chosen.mean(axis=0)
    width, height = chosen.max(axis=0) - chosen.min(axis=0)
    if width > aspect_ratio * height:
        height = width / aspect_ratio
    else:
        width = height * aspect_ratio
    return center, np.array([width, height]) * padding


def random_scale_rotation(rng: np.random.Generator, augment: AugmentConfig) -> tuple[float, float]:
    """``(scale multiplier, rotation in degrees)`` as mmpose ``TopDownGetRandomScaleRotation``."""
    sf, rf = augment.scale_factor, augment.rotation_factor
    scale = float(np.clip(rng.standard_normal() * sf + 1.0, 1.0 - sf, 1.0 + sf))
    rotation = float(np.clip(rng.standard_normal() * rf, -2.0 * rf, 2.0 * rf))
    return scale, rotation if rng.random() <= augment.rotation_prob else 0.0


def plan_crop(
    center: np.ndarray,
    size: np.ndarray,
    keypoints: np.ndarray,
    visible: np.ndarray,
    image_width: int,
    skeleton: Skeleton,
    aspect_ratio: float,
    augment: AugmentConfig | None,
    rng: np.random.Generator,
) -> CropPlan:
    """Draw the random flip, half-body box, scale and rotation for one person (no pixels touched).

    With ``augment=None`` the plan is the plain crop of the box (validation-style, no randomness).
    """
    center = np.asarray(center, dtype=np.float64)
    size = np.asarray(size, dtype=np.float64)
    if augment is None:
        return CropPlan(center, size, 0.0, False, keypoints, visible)
    flip = bool(rng.random() < augment.flip_prob)
    if flip:
        keypoints, visible = flip_keypoints(keypoints, visible, image_width, skeleton)
        center = np.array([image_width - 1 - center[0], center[1]])
    if visible.sum() > augment.half_body_min_joints and rng.random() < augment.half_body_prob:
        box = half_body_box(
            keypoints, visible, lower_body_mask(skeleton), aspect_ratio, augment.half_body_padding, rng
        )
        if box is not None:
            center, size = box
    scale, rotation = random_scale_rotation(rng, augment)
    return CropPlan(center, size * scale, rotation, flip, keypoints, visible)


def mirrored(matrix: np.ndarray, image_width: int) -> np.ndarray:
    """``matrix o mirror``: a ``(2, 3)`` matrix for the flipped image, made to read the original image."""
    mirror = np.array([[-1.0, 0.0, image_width - 1.0], [0.0, 1.0, 0.0]])
    linear = matrix[:, :2] @ mirror[:, :2]
    return np.concatenate([linear, matrix[:, :2] @ mirror[:, 2:] + matrix[:, 2:]], axis=1)


def make_example(image: np.ndarray, plan: CropPlan, spec: ModelSpec) -> TrainingExample:
    """Crop, normalise and encode targets for one planned crop.

    Args:
        image: ``(H, W, 3)`` uint8 BGR image, unflipped (the plan's flip is folded into the warp).
        plan: from :func:`plan_crop`.
        spec: the model's input size, heatmap size, normalisation and target sigma.
    """
    to_crop = crop_matrix(plan.center, plan.size, spec.input_size, plan.rotation)
    from_original = mirrored(to_crop, image.shape[1]) if plan.flip else to_crop
    crop = warp_crops(image, from_original[None], spec.input_size)[0]
    rgb = crop[:, :, ::-1].astype(np.float32) * np.float32(1.0 / 255.0)
    normalised = (rgb - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    keypoints = apply_affine(plan.keypoints, to_crop)
    heatmaps, weight = encode_heatmaps(keypoints, plan.visible, spec.heatmap_size, spec.stride, spec.sigma)
    return TrainingExample(
        image=np.ascontiguousarray(normalised.transpose(2, 0, 1)),
        heatmaps=np.asarray(heatmaps, dtype=np.float32),
        target_weight=np.asarray(weight, dtype=np.float32),
    )
