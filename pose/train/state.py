"""The resumable training state (``last.pt``): weights, optimizer, scheduler, AMP scaler, RNGs, progress.

Written atomically and read back with ``torch.load(..., weights_only=True)``: only tensors and plain
Python data go in (the numpy RNG state is stored as a tensor, not as a pickled array).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pose.models.checkpoint import save_atomically

FORMAT = "edite-pose-train-state/1"


@dataclass
class Progress:
    """Where training stands.

    Attributes:
        epoch: the epoch in progress (0-based).
        batch: batches of ``epoch`` already trained.
        iteration: optimizer steps taken in total.
        best_metric: best validation metric so far (higher is better), or None before any validation.
        best_epoch: epoch count at which ``best_metric`` was measured (0 if none).
    """

    epoch: int = 0
    batch: int = 0
    iteration: int = 0
    best_metric: float | None = None
    best_epoch: int = 0


def capture_rng_states() -> dict[str, Any]:
    """torch (CPU and every CUDA device), numpy and Python ``random`` states as tensors and plain data."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": position, "has_gauss": has_gauss, "cached": cached,
        },
        "python": random.getstate(),
    }


def restore_rng_states(states: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_states` (CUDA states only where CUDA is available)."""
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    numpy_state = states["numpy"]
    np.random.set_state((
        numpy_state["kind"], numpy_state["keys"].numpy().astype(np.uint32),
        numpy_state["position"], numpy_state["has_gauss"], numpy_state["cached"],
    ))
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))


def save_state(
    path: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler,
    progress: Progress,
    config: dict[str, Any],
) -> Path:
    """Write the full training state to ``path`` atomically (``path.partial`` then rename)."""
    content = {
        "format": FORMAT,
        "model_name": model.spec.name,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "progress": vars(progress).copy(),
        "rng": capture_rng_states(),
        "config": config,
    }
    return save_atomically(content, path)


def load_state(
    path: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler,
) -> tuple[Progress, dict[str, Any]]:
    """Restore everything :func:`save_state` wrote; return the progress and the stored config dict.

    Raises:
        FileNotFoundError: no state at ``path``.
        ValueError: the file is not a training state, or is for another model.
    """
    if not path.is_file():
        raise FileNotFoundError(f"cannot resume: no training state '{path}'; start without --resume")
    content = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise ValueError(f"'{path}' is not a training state written by this trainer ({FORMAT})")
    if content["model_name"] != model.spec.name:
        raise ValueError(
            f"'{path}' trains model '{content['model_name']}', the config asks for '{model.spec.name}'"
        )
    model.load_state_dict(content["model"])
    optimizer.load_state_dict(content["optimizer"])
    scheduler.load_state_dict(content["scheduler"])
    scaler.load_state_dict(content["scaler"])
    restore_rng_states(content["rng"])
    return Progress(**content["progress"]), content["config"]
