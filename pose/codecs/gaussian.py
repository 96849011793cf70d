"""Gaussian heatmap targets: the MSRA encoding of mmpose 0.x ``TopDownGenerateTarget``."""

from __future__ import annotations

import numpy as np


def encode_heatmaps(
    keypoints: np.ndarray,
    visible: np.ndarray,
    heatmap_hw: tuple[int, int],
    stride: float,
    sigma: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Unnormalised Gaussian targets (peak 1) at integer heatmap centres, and per-keypoint weights.

    For keypoint ``(x, y)`` in input pixels the centre is ``mu = int(x / stride + 0.5)`` (``int`` truncates
    toward zero, as in mmpose). The Gaussian is drawn in the window ``[mu - 3 sigma, mu + 3 sigma]``
    (13x13 for sigma 2) clipped to the map; outside it the target is 0.

    The weight is 1 for a visible keypoint and 0 for an invisible one, or when the window lies outside the
    map by mmpose's test: ``ul >= size`` or ``br < 0`` with ``ul = int(mu - 3 sigma)``,
    ``br = int(mu + 3 sigma + 1)`` (exclusive). A keypoint with weight 0 gets an all-zero map.

    Args:
        keypoints: ``(K, 2)`` network-input pixels (crop pixels), x right, y down.
        visible: ``(K,)`` bool (or 0/1) visibility flags.
        heatmap_hw: ``(height, width)`` of the heatmap, e.g. ``(64, 48)``.
        stride: input pixels per heatmap pixel, e.g. 4.
        sigma: Gaussian standard deviation in heatmap pixels, e.g. 2.

    Returns:
        ``heatmaps (K, h, w)`` float32 and ``target_weight (K,)`` float32.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64).reshape(-1, 2)
    height, width = heatmap_hw
    radius = sigma * 3
    window = int(2 * radius + 1)
    mu = np.trunc(keypoints / stride + 0.5)
    upper_left = np.trunc(mu - radius)
    bottom_right = np.trunc(mu + radius + 1)
    inside = ~(
        (upper_left[:, 0] >= width) | (upper_left[:, 1] >= height)
        | (bottom_right[:, 0] < 0) | (bottom_right[:, 1] < 0)
    )
    weight = (np.asarray(visible).reshape(-1) > 0) & inside

    # mmpose draws a (window x window) patch whose centre pixel (window // 2) sits at upper_left.
    peak = upper_left + window // 2
    xs = np.arange(width, dtype=np.float64)
    ys = np.arange(height, dtype=np.float64)
    dx = xs[None, :] - peak[:, 0:1]
    dy = ys[None, :] - peak[:, 1:2]
    in_x = (xs[None, :] >= upper_left[:, 0:1]) & (xs[None, :] < upper_left[:, 0:1] + window)
    in_y = (ys[None, :] >= upper_left[:, 1:2]) & (ys[None, :] < upper_left[:, 1:2] + window)
    squared = dx[:, None, :] ** 2 + dy[:, :, None] ** 2
    heatmaps = np.exp(-squared / (2 * sigma**2))
    heatmaps *= (in_y[:, :, None] & in_x[:, None, :] & weight[:, None, None])
    return heatmaps.astype(np.float32), weight.astype(np.float32)
