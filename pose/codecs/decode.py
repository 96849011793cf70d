"""Heatmap decoding as in the paper (Sec. IV-A-3) and mmpose 0.x ``post_process='default'``."""

from __future__ import annotations

import numpy as np


def argmax_heatmaps(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer peak of each heatmap.

    Args:
        heatmaps: ``(N, K, h, w)`` float array.

    Returns:
        ``flat_index (N, K)`` int64 into the flattened ``h * w`` map (first maximum on ties),
        ``coords (N, K, 2)`` float32 ``(x, y)`` heatmap pixels, ``(-1, -1)`` where the maximum is <= 0,
        and ``scores (N, K)`` float32 maxima.
    """
    n, k, height, width = heatmaps.shape
    flat = heatmaps.reshape(n, k, height * width)
    index = flat.argmax(axis=2)
    scores = np.take_along_axis(flat, index[..., None], axis=2)[..., 0].astype(np.float32)
    coords = np.stack([index % width, index // width], axis=-1).astype(np.float32)
    coords[scores <= 0] = -1
    return index, coords, scores


def decode_heatmaps(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Argmax plus a quarter pixel toward the higher neighbour.

    For a peak at integer ``(x, y)`` with ``1 < x < w - 1`` and ``1 < y < h - 1`` (strict, both at once),
    ``0.25 * sign(H[y, x+1] - H[y, x-1])`` is added to x and ``0.25 * sign(H[y+1, x] - H[y-1, x])`` to y.
    Peaks in columns 0, 1, w-1 or rows 0, 1, h-1 get no offset. A map whose maximum is <= 0 decodes to
    ``(-1, -1)`` with no offset, as in mmpose.

    Args:
        heatmaps: ``(N, K, h, w)`` float array (any float dtype).

    Returns:
        ``coords (N, K, 2)`` float32 ``(x, y)`` heatmap pixels and ``scores (N, K)`` float32 (the maxima).
    """
    n, k, height, width = heatmaps.shape
    index, coords, scores = argmax_heatmaps(heatmaps)
    x, y = coords[..., 0], coords[..., 1]
    interior = (x > 1) & (x < width - 1) & (y > 1) & (y < height - 1)

    flat = heatmaps.reshape(n, k, height * width)
    last = height * width - 1
    neighbours = np.stack([index + 1, index - 1, index + width, index - width], axis=-1)
    values = np.take_along_axis(flat, np.clip(neighbours, 0, last), axis=2).astype(np.float32)
    offset = np.stack([values[..., 0] - values[..., 1], values[..., 2] - values[..., 3]], axis=-1)
    coords += np.where(interior[..., None], 0.25 * np.sign(offset), 0).astype(np.float32)
    return coords, scores
