"""Top-down pose estimation: (image, person boxes) -> keypoints in image pixels.

The app, the evaluation and training validation all call :class:`TopDownEstimator`, so the accuracy we
report is what users get. It is the only place where flip-averaging happens.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch
from torch import nn

from pose.base import Closeable, PoseResult, RuntimeInfo
from pose.codecs import average_with_flipped, decode_heatmaps
from pose.models.spec import ModelSpec
from pose.runtime import Forward, build_forward, resolve_runtime, select_runtime
from pose.transforms import (
    PADDING,
    box_to_center_size,
    crop_matrices,
    heatmap_to_image,
    normalize_crops,
    warp_crops,
)

if TYPE_CHECKING:
    from pose.runtime_tuning import BackgroundTuning

logger = logging.getLogger(__name__)


def _tuned(model: nn.Module) -> bool:
    """Whether the runtime trials for ``model`` already ran on this machine (their choice is cached)."""
    from pose.runtime_autotune import cached_choice

    return cached_choice(model) is not None


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without a GPU is an error."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch sees no CUDA GPU: use --device cpu or auto")
    return resolved


class TopDownEstimator(Closeable):
    """Crop every box at the model's aspect ratio, run the model once on the batch, decode, map back.

    It implements :class:`pose.base.Estimator`. :meth:`close` (or leaving a ``with`` block) frees its
    runtime's worker threads and sessions; calling the estimator afterwards raises ``RuntimeError``.

    Protocol (mmpose 0.x, as the paper): boxes widened to ``spec.aspect_ratio`` and padded 1.25, affine
    crops at ``spec.input_size``, RGB normalised with ``spec.mean``/``spec.std``; with ``flip`` the mirrored
    crops join the same batch and their heatmaps are flipped back (1-pixel shift) and averaged; decoding is
    argmax plus a quarter pixel toward the higher neighbour.

    Args:
        model: ``nn.Module`` with a ``spec: ModelSpec`` attribute and forward ``(B, 3, H, W)`` normalised
            RGB -> ``(B, K, H/4, W/4)`` heatmaps. It is moved to ``device``, put in eval mode and, with half
            precision, converted to float16 in place.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or a ``torch.device``.
        flip: average with the horizontally flipped crops (settable later through :attr:`flip`).
        half: float16 inference; ``None`` means on CUDA only.
        runtime: how the forward pass runs (:mod:`pose.runtime`): ``"eager"`` (default) calls ``model``
            itself, so later weight changes (training) are seen; ``"torch"`` and ``"onnx"`` run an
            inference-optimised copy taken now; ``"openvino"`` / ``"openvino-bf16"`` run it with OpenVINO;
            ``"auto"`` picks the fastest accurate one on this machine (timed once, then cached).
        tune_in_background: with ``"auto"`` on the CPU and no choice cached for this machine yet, start at
            once with a first guess and time the runtimes on a background thread
            (:class:`pose.runtime_tuning.BackgroundTuning`); the winner takes over between two calls. An
            app that must not wait a minute on its first start sets it; benchmarks do not.
    """

    def __init__(
        self,
        model: nn.Module,
        device: str | torch.device = "auto",
        flip: bool = True,
        half: bool | None = None,
        runtime: str = "eager",
        tune_in_background: bool = False,
    ) -> None:
        spec = getattr(model, "spec", None)
        if not isinstance(spec, ModelSpec):
            raise TypeError(f"{type(model).__name__} has no 'spec: ModelSpec'; use create_model()")
        self._device = resolve_device(device)
        self._half = self._device.type == "cuda" if half is None else half
        if self._half and self._device.type != "cuda":
            raise ValueError("half precision needs a CUDA device; use half=False on CPU")
        self._dtype = torch.float16 if self._half else torch.float32
        model = model.to(self._device, self._dtype).eval()
        self._tuning: BackgroundTuning | None = None
        if tune_in_background and runtime == "auto" and self._device.type == "cpu" and not _tuned(model):
            from pose.runtime_tuning import BackgroundTuning

            self._runtime = RuntimeInfo(resolve_runtime("auto", self._device), tuning=True)
            self._tuning = BackgroundTuning(model, self._build_forward, self._runtime.name)
        else:
            self._runtime = select_runtime(model, runtime, self._device)
        self._forward_fn = self._build_forward(model, self._runtime.name)
        self._spec = spec
        self._flip_permutation = spec.skeleton.flip_permutation()
        self.flip = flip
        logger.debug("estimator for %s on %s (%s, %s), flip=%s", spec.name, self._device, self._dtype,
                     self._runtime, flip)

    @property
    def device(self) -> str:
        """Where the model runs, as torch names it: ``"cpu"``, ``"cuda"``, ``"cuda:1"``."""
        return str(self._device)

    @property
    def spec(self) -> ModelSpec:
        return self._spec

    @property
    def half(self) -> bool:
        return self._half

    @property
    def runtime(self) -> RuntimeInfo:
        """The runtime in use (one of :data:`pose.runtime.RUNTIMES` but ``"auto"``) and its ms per crop."""
        return self._runtime

    def warm_up(self, max_people: int) -> None:
        """Run the model once for every crowd size up to ``max_people`` (with the current flip setting), so
        that later calls pay no first-call costs: allocations, and the ONNX runtime's specialised sessions
        (built now rather than in the background)."""
        self._ensure_open()
        height, width = self._spec.input_size
        for people in range(1, max_people + 1):
            crops = 2 * people if self.flip else people
            self._forward_fn.prepare(crops)
            self._forward(np.zeros((crops, 3, height, width), np.float32))

    def __call__(self, image: np.ndarray, boxes: np.ndarray) -> PoseResult:
        """Keypoints of the people in ``boxes``.

        Args:
            image: ``(H, W, 3)`` BGR uint8 frame.
            boxes: ``(N, 4)`` ``(x1, y1, x2, y2)`` image pixels; they may reach outside the image.

        Returns:
            :class:`PoseResult` with ``(N, K, 2)`` keypoints and ``(N, K)`` scores, in box order.
        """
        self._ensure_open()
        self._adopt_tuned_runtime()
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected a (H, W, 3) uint8 BGR image, got {image.shape} {image.dtype}")
        boxes = np.asarray(boxes, dtype=np.float64)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"expected boxes of shape (N, 4), got {boxes.shape}")
        n, k = len(boxes), self._spec.num_keypoints
        if n == 0:
            return PoseResult(np.zeros((0, k, 2), np.float32), np.zeros((0, k), np.float32))

        centers, sizes = box_to_center_size(boxes, self._spec.aspect_ratio, PADDING)
        input_hw = self._spec.input_size
        crops = np.empty((2 * n if self.flip else n, *input_hw, 3), dtype=np.uint8)
        warp_crops(image, crop_matrices(centers, sizes, input_hw), input_hw, out=crops[:n])
        if self.flip:
            for crop, mirrored in zip(crops[:n], crops[n:], strict=True):
                cv2.flip(crop, 1, dst=mirrored)
        heatmaps = self._forward(normalize_crops(crops, self._spec.mean, self._spec.std))
        if self.flip:
            heatmaps = average_with_flipped(heatmaps[:n], heatmaps[n:], self._flip_permutation)
        coords, scores = decode_heatmaps(heatmaps)
        keypoints = heatmap_to_image(coords, centers, sizes, self._spec.heatmap_size)
        return PoseResult(keypoints.astype(np.float32), scores)

    def _build_forward(self, model: nn.Module, runtime: str) -> Forward:
        return build_forward(model, runtime, self._device, self._dtype)

    def _adopt_tuned_runtime(self) -> None:
        """Swap in the runtime the background trials chose, once they are done (or give up on them)."""
        if self._tuning is None or self._tuning.running:
            return
        tuned, tuning, self._tuning = self._tuning.take(), self._tuning, None
        tuning.close()
        if tuned is None:  # the trials failed (logged): keep the first guess
            self._runtime = RuntimeInfo(self._runtime.name)
            return
        choice, forward = tuned
        if forward is not None:  # None: the first guess won and keeps running
            self._forward_fn, previous = forward, self._forward_fn
            previous.close()
        self._runtime = RuntimeInfo(choice.runtime, choice.ms_per_crop)
        logger.info("pose runtime: %s, %.1f ms per crop on this CPU (timed in the background)",
                    choice.runtime, choice.ms_per_crop)

    def _close(self) -> None:
        if self._tuning is not None:
            self._tuning.close()
        self._forward_fn.close()

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """``(B, 3, h, w)`` normalised RGB float32 -> ``(B, K, h/4, w/4)`` float32 heatmaps in one call."""
        return self._forward_fn(batch)
