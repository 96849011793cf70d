"""Dalal-Triggs HOG features and the linear people SVM, computed with torch over a whole image at once.

OpenCV 5 no longer ships `cv2.HOGDescriptor`, so this module reproduces the descriptor of OpenCV 4's
default `HOGDescriptor()` (to ~1e-4, checked against OpenCV 4.14 in tests/detectors/test_hog_features.py),
which lets us keep using OpenCV's trained people SVM (detectors/hog_people_svm.json):

- gamma correction: square root of the 0-255 pixel values; gradients by [-1, 0, 1] with reflected borders,
  per colour channel, keeping the channel of largest magnitude at each pixel;
- 9 unsigned orientation bins of 20 degrees, each gradient split linearly between its two nearest bins;
- 16x16-pixel blocks every 8 pixels, made of four 8x8 cells; a pixel votes into the cells around it with
  bilinear weights times a Gaussian window (sigma 4) centred on the block;
- L2-Hys block normalisation (clip at 0.2, renormalise);
- a window is 7x15 blocks (64x128 pixels); its score is the SVM dot product plus bias, computed for every
  window position of the image at once.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

WINDOW_WH = (64, 128)
"""HOG window size (width, height) in pixels."""
BLOCK_STRIDE = 8
"""Pixels between neighbouring blocks, hence between neighbouring windows."""
_BINS = 9
_BLOCK = 16
_CELL = 8
_SIGMA = 4.0
_HYS_CLIP = 0.2
_BLOCKS_PER_WINDOW_XY = (7, 15)
_SVM_FILE = Path(__file__).with_name("hog_people_svm.json")


def gradient_histograms(image: np.ndarray) -> torch.Tensor:
    """Per-pixel orientation votes.

    Args:
        image: (H, W, C) uint8, any channel order (the channel of largest gradient wins at each pixel).

    Returns:
        (9, H, W) float32: the pixel's gradient magnitude split between its two nearest orientation bins.
    """
    planes = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float().sqrt_()
    padded = F.pad(planes, (1, 1, 1, 1), mode="reflect")[0]
    dx_planes = padded[:, 1:-1, 2:] - padded[:, 1:-1, :-2]
    dy_planes = padded[:, 2:, 1:-1] - padded[:, :-2, 1:-1]
    squared = dx_planes * dx_planes + dy_planes * dy_planes
    dx, dy, strongest = dx_planes[0], dy_planes[0], squared[0]
    for channel in range(1, len(squared)):  # torch.where beats argmax + gather about sixfold here
        stronger = squared[channel] > strongest
        dx = torch.where(stronger, dx_planes[channel], dx)
        dy = torch.where(stronger, dy_planes[channel], dy)
        strongest = torch.maximum(strongest, squared[channel])
    magnitude = torch.sqrt(strongest)
    position = torch.remainder(torch.atan2(dy, dx), torch.pi) * (_BINS / torch.pi) - 0.5
    lower = torch.floor(position)
    upper_share = position - lower
    lower_bin = torch.remainder(lower, _BINS).long()
    votes = torch.zeros((_BINS, *magnitude.shape))
    votes.scatter_add_(0, lower_bin[None], (magnitude * (1 - upper_share))[None])
    votes.scatter_add_(0, torch.remainder(lower_bin + 1, _BINS)[None], (magnitude * upper_share)[None])
    return votes


@lru_cache(maxsize=1)
def _cell_kernels() -> torch.Tensor:
    """(2, 16): weight of each pixel row (or column) of a block in its first and second cell."""
    pixel = torch.arange(_BLOCK, dtype=torch.float32)
    cell_position = (pixel + 0.5) / _CELL - 0.5
    bilinear = torch.stack([torch.clamp(1 - torch.abs(cell_position - cell), min=0) for cell in (0, 1)])
    gaussian = torch.exp(-((pixel - _BLOCK / 2) ** 2) / (2 * _SIGMA**2))
    return bilinear * gaussian


def block_features(votes: torch.Tensor) -> torch.Tensor:
    """Normalised block histograms on the 8-pixel block grid.

    Args:
        votes: (9, H, W) from `gradient_histograms`.

    Returns:
        (36, By, Bx) float32 with By = (H - 16) // 8 + 1, Bx = (W - 16) // 8 + 1; channel order is
        (cell x, cell y, bin), as in OpenCV's descriptor.
    """
    kernels = _cell_kernels()
    rows = F.conv2d(
        votes[None], kernels[:, None, :, None].repeat(_BINS, 1, 1, 1), stride=(BLOCK_STRIDE, 1), groups=_BINS
    )
    cells = F.conv2d(
        rows, kernels[:, None, None, :].repeat(2 * _BINS, 1, 1, 1), stride=(1, BLOCK_STRIDE), groups=2 * _BINS
    )
    blocks_y, blocks_x = cells.shape[-2:]
    # channels come out as (bin, cell y, cell x); OpenCV orders them (cell x, cell y, bin)
    blocks = (
        cells[0]
        .reshape(_BINS, 2, 2, blocks_y, blocks_x)
        .permute(2, 1, 0, 3, 4)
        .reshape(4 * _BINS, blocks_y, blocks_x)
    )
    blocks = blocks / (blocks.norm(dim=0, keepdim=True) + 0.1 * 4 * _BINS)
    blocks = blocks.clamp_(max=_HYS_CLIP)
    return blocks / (blocks.norm(dim=0, keepdim=True) + 1e-3)


def window_descriptor(blocks: torch.Tensor, block_x: int, block_y: int) -> np.ndarray:
    """(3780,) float32 descriptor, in OpenCV order, of the window with top-left block (block_x, block_y)."""
    columns, rows = _BLOCKS_PER_WINDOW_XY
    window = blocks[:, block_y : block_y + rows, block_x : block_x + columns]
    return window.permute(2, 1, 0).reshape(-1).numpy()


@lru_cache(maxsize=1)
def people_svm() -> tuple[torch.Tensor, float]:
    """OpenCV's people SVM: (15, 7, 36) weights, one 36-vector per block place in the window; the bias."""
    data = json.loads(_SVM_FILE.read_text())
    columns, rows = _BLOCKS_PER_WINDOW_XY
    weights = torch.tensor(data["weights"], dtype=torch.float32).reshape(columns, rows, 4 * _BINS)
    return weights.transpose(0, 1).contiguous(), float(data["bias"])


def window_scores(image: np.ndarray) -> np.ndarray:
    """SVM score of every 64x128 window whose corner lies on the 8-pixel grid.

    Args:
        image: (H, W, 3) uint8 with H >= 128 and W >= 64.

    Returns:
        (Ny, Nx) float32: entry (i, j) scores the window with top-left corner (8 j, 8 i); > 0 means person.
    """
    height, width = image.shape[:2]
    if height < WINDOW_WH[1] or width < WINDOW_WH[0]:
        raise ValueError(
            f"image {width}x{height} is smaller than the {WINDOW_WH[0]}x{WINDOW_WH[1]} HOG window"
        )
    weights, bias = people_svm()
    rows, columns = weights.shape[:2]
    with torch.inference_mode():
        blocks = block_features(gradient_histograms(image))
        blocks_y, blocks_x = blocks.shape[1:]
        # the score is a sum over the window's blocks: dot every block with the weights of every place it can
        # take in a window (one matmul, ~4x faster than the equivalent 15x7 convolution), then add the shifts
        partial = (weights.reshape(-1, weights.shape[2]) @ blocks.reshape(blocks.shape[0], -1)).reshape(
            rows, columns, blocks_y, blocks_x
        )
        out_y, out_x = blocks_y - rows + 1, blocks_x - columns + 1
        scores = torch.full((out_y, out_x), bias)
        for dy in range(rows):
            for dx in range(columns):
                scores += partial[dy, dx, dy : dy + out_y, dx : dx + out_x]
        return scores.numpy()
