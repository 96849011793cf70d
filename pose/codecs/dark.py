"""DARK decoding (Zhang et al., CVPR 2020; mmpose 0.x ``post_process='unbiased'``). Optional: the paper's
numbers use :func:`pose.codecs.decode.decode_heatmaps`."""

from __future__ import annotations

import numpy as np

from pose.codecs.decode import argmax_heatmaps


def _gaussian_kernel(size: int) -> np.ndarray:
    """1-D Gaussian kernel with OpenCV's default sigma for ``size`` (``0.3 * ((size - 1) / 2 - 1) + 0.8``)."""
    sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8
    taps = np.arange(size, dtype=np.float64) - (size - 1) / 2
    kernel = np.exp(-(taps**2) / (2 * sigma**2))
    return kernel / kernel.sum()


def _blur(heatmaps: np.ndarray, kernel_size: int) -> np.ndarray:
    """Separable Gaussian blur with a zero border, each map rescaled to keep its original maximum."""
    n, k, height, width = heatmaps.shape
    kernel = _gaussian_kernel(kernel_size)
    radius = kernel_size // 2
    padded = np.pad(heatmaps.astype(np.float64), ((0, 0), (0, 0), (radius, radius), (radius, radius)))
    rows = sum(kernel[i] * padded[:, :, i : i + height, :] for i in range(kernel_size))
    blurred = sum(kernel[i] * rows[:, :, :, i : i + width] for i in range(kernel_size))
    original_max = heatmaps.reshape(n, k, -1).max(axis=2)
    blurred_max = blurred.reshape(n, k, -1).max(axis=2)
    ratio = np.divide(original_max, blurred_max, out=np.zeros_like(original_max, dtype=np.float64),
                      where=blurred_max != 0)
    return blurred * ratio[..., None, None]


def decode_heatmaps_dark(heatmaps: np.ndarray, kernel_size: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """Argmax refined by one Newton step on the log of the blurred heatmap.

    The heatmap is blurred (``kernel_size`` 11 for sigma 2, 17 for sigma 3, as mmpose configs), its log
    taken (floored at 1e-10), and at an argmax with ``1 < x < w - 2`` and ``1 < y < h - 2`` the offset
    ``-H^-1 g`` from central differences is added when the Hessian is not singular.

    Args:
        heatmaps: ``(N, K, h, w)`` float array.
        kernel_size: odd Gaussian blur size.

    Returns:
        ``coords (N, K, 2)`` float32 heatmap pixels and ``scores (N, K)`` float32 (maxima of the raw maps).
    """
    n, k, height, width = heatmaps.shape
    _, coords, scores = argmax_heatmaps(heatmaps)
    logmap = np.log(np.maximum(_blur(heatmaps, kernel_size), 1e-10))
    x = coords[..., 0].astype(np.int64)
    y = coords[..., 1].astype(np.int64)
    interior = (x > 1) & (x < width - 2) & (y > 1) & (y < height - 2)
    xi, yi = np.where(interior, x, 2), np.where(interior, y, 2)
    ni, ki = np.indices((n, k))

    def at(dy: int, dx: int) -> np.ndarray:
        return logmap[ni, ki, yi + dy, xi + dx]

    centre = at(0, 0)
    grad_x = 0.5 * (at(0, 1) - at(0, -1))
    grad_y = 0.5 * (at(1, 0) - at(-1, 0))
    dxx = 0.25 * (at(0, 2) - 2 * centre + at(0, -2))
    dyy = 0.25 * (at(2, 0) - 2 * centre + at(-2, 0))
    dxy = 0.25 * (at(1, 1) - at(-1, 1) - at(1, -1) + at(-1, -1))
    det = dxx * dyy - dxy**2
    solvable = interior & (det != 0)
    safe_det = np.where(solvable, det, 1.0)
    offset_x = -(dyy * grad_x - dxy * grad_y) / safe_det
    offset_y = -(-dxy * grad_x + dxx * grad_y) / safe_det
    offsets = np.stack([offset_x, offset_y], axis=-1)
    coords += np.where(solvable[..., None], offsets, 0).astype(np.float32)
    return coords, scores
