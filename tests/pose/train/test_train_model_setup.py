"""The model to train predicts the dataset's keypoint set at the configured input size."""

from __future__ import annotations

import pytest
import torch

from pose.skeleton import COCO, CROWDPOSE, MPII
from pose.train.config import load_config
from pose.train.model_setup import build_model


@pytest.mark.parametrize(
    ("skeleton", "input_size", "heatmap", "sigma"),
    [
        (COCO, (384, 288), (96, 72), 3.0),
        (CROWDPOSE, (256, 192), (64, 48), 2.0),
        (MPII, (256, 256), (64, 64), 2.0),
    ],
    ids=["coco-384", "crowdpose", "mpii"],
)
def test_head_and_spec_follow_the_dataset(skeleton, input_size, heatmap, sigma):
    overrides = {"model.name": "edite_hrnet_tiny", "model.input_size": list(input_size)}
    config = load_config(None, {**overrides, "data.skeleton": skeleton.name})
    model = build_model(config)
    assert model.training
    assert model.spec.skeleton == skeleton
    assert (model.spec.input_size, model.spec.heatmap_size, model.spec.sigma) == (input_size, heatmap, sigma)
    with torch.no_grad():
        heatmaps = model.eval()(torch.zeros(1, 3, *input_size))
    assert heatmaps.shape == (1, skeleton.num_keypoints, *heatmap)
    head = model.keypoint_head.final_layer
    assert head.weight.std() < 0.01 and not head.bias.any()  # mmpose init: N(0, 0.001), zero bias
