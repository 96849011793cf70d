"""Learning-rate schedule of the Dite-HRNet recipe: linear warm-up per iteration, step decay per epoch.

Same values as mmcv's ``StepLrUpdaterHook(by_epoch=True, warmup='linear')``: the regular lr of epoch ``e`` is
``lr * gamma ** (number of milestones <= e)`` and, during the first ``warmup_iters`` iterations, it is
multiplied by ``1 - (1 - i / warmup_iters) * (1 - warmup_ratio)``.
"""

from __future__ import annotations

import bisect

import torch

from pose.train.config import OptimConfig


def lr_factor(iteration: int, iters_per_epoch: int, optim: OptimConfig) -> float:
    """Multiplier of the base lr at 0-based ``iteration`` (epochs are 0-based: epoch = iteration // len)."""
    epoch = iteration // iters_per_epoch
    factor = optim.gamma ** bisect.bisect_right(sorted(optim.milestones), epoch)
    if iteration < optim.warmup_iters:
        factor *= 1.0 - (1.0 - iteration / optim.warmup_iters) * (1.0 - optim.warmup_ratio)
    return factor


def build_scheduler(
    optimizer: torch.optim.Optimizer, iters_per_epoch: int, optim: OptimConfig
) -> torch.optim.lr_scheduler.LambdaLR:
    """A scheduler stepped once per iteration (its ``last_epoch`` counts iterations)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda it: lr_factor(it, iters_per_epoch, optim))
