"""Training-time augmentation and targets for one person (mmpose 0.16 ``TopDown*`` pipeline).

Order: random flip (left/right keypoints swapped) -> a photo edge across the body or a half-body crop ->
random scale and rotation -> affine crop -> photometric changes of the crop (occlusion, colour, blur, noise,
low resolution) -> normalised RGB tensor and Gaussian heatmap targets from the codec. Random draws come from a
``numpy.random.Generator`` passed in, so a sample's augmentation depends only on that generator's seed.

The flip is folded into the crop matrix instead of flipping the whole image: warping the original image
with ``crop o flip`` reads exactly the pixels that warping the flipped image with ``crop`` would.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pose.codecs import encode_heatmaps
from pose.models.spec import ModelSpec
from pose.skeleton import Skeleton
from pose.train.config import AugmentConfig
from pose.train.photometric import PhotometricConfig, photometric
from pose.transforms import PADDING, apply_affine, box_to_center_size, crop_matrix, warp_crops

LOWER_BODY_PARTS = ("hip", "knee", "ankle", "pelvis")
"""A keypoint whose name contains one of these is lower body for the half-body transform; others upper."""

MIN_KEPT_KEYPOINTS = 4
"""A photo edge is drawn only where at least this many labelled keypoints stay in the picture."""

EDGE_BOX_GROWTH = 0.15
"""The box of what a photo edge leaves grows by this fraction of the kept keypoints' extent on each side
(the rule LSPET's boxes were made with), then stops at the edge."""


@dataclass(frozen=True)
class PhotoEdge:
    """Where a photo ends: an edge across a person, beyond which there are no pixels and no labels.

    Attributes:
        axis: 1 for a horizontal edge at ``y = position``, 0 for a vertical one at ``x = position``.
        position: pixels, in the (possibly flipped) image the crop plan lives in.
        beyond_greater: True when the photo is cut off where the coordinate is greater (a bottom or right
            edge), False for a left edge.
    """

    axis: int
    position: float
    beyond_greater: bool

    def beyond(self, points: np.ndarray) -> np.ndarray:
        """``(N,)`` bool: which of ``points`` ``(N, 2)`` lie beyond the edge."""
        coordinate = points[:, self.axis]
        return coordinate > self.position if self.beyond_greater else coordinate < self.position


@dataclass(frozen=True)
class CropPlan:
    """Where to crop one person and where its keypoints are, after the random choices.

    Attributes:
        center, size: ``(2,)`` crop center and ``(w, h)`` in pixels of the (possibly flipped) image.
        rotation: degrees, counter-clockwise on screen.
        flip: whether the image is mirrored (``x -> W - 1 - x``) before cropping.
        keypoints: ``(K, 2)`` keypoints in the (possibly flipped) image, channels already swapped.
        visible: ``(K,)`` 1 for labelled keypoints, in the same channel order (0 beyond ``edge``).
        edge: a photo edge drawn across the person (pixels beyond it are blacked out), or None.
    """

    center: np.ndarray
    size: np.ndarray
    rotation: float
    flip: bool
    keypoints: np.ndarray
    visible: np.ndarray
    edge: PhotoEdge | None = None


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


def draw_photo_edge(
    keypoints: np.ndarray, visible: np.ndarray, rng: np.random.Generator
) -> PhotoEdge | None:
    """A photo edge across the labelled keypoints, as the frame of a photo cuts a person off.

    Seven times in ten a bottom edge between 20 % and 80 % of the way down the keypoints (for an upright
    person: the legs, the legs and hips, or all but the head and shoulders cut off, as in COCO's close-ups);
    otherwise a left or right edge between 40 % and 75 % of the way across from the side kept. Edges follow
    the image axes, as a photo's frame does.

    Returns:
        The edge, or None when fewer than :data:`MIN_KEPT_KEYPOINTS` labelled keypoints would stay.
    """
    labelled = visible > 0
    points = keypoints[labelled]
    if len(points) < MIN_KEPT_KEYPOINTS:
        return None
    if rng.random() < 0.7:
        axis, beyond_greater, fraction = 1, True, rng.uniform(0.2, 0.8)
    else:
        axis, beyond_greater, fraction = 0, bool(rng.random() < 0.5), rng.uniform(0.4, 0.75)
    low, high = points[:, axis].min(), points[:, axis].max()
    position = low + fraction * (high - low) if beyond_greater else high - fraction * (high - low)
    edge = PhotoEdge(axis, float(position), beyond_greater)
    kept = labelled & ~edge.beyond(keypoints)
    return edge if kept.sum() >= MIN_KEPT_KEYPOINTS else None


def box_before_edge(
    keypoints: np.ndarray, kept: np.ndarray, edge: PhotoEdge, aspect_ratio: float
) -> tuple[np.ndarray, np.ndarray]:
    """Crop ``(center (2,), size (2,))`` of what an edge leaves: the kept keypoints' extent grown by
    :data:`EDGE_BOX_GROWTH` a side, stopped at the edge, aspect-fixed and padded as a ground-truth box."""
    points = keypoints[kept > 0]
    low, high = points.min(axis=0), points.max(axis=0)
    growth = EDGE_BOX_GROWTH * (high - low)
    low, high = low - growth, high + growth
    if edge.beyond_greater:
        high[edge.axis] = min(high[edge.axis], edge.position)
    else:
        low[edge.axis] = max(low[edge.axis], edge.position)
    centers, sizes = box_to_center_size(np.concatenate([low, high])[None], aspect_ratio=aspect_ratio)
    return centers[0], sizes[0]


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
    """Draw the random flip, photo edge or half-body box, scale and rotation of one person (no pixel touched).

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
    edge = None
    if augment.truncation_prob > 0 and rng.random() < augment.truncation_prob:
        edge = draw_photo_edge(keypoints, visible, rng)
    if edge is not None:
        visible = np.where(edge.beyond(keypoints), 0.0, visible).astype(visible.dtype)
        center, size = box_before_edge(keypoints, visible, edge, aspect_ratio)
    elif visible.sum() > augment.half_body_min_joints and rng.random() < augment.half_body_prob:
        box = half_body_box(
            keypoints, visible, lower_body_mask(skeleton), aspect_ratio, augment.half_body_padding, rng
        )
        if box is not None:
            center, size = box
    scale, rotation = random_scale_rotation(rng, augment)
    return CropPlan(center, size * scale, rotation, flip, keypoints, visible, edge)


def mirrored(matrix: np.ndarray, image_width: int) -> np.ndarray:
    """``matrix o mirror``: a ``(2, 3)`` matrix for the flipped image, made to read the original image."""
    mirror = np.array([[-1.0, 0.0, image_width - 1.0], [0.0, 1.0, 0.0]])
    linear = matrix[:, :2] @ mirror[:, :2]
    return np.concatenate([linear, matrix[:, :2] @ mirror[:, 2:] + matrix[:, 2:]], axis=1)


def black_beyond(crop: np.ndarray, to_crop: np.ndarray, edge: PhotoEdge) -> np.ndarray:
    """``crop`` with the pixels whose source lies beyond ``edge`` set to 0, as the crop's own border is.

    Args:
        crop: ``(h, w, 3)`` uint8. to_crop: ``(2, 3)`` from the image the edge is in to crop pixels.
    """
    height, width = crop.shape[:2]
    columns, rows = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    pixels = np.stack([columns.ravel(), rows.ravel()], axis=1)
    sources = apply_affine(pixels, cv2.invertAffineTransform(to_crop))
    out = crop.copy()
    out[edge.beyond(sources).reshape(height, width)] = 0
    return out


def person_box_in_crop(input_size: tuple[int, int]) -> np.ndarray:
    """``(4,)`` ``(x, y, w, h)`` of the person box in an unaugmented crop: the crop less its padding."""
    height, width = input_size
    margin = (1 - 1 / PADDING) / 2
    return np.array([width * margin, height * margin, width / PADDING, height / PADDING])


def make_example(
    image: np.ndarray,
    plan: CropPlan,
    spec: ModelSpec,
    changes: PhotometricConfig | None = None,
    rng: np.random.Generator | None = None,
) -> TrainingExample:
    """Crop, change the crop's look, normalise and encode targets for one planned crop.

    Args:
        image: ``(H, W, 3)`` uint8 BGR image, unflipped (the plan's flip is folded into the warp).
        plan: from :func:`plan_crop`.
        spec: the model's input size, heatmap size, normalisation and target sigma.
        changes: photometric changes of the crop (None: none); they need ``rng``.
    """
    to_crop = crop_matrix(plan.center, plan.size, spec.input_size, plan.rotation)
    from_original = mirrored(to_crop, image.shape[1]) if plan.flip else to_crop
    crop = warp_crops(image, from_original[None], spec.input_size)[0]
    if plan.edge is not None:
        crop = black_beyond(crop, to_crop, plan.edge)
    if changes is not None:
        if rng is None:
            raise ValueError("photometric changes need a random generator: pass rng")
        crop = photometric(crop, person_box_in_crop(spec.input_size), rng, changes)
    rgb = crop[:, :, ::-1].astype(np.float32) * np.float32(1.0 / 255.0)
    normalised = (rgb - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    keypoints = apply_affine(plan.keypoints, to_crop)
    heatmaps, weight = encode_heatmaps(keypoints, plan.visible, spec.heatmap_size, spec.stride, spec.sigma)
    return TrainingExample(
        image=np.ascontiguousarray(normalised.transpose(2, 0, 1)),
        heatmaps=np.asarray(heatmaps, dtype=np.float32),
        target_weight=np.asarray(weight, dtype=np.float32),
    )
