"""Model complexity: parameter count, executed multiply-accumulates and CPU latency.

**MACs.** :func:`count_macs` runs one forward pass under ``torch.utils.flop_counter.FlopCounterMode`` and
halves its FLOPs. The mode sees every aten ``convolution``, ``mm``, ``bmm``, ``addmm`` and ``baddbmm``
that actually executes (2 FLOPs per multiply-accumulate), whether it comes from an ``nn.Conv2d`` or a
functional call. That is how fvcore counts, which the issue names: fvcore traces the executed ops and
counts one "flop" per multiply-add, so Dite-HRNet's dynamic kernels (functional ``F.conv2d``), its
context-pooling matmuls and the fuse layers that the official code runs twice per forward all count,
twice where they run twice. fvcore's conv, matmul and bmm entries equal this count exactly (Dite-18:
0.2466 G); its default total also adds about one flop per element for BN, upsampling and adaptive
pooling (+10 % on Dite-18), which is left out here, as in ../shared/manifests. FlopCounterMode was
chosen because it is part of torch (no JIT tracing, no unsupported-op warnings) and because the
official figures in the manifests (``gflops``) were measured with exactly this counter. Module-hook
tools such as the Dite repository's torchstat count each module once and skip functional ops, so their
totals (and the paper's, which also truncates) are lower.

**Latency.** :func:`measure_latency` times whole forward passes under ``torch.inference_mode`` with
``time.perf_counter`` after warm-up runs. It reports order statistics, never a mean alone.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

FLOPS_PER_MAC = 2


def count_parameters(model: nn.Module) -> int:
    """Number of parameter elements (trainable or not); buffers such as BN statistics are excluded."""
    return sum(parameter.numel() for parameter in model.parameters())


def _dummy_input(model: nn.Module, input_size: tuple[int, int], batch: int) -> torch.Tensor:
    """Zero-mean random image batch ``(batch, 3, H, W)`` on the model's device and dtype."""
    reference = next(model.parameters())
    generator = torch.Generator().manual_seed(0)
    image = torch.randn(batch, 3, *input_size, generator=generator)
    return image.to(device=reference.device, dtype=reference.dtype)


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block and restore its previous mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def count_macs(model: nn.Module, input_size: tuple[int, int] = (256, 192)) -> int:
    """Multiply-accumulates executed by one eval-mode forward of a ``1 x 3 x H x W`` input.

    Args:
        model: any module mapping ``(B, 3, H, W)`` images to an output.
        input_size: ``(height, width)`` in pixels.

    Returns:
        Conv, linear and (batched) matmul MACs, i.e. ``FlopCounterMode`` FLOPs / 2 (see module docstring).
    """
    counter = FlopCounterMode(display=False)
    with _eval_mode(model), torch.inference_mode(), counter:
        model(_dummy_input(model, input_size, batch=1))
    return counter.get_total_flops() // FLOPS_PER_MAC


@dataclass(frozen=True)
class LatencyStats:
    """Wall-clock time of one forward pass, in milliseconds, over ``repeats`` timed runs."""

    median_ms: float
    p90_ms: float
    min_ms: float
    max_ms: float
    repeats: int
    batch: int
    threads: int
    device: str


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[int]:
    """Use ``threads`` intra-op CPU threads inside the block (``None``: leave torch's setting)."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)


def measure_latency(
    model: nn.Module,
    input_size: tuple[int, int] = (256, 192),
    batch: int = 1,
    warmup: int = 10,
    repeats: int = 20,
    threads: int | None = None,
) -> LatencyStats:
    """Time eval-mode forward passes of a ``batch x 3 x H x W`` input on the model's device.

    Args:
        model: the network; it stays on its device and dtype.
        input_size: ``(height, width)`` in pixels.
        batch: images per forward pass.
        warmup: untimed runs first (allocator, oneDNN / cuDNN kernel selection).
        repeats: timed runs; must be at least 1.
        threads: intra-op CPU threads for the measurement (``None``: torch's current setting).

    Returns:
        Median, 90th percentile, min and max in milliseconds per forward pass.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    images = _dummy_input(model, input_size, batch)
    device = images.device
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times_ms: list[float] = []
    with _torch_threads(threads) as used_threads, _eval_mode(model), torch.inference_mode():
        for _ in range(warmup):
            model(images)
        synchronize()
        for _ in range(repeats):
            start = time.perf_counter()
            model(images)
            synchronize()
            times_ms.append((time.perf_counter() - start) * 1e3)
    times_ms.sort()
    p90_index = min(len(times_ms) - 1, round(0.9 * (len(times_ms) - 1)))
    return LatencyStats(
        median_ms=statistics.median(times_ms),
        p90_ms=times_ms[p90_index],
        min_ms=times_ms[0],
        max_ms=times_ms[-1],
        repeats=repeats,
        batch=batch,
        threads=used_threads,
        device=str(device),
    )
