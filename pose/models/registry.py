"""The model registry: every pose model the project can build, by name.

Each family module exposes ``VARIANTS`` (name -> builder of a :class:`PoseModel` with its default
:class:`ModelSpec`); this module joins them explicitly. Nothing registers itself on import.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import torch
from torch import nn

from pose.models import dite_hrnet, edite_hrnet, lite_hrnet
from pose.models.checkpoint import CheckpointError, load_weights, read_checkpoint_meta
from pose.models.layers import PoseModel
from pose.skeleton import SKELETONS, Skeleton

HEAD_INIT_STD = 0.001
"""mmpose initialises every conv, the heatmap head included, with N(0, 0.001) and zero bias."""

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
            are initialised as mmpose does for training from scratch. A checkpoint that records another
            keypoint set (``meta['skeleton']``, e.g. ``"mpii"`` from ``main.py train``) gets a head for it.
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
        model = with_skeleton(model, _recorded_skeleton(weights, model.spec.skeleton))
        load_weights(model, weights)
    if device is not None:
        model.to(device)
    return model.eval()


def with_skeleton(model: PoseModel, skeleton: Skeleton) -> PoseModel:
    """``model`` predicting ``skeleton``: a new, freshly initialised ``keypoint_head.final_layer`` if the
    keypoint count differs, and ``model.spec.skeleton`` set either way.

    Raises:
        TypeError: the model has no ``keypoint_head.final_layer`` 1x1 convolution to replace.
    """
    if model.spec.skeleton == skeleton:
        return model
    final = getattr(getattr(model, "keypoint_head", None), "final_layer", None)
    if not isinstance(final, nn.Conv2d) or final.kernel_size != (1, 1):
        raise TypeError(f"model '{model.spec.name}' has no 1x1 'keypoint_head.final_layer' to resize")
    if final.out_channels != skeleton.num_keypoints:
        head = nn.Conv2d(final.in_channels, skeleton.num_keypoints, kernel_size=1)
        nn.init.normal_(head.weight, std=HEAD_INIT_STD)
        nn.init.zeros_(head.bias)
        model.keypoint_head.final_layer = head.to(final.weight.device, final.weight.dtype)
    model.spec = dataclasses.replace(model.spec, skeleton=skeleton)
    return model


def _recorded_skeleton(weights: str | os.PathLike[str], default: Skeleton) -> Skeleton:
    """The keypoint set a checkpoint records, or ``default`` (official files record none)."""
    name = read_checkpoint_meta(weights).get("skeleton", default.name)
    if name not in SKELETONS:
        raise CheckpointError(
            f"checkpoint '{weights}' predicts the keypoint set {name!r}, which this version does not know; "
            f"known sets: {', '.join(sorted(SKELETONS))}"
        )
    return SKELETONS[name]
