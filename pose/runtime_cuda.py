"""The pose model on a CUDA GPU: crops cut on the GPU, float16 channels-last, CUDA graphs per batch size.

Not wired into the app yet (no GPU has been lent to measure it): ``tests/benchmarks/cuda_fps.py`` runs it end
to end. The parts that run on any device are tested on the CPU (tests/pose/test_runtime_cuda.py):

* :func:`crop_theta` turns the estimator's crop matrices (image pixels -> crop pixels, as ``cv2.warpAffine``
  takes them) into ``F.affine_grid`` matrices, so :func:`gpu_crops` cuts the same crops with
  ``F.grid_sample`` (bilinear, zero border) and normalises them to the network's input on the GPU.
* :class:`GraphedForward` runs the inference-prepared model (BN folded, dynamic kernels stacked, so every
  shape is static) in float16 and channels-last, and on CUDA replays one captured CUDA graph per batch size
  (the first batch of a new size pays the capture).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pose.models.inference import prepare_for_inference
from pose.runtime import stack_dynamic_kernels
from pose.transforms import invert_affine

GRAPH_WARMUP_CALLS = 3
"""Eager calls on a side stream before a capture (cuDNN picks its algorithms there)."""


def _pixels_to_normalised(size: int) -> np.ndarray:
    """3x3 map of pixel index -> ``align_corners=False`` normalised coordinate along one axis of ``size``."""
    return np.array([[2.0 / size, 1.0 / size - 1.0], [0.0, 1.0]])


def crop_theta(matrices: np.ndarray, image_hw: tuple[int, int], output_hw: tuple[int, int]) -> np.ndarray:
    """``F.affine_grid`` matrices for crops given as ``cv2.warpAffine`` matrices.

    Args:
        matrices: ``(N, 2, 3)`` image pixels -> crop pixels (:func:`pose.transforms.crop_matrices`).
        image_hw: source image ``(H, W)``.
        output_hw: crop ``(h, w)``.

    Returns:
        ``(N, 2, 3)`` float32: normalised crop coordinates -> normalised image coordinates
        (``align_corners=False``), i.e. ``N_image @ inverse(matrix) @ inverse(N_crop)``.
    """
    inverse = invert_affine(matrices)  # crop pixels -> image pixels
    (height, width), (out_h, out_w) = image_hw, output_hw
    to_image = np.diag([2.0 / width, 2.0 / height, 1.0])
    to_image[:2, 2] = [1.0 / width - 1.0, 1.0 / height - 1.0]
    from_crop = np.diag([out_w / 2.0, out_h / 2.0, 1.0])
    from_crop[:2, 2] = [(out_w - 1) / 2.0, (out_h - 1) / 2.0]
    full = np.zeros((len(inverse), 3, 3))
    full[:, :2], full[:, 2, 2] = inverse, 1.0
    return (to_image @ full @ from_crop)[:, :2].astype(np.float32)


def gpu_crops(
    image: Tensor, theta: Tensor, output_hw: tuple[int, int], mean: Sequence[float], std: Sequence[float],
    flip: bool = False, dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Normalised network inputs cut from ``image`` on its device.

    Args:
        image: ``(H, W, 3)`` BGR uint8 frame (on the GPU for speed; any device works).
        theta: ``(N, 2, 3)`` float32 from :func:`crop_theta`, on the same device.
        output_hw: crop ``(h, w)``.
        mean, std: RGB normalisation on [0, 1] values (``ModelSpec.mean`` / ``.std``).
        flip: append the mirror images of the N crops (the estimator's flip test).

    Returns:
        ``(N, 3, h, w)`` (``(2N, 3, h, w)`` with ``flip``) normalised RGB in ``dtype``, channels-last.
    """
    rgb = image.permute(2, 0, 1).flip(0).unsqueeze(0).float()  # (1, 3, H, W) RGB, 0..255
    grid = F.affine_grid(theta, [len(theta), 3, *output_hw], align_corners=False)
    crops = F.grid_sample(rgb.expand(len(theta), -1, -1, -1), grid, mode="bilinear", padding_mode="zeros",
                          align_corners=False)
    if flip:
        crops = torch.cat([crops, crops.flip(-1)])
    scale = torch.tensor([1.0 / (255.0 * s) for s in std], device=crops.device).view(1, 3, 1, 1)
    shift = torch.tensor([-m / s for m, s in zip(mean, std, strict=True)], device=crops.device)
    shift = shift.view(1, 3, 1, 1)
    return torch.addcmul(shift, crops, scale).to(dtype).contiguous(memory_format=torch.channels_last)


class GraphedForward:
    """``(B, 3, H, W)`` inputs on the model's device -> ``(B, K, H/4, W/4)`` heatmaps (a new tensor per call).

    Args:
        model: eval-mode pose model; a prepared copy is used, ``model`` is not modified.
        device: where to run.
        dtype: float16 on CUDA (the default there), float32 elsewhere.
        graphs: capture and replay one CUDA graph per batch size (CUDA only; default: on CUDA).
    """

    def __init__(
        self,
        model: nn.Module,
        device: torch.device,
        dtype: torch.dtype | None = None,
        graphs: bool | None = None,
    ) -> None:
        cuda = device.type == "cuda"
        self.dtype = dtype or (torch.float16 if cuda else torch.float32)
        self.graphs = cuda if graphs is None else graphs
        if self.graphs and not cuda:
            raise ValueError(f"CUDA graphs need a CUDA device, not {device}")
        prepared = prepare_for_inference(model, channels_last=True)
        stack_dynamic_kernels(prepared)
        self.module = prepared.to(device, self.dtype).eval()
        self.device = device
        self._captured: dict[int, tuple[torch.cuda.CUDAGraph, Tensor, Tensor]] = {}

    @torch.inference_mode()
    def __call__(self, batch: Tensor) -> Tensor:
        batch = batch.to(self.device, self.dtype).contiguous(memory_format=torch.channels_last)
        if not self.graphs:
            return self.module(batch)
        graph, static_in, static_out = self._captured.get(len(batch)) or self._capture(batch)
        static_in.copy_(batch)
        graph.replay()
        return static_out.clone()

    def _capture(self, batch: Tensor) -> tuple[torch.cuda.CUDAGraph, Tensor, Tensor]:
        static_in = batch.clone()
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(GRAPH_WARMUP_CALLS):
                self.module(static_in)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = self.module(static_in)
        self._captured[len(batch)] = (graph, static_in, static_out)
        return self._captured[len(batch)]
