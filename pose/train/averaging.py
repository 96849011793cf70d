"""Weight averaging of one run's last epoch checkpoints (the "checkpoint averaging" of Izmailov et al.,
"Averaging Weights Leads to Wider Optima and Better Generalization", UAI 2018, without its cyclic lr).

The mean of a few epochs' weights sits nearer the middle of the region that the optimizer wanders in
than any one of them, which scores higher wherever the training noise is large (small batches, few
epochs). BatchNorm running statistics are averaged like the weights (not re-estimated on the training
data); integer buffers (``num_batches_tracked``) come from the last checkpoint.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

EPOCH_CHECKPOINT = re.compile(r"epoch_(\d+)\.pt")
"""The names of the epoch checkpoints the training engine writes (every ``[train] checkpoint_interval``
epochs: averaging "the last N" takes the last N written, which are N epochs apart only at interval 1)."""


def epoch_checkpoint_name(epoch: int) -> str:
    """Epoch ``epoch``'s checkpoint file name (``epoch_007.pt``), matched by :data:`EPOCH_CHECKPOINT`."""
    return f"epoch_{epoch:03d}.pt"


def last_epoch_checkpoints(run_dir: Path, count: int) -> list[Path]:
    """The ``count`` newest ``epoch_NNN.pt`` of ``run_dir``, oldest first.

    Raises:
        ValueError: ``count`` < 1, or fewer epoch checkpoints than ``count`` (the message says how many).
    """
    if count < 1:
        raise ValueError(f"cannot average {count} epochs: give 1 or more")
    epochs = sorted(
        (int(match.group(1)), path)
        for path in run_dir.glob("epoch_*.pt")
        if (match := EPOCH_CHECKPOINT.fullmatch(path.name))
    )
    if len(epochs) < count:
        raise ValueError(
            f"'{run_dir}' holds {len(epochs)} epoch checkpoints, fewer than the {count} to average"
        )
    return [path for _, path in epochs[-count:]]


def average_checkpoints(paths: Sequence[Path]) -> dict[str, Any]:
    """The element-wise mean of the checkpoints' floating-point tensors.

    Args:
        paths: checkpoints of one model (``{"state_dict", "meta"}`` as the engine writes them), oldest
            first; all must hold the same tensor names and shapes.

    Returns:
        ``{"state_dict": ..., "meta": ...}``: the mean weights and the last checkpoint's meta, less its
        validation ``metrics`` (they describe that epoch, not the mean), with ``averaged_epochs`` (the epoch
        of each checkpoint, from its meta) added.

    Raises:
        ValueError: no paths, or checkpoints of different models (the message names the first that differs).
    """
    if not paths:
        raise ValueError("no checkpoints to average")
    contents = [torch.load(path, map_location="cpu", weights_only=True) for path in paths]
    last = contents[-1]["state_dict"]
    for path, content in zip(paths, contents, strict=True):
        state = content["state_dict"]
        if state.keys() != last.keys() or any(state[k].shape != last[k].shape for k in last):
            raise ValueError(
                f"'{path}' holds another model than '{paths[-1]}': average one run's checkpoints"
            )
    averaged = {
        name: (
            torch.stack([content["state_dict"][name] for content in contents]).mean(dim=0)
            if tensor.is_floating_point() else tensor.clone()
        )
        for name, tensor in last.items()
    }
    meta = {key: value for key, value in contents[-1]["meta"].items() if key != "metrics"}
    meta["averaged_epochs"] = [content["meta"].get("epoch") for content in contents]
    return {"state_dict": averaged, "meta": meta}
