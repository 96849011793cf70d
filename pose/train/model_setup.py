"""The model to train: a registered architecture with a head for the dataset's keypoint set."""

from __future__ import annotations

import dataclasses

from torch import nn

from pose.models.checkpoint import load_weights
from pose.models.layers import PoseModel
from pose.models.registry import create_model
from pose.skeleton import SKELETONS, Skeleton
from pose.train.config import TrainConfig

HEAD_INIT_STD = 0.001
"""mmpose initialises every conv, the heatmap head included, with N(0, 0.001) and zero bias."""


def build_model(config: TrainConfig) -> PoseModel:
    """``[model] name`` at ``[model] input_size``, predicting ``[data] skeleton``, in train mode.

    The registry builds COCO-17 models; for another keypoint set the final 1x1 heatmap conv is replaced
    (see :func:`with_skeleton`). ``[model] weights`` are loaded after that, so they must have been
    trained for the same keypoint set.
    """
    model = create_model(config.model.name, input_size=config.model.input_size)
    model = with_skeleton(model, SKELETONS[config.data.skeleton])
    if config.model.weights:
        load_weights(model, config.model.weights)
    return model.train()


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
