"""Top-down crop geometry: person box -> crop centre/size, affine crop matrices, batched warps, map-back.

Pure numpy/cv2 functions following the mmpose 0.x protocol (``use_udp=False``), the one the EDite-HRNet
and Dite-HRNet numbers were measured with.

Conventions:
    * Points are ``(x, y)`` in pixels, x right, y down; integer coordinates are pixel centres.
    * Sizes are ``(w, h)`` in image pixels. mmpose stores ``scale = size / 200``; we keep plain pixels.
    * Output sizes are ``(h, w)``, like :attr:`pose.models.spec.ModelSpec.input_size`.
    * A crop matrix maps image pixels to crop pixels; crop pixel ``(u, v)`` corresponds to heatmap pixel
      ``(u, v) / stride`` (no half-pixel offset, the non-UDP convention).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

PADDING = 1.25
"""Context margin around the person box (HRNet / Lite-HRNet / Dite-HRNet test and train setting)."""


def box_to_center_size(
    boxes: np.ndarray, aspect_ratio: float = 0.75, padding: float = PADDING
) -> tuple[np.ndarray, np.ndarray]:
    """Crop centre and size for person boxes (mmpose ``_xywh2cs`` without the training jitter).

    The box grows, never shrinks, to the target aspect ``w / h``: ``h' = max(h, w / aspect_ratio)`` then
    ``w' = h' * aspect_ratio``; both sides are then multiplied by ``padding``. A box already at the target
    aspect keeps its size (up to float rounding), so expanding a box to 3:4 upstream and again here is
    harmless.

    Args:
        boxes: ``(N, 4)`` ``(x1, y1, x2, y2)`` in image pixels; ``(4,)`` is read as one box.
        aspect_ratio: crop ``w / h``; 0.75 for a 256x192 input (``ModelSpec.aspect_ratio``).
        padding: multiplier on both sides after the aspect fix.

    Returns:
        ``centers (N, 2)`` and ``sizes (N, 2)`` as ``(w, h)``, float64 image pixels.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    centers = (boxes[:, :2] + boxes[:, 2:]) * 0.5
    width = boxes[:, 2] - boxes[:, 0]
    height = np.maximum(boxes[:, 3] - boxes[:, 1], width / aspect_ratio)
    sizes = np.stack([height * aspect_ratio, height], axis=1) * padding
    return centers, sizes


def crop_matrices(
    centers: np.ndarray,
    sizes: np.ndarray,
    output_hw: tuple[int, int],
    rotations: np.ndarray | None = None,
) -> np.ndarray:
    """Affine matrices mapping image pixels to crop pixels, one per crop.

    Closed form of mmpose's ``get_affine_transform`` 3-point construction: the crop centre goes to
    ``(out_w / 2, out_h / 2)``, the point half a crop-width above the centre (rotated by ``rotation``)
    goes to ``out_w / 2`` above the output centre, and the third point follows by a 90 degree turn. That
    is a similarity with scale ``out_w / size_w`` (only the width sets the scale, as in mmpose) and a
    rotation of the image content by ``rotation`` degrees counter-clockwise on screen.

    Args:
        centers: ``(N, 2)`` crop centres, image pixels.
        sizes: ``(N, 2)`` crop ``(w, h)``, image pixels (from :func:`box_to_center_size`).
        output_hw: crop ``(height, width)`` in pixels, e.g. ``(256, 192)``.
        rotations: ``(N,)`` degrees, or None for no rotation (inference).

    Returns:
        ``(N, 2, 3)`` float64 matrices.
    """
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    out_h, out_w = output_hw
    scale = out_w / sizes[:, 0]
    if rotations is None:
        cos, sin = scale, np.zeros_like(scale)
    else:
        radians = np.deg2rad(np.asarray(rotations, dtype=np.float64).reshape(-1))
        cos, sin = scale * np.cos(radians), scale * np.sin(radians)
    matrices = np.empty((len(centers), 2, 3), dtype=np.float64)
    matrices[:, 0, 0], matrices[:, 0, 1] = cos, sin
    matrices[:, 1, 0], matrices[:, 1, 1] = -sin, cos
    matrices[:, 0, 2] = out_w * 0.5 - cos * centers[:, 0] - sin * centers[:, 1]
    matrices[:, 1, 2] = out_h * 0.5 + sin * centers[:, 0] - cos * centers[:, 1]
    return matrices


def crop_matrix(
    center: np.ndarray, size: np.ndarray, output_hw: tuple[int, int], rotation_deg: float = 0.0
) -> np.ndarray:
    """One crop matrix, ``(2, 3)`` float64, image pixels -> crop pixels; see :func:`crop_matrices`."""
    return crop_matrices(center, size, output_hw, np.array([rotation_deg]))[0]


def invert_affine(m: np.ndarray) -> np.ndarray:
    """Inverse of affine matrices ``(..., 2, 3)``; same shape, float64."""
    m = np.asarray(m, dtype=np.float64)
    linear_inv = np.linalg.inv(m[..., :2])
    inverse = np.empty_like(m)
    inverse[..., :2] = linear_inv
    inverse[..., 2] = -(linear_inv @ m[..., 2:])[..., 0]
    return inverse


def apply_affine(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Apply affine matrices to points.

    Args:
        points: ``(..., 2)`` pixels. With a batch of matrices the leading axis of ``points`` must match it:
            ``(N, ..., 2)`` with ``m`` ``(N, 2, 3)``.
        m: ``(2, 3)`` or ``(N, 2, 3)``.

    Returns:
        Transformed points, same shape as ``points``, float64.
    """
    points = np.asarray(points, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    if m.ndim == 2:
        return points @ m[:, :2].T + m[:, 2]
    flat = points.reshape(len(m), -1, 2)
    mapped = flat @ m[:, :, :2].transpose(0, 2, 1) + m[:, None, :, 2]
    return mapped.reshape(points.shape)


def warp_crops(
    image: np.ndarray, matrices: np.ndarray, output_hw: tuple[int, int], out: np.ndarray | None = None
) -> np.ndarray:
    """Cut crops with bilinear interpolation and a constant 0 border (mmpose ``TopDownAffine``).

    Args:
        image: ``(H, W, 3)`` uint8 (any channel order; it is kept).
        matrices: ``(N, 2, 3)`` image -> crop matrices.
        output_hw: crop ``(height, width)``.
        out: optional C-contiguous ``(N, h, w, 3)`` uint8 buffer written in place.

    Returns:
        ``(N, h, w, 3)`` uint8 crops (``out`` when given).
    """
    out_h, out_w = output_hw
    if out is None:
        out = np.empty((len(matrices), out_h, out_w, image.shape[2]), dtype=np.uint8)
    for matrix, crop in zip(matrices, out, strict=True):
        cv2.warpAffine(
            image, matrix, (out_w, out_h), dst=crop,
            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0,
        )
    return out


def normalize_crops(
    crops: np.ndarray, mean: Sequence[float], std: Sequence[float], out: np.ndarray | None = None
) -> np.ndarray:
    """Network input from BGR crops: RGB, ``(x / 255 - mean) / std``, channels first.

    One multiply and one add per channel plane, reading the BGR channels in reverse, so no intermediate
    RGB or float copy is made.

    Args:
        crops: ``(N, h, w, 3)`` BGR uint8.
        mean, std: RGB normalisation on [0, 1] pixel values (``ModelSpec.mean`` / ``.std``).
        out: optional ``(N, 3, h, w)`` float32 buffer written in place.

    Returns:
        ``(N, 3, h, w)`` float32 normalised RGB (``out`` when given).
    """
    n, height, width, _ = crops.shape
    if out is None:
        out = np.empty((n, 3, height, width), dtype=np.float32)
    for channel in range(3):
        plane = out[:, channel]
        np.multiply(crops[..., 2 - channel], np.float32(1.0 / (255.0 * std[channel])), out=plane)
        plane += np.float32(-mean[channel] / std[channel])
    return out


def heatmap_to_image(
    coords: np.ndarray, centers: np.ndarray, sizes: np.ndarray, heatmap_hw: tuple[int, int]
) -> np.ndarray:
    """Map heatmap coordinates back to image pixels (mmpose ``transform_preds``, no rotation).

    ``x_img = x_hm * size_w / heatmap_w + center_x - size_w / 2``, and the same for y with the heights.
    This is the exact inverse of :func:`crop_matrices` (rotation 0) composed with ``crop = stride * heatmap``.

    Args:
        coords: ``(N, K, 2)`` heatmap pixels.
        centers: ``(N, 2)`` crop centres, image pixels.
        sizes: ``(N, 2)`` crop ``(w, h)``, image pixels.
        heatmap_hw: heatmap ``(height, width)``.

    Returns:
        ``(N, K, 2)`` float64 image pixels.
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    per_pixel = sizes / np.array([heatmap_hw[1], heatmap_hw[0]], dtype=np.float64)
    origin = np.asarray(centers, dtype=np.float64) - sizes * 0.5
    return coords * per_pixel[:, None, :] + origin[:, None, :]
