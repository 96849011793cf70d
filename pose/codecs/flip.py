"""Flip test: bring heatmaps of horizontally flipped crops back to the original frame and average."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def flip_back(heatmaps: np.ndarray, flip_permutation: Sequence[int], shift: bool = True) -> np.ndarray:
    """Heatmaps of flipped crops, expressed in the unflipped crop.

    Channels are swapped by the skeleton's flip permutation (``out[:, k] = in[:, perm[k]]``), each map is
    mirrored along the width, and with ``shift`` moved right by one pixel (``out[..., 1:] = out[..., :-1]``,
    column 0 keeps its value), as the HRNet reference and mmpose 0.x (``shift_heatmap=True``) do.

    Args:
        heatmaps: ``(N, K, h, w)`` heatmaps predicted on flipped crops.
        flip_permutation: ``(K,)`` from :meth:`pose.skeleton.Skeleton.flip_permutation`.
        shift: apply the 1-pixel shift.

    Returns:
        New ``(N, K, h, w)`` array, same dtype.
    """
    flipped = heatmaps[:, np.asarray(flip_permutation), :, ::-1]
    if shift:
        flipped[..., 1:] = flipped[..., :-1]  # numpy copes with the overlap
    return np.ascontiguousarray(flipped)


def average_with_flipped(
    heatmaps: np.ndarray, flipped_heatmaps: np.ndarray, flip_permutation: Sequence[int]
) -> np.ndarray:
    """``(heatmaps + flip_back(flipped_heatmaps)) / 2``, both ``(N, K, h, w)``; a new array."""
    restored = flip_back(flipped_heatmaps, flip_permutation, shift=True)
    restored += heatmaps
    restored *= 0.5
    return restored
