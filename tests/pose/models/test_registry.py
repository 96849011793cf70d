"""The registry: every registered model builds, runs forward and backward, and carries its spec."""

from __future__ import annotations

import pytest
import torch

from pose.models import PoseModel, create_model, list_models

BASELINES = {"lite_hrnet_18", "lite_hrnet_30", "dite_hrnet_18", "dite_hrnet_30"}


def test_the_paper_models_and_baselines_are_registered() -> None:
    assert {"edite_hrnet_s", "edite_hrnet_l", "edite_hrnet_tiny"} | BASELINES <= set(list_models())


@pytest.mark.parametrize("name", list_models())
def test_model_maps_crops_to_heatmaps_and_trains(name: str) -> None:
    model = create_model(name)
    assert isinstance(model, PoseModel) and model.spec.name == name and not model.training
    assert {key.split(".")[0] for key in model.state_dict()} == {"backbone", "keypoint_head"}
    model.train()
    images = torch.randn(2, 3, 256, 192, generator=torch.Generator().manual_seed(0))
    heatmaps = model(images)
    assert heatmaps.shape == (2, model.spec.num_keypoints, *model.spec.heatmap_size) == (2, 17, 64, 48)
    assert torch.isfinite(heatmaps).all()
    heatmaps.square().mean().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_initialisation_follows_mmpose() -> None:
    """Convs ~ N(0, 0.001) with zero bias, BN weight 1 / bias 0; dynamic kernels keep Kaiming-uniform."""
    model = create_model("dite_hrnet_18")
    head = model.keypoint_head.final_layer
    assert 0.0005 < head.weight.std().item() < 0.0015 and not head.bias.any()
    fuse_conv = model.backbone.stage1[0].fuse_layers[0][1][0]
    assert 0.0005 < fuse_conv.weight.std().item() < 0.0015
    bn = model.backbone.stem.conv1.bn
    assert torch.equal(bn.weight, torch.ones_like(bn.weight)) and not bn.bias.any()
    kernels = model.backbone.stage0[0].layers[0].conv[0].conv[0].conv.aggregation.weight  # [4, 20, 1, 3, 3]
    bound = (6 / 9) ** 0.5
    assert kernels.abs().max().item() <= bound and kernels.std().item() > 0.3 * bound


def test_input_size_changes_the_spec_not_the_weights() -> None:
    model = create_model("lite_hrnet_18", input_size=(384, 288))
    assert model.spec.input_size == (384, 288) and model.spec.heatmap_size == (96, 72)
    assert model.spec.sigma == 3.0
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 384, 288)).shape == (1, 17, 96, 72)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown model 'dite_hrnet_99'.*dite_hrnet_18"):
        create_model("dite_hrnet_99")
