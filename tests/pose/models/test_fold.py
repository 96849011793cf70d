"""The export graph's folds (pose.models.fold) compute the eager model's function (eval mode, float32)."""

from __future__ import annotations

import pytest
import torch
from random_models import model_with_random_statistics, relative_error
from torch import nn

from pose.models.fold import (
    FoldedGhostModule,
    fold_cheap_bias_into_mix,
    fold_ghost_modules,
    prepare_for_export,
)
from pose.models.ghost import GhostModuleV2
from pose.models.inference import ChannelAffine, fold_batchnorm, prepare_for_inference
from pose.models.registry import list_models

TOLERANCE = 1e-4
"""Largest heatmap difference allowed, relative to the largest reference heatmap value (float32)."""


@pytest.mark.parametrize("name", list_models())
def test_export_graph_equals_the_eager_model(name: str) -> None:
    model = model_with_random_statistics(name)
    inputs = torch.randn(2, 3, 128, 96, generator=torch.Generator().manual_seed(4))
    with torch.inference_mode():
        expected = model(inputs)
        assert expected.abs().max() > 1e-3
        assert relative_error(prepare_for_export(model)(inputs), expected) < TOLERANCE


@pytest.mark.parametrize(("channels", "kernel", "stride", "dense"), [(8, 3, 1, False), (12, 5, 2, True)])
def test_folded_ghost_module_equals_the_ghost_module(
    channels: int, kernel: int, stride: int, dense: bool
) -> None:
    torch.manual_seed(channels)
    ghost = GhostModuleV2(channels, kernel, stride, dense)
    for module in ghost.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.normal_(0.0, 0.3)
            module.running_var.uniform_(0.5, 2.0)
            nn.init.normal_(module.bias, 0.0, 0.3)
    ghost.eval()
    x = torch.randn(3, channels, 13, 10)  # odd sizes: the gate's upsampling and the stride round up
    with torch.no_grad():
        expected = ghost(x)
        fold_batchnorm(ghost)
        folded = FoldedGhostModule(ghost)
        assert relative_error(folded(x), expected) < 1e-5
    assert not any(isinstance(module, nn.BatchNorm2d) for module in folded.modules())


def test_ghost_fold_needs_folded_batchnorms() -> None:
    with pytest.raises(ValueError, match="fold the BatchNorms first"):
        FoldedGhostModule(GhostModuleV2(8, 3).eval())


def test_edite_folds_reach_every_ghost_module_and_cheap_op() -> None:
    model = model_with_random_statistics("edite_hrnet_tiny")
    ghosts = sum(isinstance(module, GhostModuleV2) for module in model.modules())
    prepared = prepare_for_inference(model, rewrite_convs=False)
    assert fold_ghost_modules(prepared) == ghosts > 0
    assert not any(isinstance(module, GhostModuleV2) for module in prepared.modules())
    exported = prepare_for_export(model)
    cheap_ops = [module for module in exported.modules() if isinstance(module, ChannelAffine)]
    assert cheap_ops and all(module.bias is None for module in cheap_ops)
    assert fold_cheap_bias_into_mix(exported) == 0  # already folded: nothing left to move
