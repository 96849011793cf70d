"""The model registry: every pose model the project can build, by name.

Each family module exposes ``VARIANTS`` (name -> builder of a :class:`PoseModel` with its default
:class:`ModelSpec`); this module joins them explicitly. Nothing registers itself on import.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch

from pose.models import dite_hrnet, edite_hrnet, lite_hrnet
from pose.models.checkpoint import load_weights
from pose.models.layers import PoseModel

_BUILDERS: dict[str, Callable[[], PoseModel]] = {
    **edite_hrnet.VARIANTS,
    **dite_hrnet.VARIANTS,
    **lite_hrnet.VARIANTS,
}


def list_models() -> list[str]:
    """Names accepted by :func:`create_model`, sorted."""
    return sorted(_BUILDERS)


def create_model(
    name: str,
    weights: str | os.PathLike[str] | None = None,
    device: str | torch.device | None = None,
    input_size: tuple[int, int] | None = None,
) -> PoseModel:
    """Build a registered model, in eval mode (call ``.train()`` to train it).

    Args:
        name: one of :func:`list_models`.
        weights: a checkpoint to load (ours or an official mmpose ``.pth``); without it the weights
            are initialised as mmpose does for training from scratch.
        device: where to put the model (default: CPU).
        input_size: network input (height, width) if not the default 256x192; both multiples of 32.
            Only ``model.spec`` changes (heatmap size = input / 4, sigma); the weights are the same.

    Raises:
        ValueError: unknown name or invalid input size; :class:`pose.models.checkpoint.CheckpointError`
            (a ValueError) or FileNotFoundError for unusable weights.
    """
    builder = _BUILDERS.get(name)
    if builder is None:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(list_models())}")
    model = builder()
    if input_size is not None:
        model.spec = model.spec.at_input_size(*input_size)
    if weights is not None:
        load_weights(model, weights)
    if device is not None:
        model.to(device)
    return model.eval()
