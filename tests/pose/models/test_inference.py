"""Inference rewrites (pose.models.inference) compute the reference model's function (eval mode, float32)."""

from __future__ import annotations

import pytest
import torch
from random_models import RELATIVE_TOLERANCE, model_with_random_statistics, reference_outputs, relative_error
from torch import nn

from pose.models.dynamic_conv import KernelAggregation
from pose.models.inference import (
    BiasedKernelAggregation,
    StackedKernelAggregation,
    fold_batchnorm,
    prepare_for_inference,
)
from pose.models.registry import create_model


@pytest.fixture(scope="module")
def reference() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    return reference_outputs()


@pytest.mark.parametrize("options", [
    {"fold_bn": True, "rewrite_convs": False},
    {"fold_bn": False, "rewrite_convs": True},
    {"fold_bn": True, "rewrite_convs": True},
    {"fold_bn": True, "rewrite_convs": True, "channels_last": True},
])
def test_prepared_model_equals_reference(reference, options) -> None:
    model, inputs, expected = reference
    prepared = prepare_for_inference(model, **options)
    if options.get("channels_last"):
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        assert relative_error(prepared(inputs), expected) < RELATIVE_TOLERANCE


@pytest.mark.parametrize("name", ["dite_hrnet_18", "lite_hrnet_18", "edite_hrnet_l"])
def test_every_family_folds_to_the_same_function(name: str) -> None:
    model = model_with_random_statistics(name)
    inputs = torch.randn(2, 3, 128, 96, generator=torch.Generator().manual_seed(3))
    with torch.inference_mode():
        expected = model(inputs)
        assert relative_error(prepare_for_inference(model)(inputs), expected) < RELATIVE_TOLERANCE


def test_prepare_leaves_the_original_untouched_and_removes_batchnorms(reference) -> None:
    model, _, _ = reference
    before = {key: value.clone() for key, value in model.state_dict().items()}
    prepared = prepare_for_inference(model)
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())
    count = sum(isinstance(module, nn.BatchNorm2d) for module in model.modules())
    left = sum(isinstance(module, nn.BatchNorm2d) for module in prepared.modules())
    assert left < count / 3  # only the BNs after a product (GCM, Enhanced ConvBN) stay
    assert any(isinstance(module, BiasedKernelAggregation) for module in prepared.modules())


def test_folding_needs_eval_mode() -> None:
    with pytest.raises(ValueError, match="eval"):
        fold_batchnorm(create_model("edite_hrnet_tiny").train())


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("batch", [1, 3])
def test_stacked_kernel_aggregation_equals_the_per_sample_kernel(groups: int, batch: int) -> None:
    torch.manual_seed(groups + batch)
    aggregation = KernelAggregation(8, 4 * groups, 3, stride=2, groups=groups, num_kernels=4)
    x, attention = torch.randn(batch, 8, 10, 12), torch.rand(batch, 4)
    with torch.no_grad():
        expected = aggregation(x, attention)
        assert relative_error(StackedKernelAggregation(aggregation)(x, attention), expected) < 1e-5
