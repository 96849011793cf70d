"""The model to train predicts the dataset's keypoint set at the configured input size."""

from __future__ import annotations

import pytest
import torch

from pose.models.checkpoint import save_checkpoint
from pose.models.registry import create_model
from pose.skeleton import COCO, CROWDPOSE, MPII
from pose.train.config import load_config
from pose.train.model_setup import build_model, epochs_before


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


def test_the_epochs_before_a_run_are_what_its_starting_weights_record(tmp_path):
    model = create_model("edite_hrnet_tiny")
    recorded = save_checkpoint(model, tmp_path / "recorded.pt", {"epoch": 2, "epochs_in_all": 40})
    unrecorded = save_checkpoint(model, tmp_path / "unrecorded.pt", {"epoch": 2})
    config = {"model.name": "edite_hrnet_tiny"}
    assert epochs_before(load_config(None, config)) == 0  # from scratch
    assert epochs_before(load_config(None, {**config, "model.weights": str(recorded)})) == 40
    assert epochs_before(load_config(None, {**config, "model.weights": str(unrecorded)})) is None  # unknown
