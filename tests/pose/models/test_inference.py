"""Inference rewrites and runtimes compute the reference model's function (eval mode, float32)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from pose.estimator import TopDownEstimator
from pose.models.dynamic_conv import KernelAggregation
from pose.models.inference import (
    BiasedKernelAggregation,
    StackedKernelAggregation,
    fold_batchnorm,
    prepare_for_inference,
)
from pose.models.registry import create_model
from pose.runtime import OnnxForward, build_forward, resolve_runtime

RELATIVE_TOLERANCE = 1e-4


def _model_with_random_statistics(name: str = "edite_hrnet_tiny", seed: int = 0) -> nn.Module:
    """A registered model whose BatchNorms have non-trivial statistics and affine terms (so folding shows)."""
    torch.manual_seed(seed)
    model = create_model(name)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.normal_(0.0, 0.2)
            module.running_var.uniform_(0.5, 2.0)
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.normal_(module.bias, 0.0, 0.2)
        elif isinstance(module, nn.Conv2d):  # mmpose's N(0, 0.001) makes every output nearly zero
            module.reset_parameters()  # PyTorch's Kaiming-uniform: outputs of order 1 at any depth
    return model.eval()


def _relative_error(actual: torch.Tensor | np.ndarray, expected: torch.Tensor) -> float:
    actual = torch.as_tensor(actual)
    return float((actual - expected).abs().max() / expected.abs().max())


@pytest.fixture(scope="module")
def reference() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    model = _model_with_random_statistics()
    inputs = torch.randn(3, 3, *model.spec.input_size, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        expected = model(inputs)
    assert expected.abs().max() > 1e-3, "the reference output must not be ~0, or the comparison is empty"
    return model, inputs, expected


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
        assert _relative_error(prepared(inputs), expected) < RELATIVE_TOLERANCE


@pytest.mark.parametrize("name", ["dite_hrnet_18", "lite_hrnet_18", "edite_hrnet_l"])
def test_every_family_folds_to_the_same_function(name: str) -> None:
    model = _model_with_random_statistics(name)
    inputs = torch.randn(2, 3, 128, 96, generator=torch.Generator().manual_seed(3))
    with torch.inference_mode():
        expected = model(inputs)
        assert _relative_error(prepare_for_inference(model)(inputs), expected) < RELATIVE_TOLERANCE


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
        assert _relative_error(StackedKernelAggregation(aggregation)(x, attention), expected) < 1e-5


def test_runtime_names() -> None:
    cpu = torch.device("cpu")
    assert resolve_runtime("auto", cpu) == "onnx"
    assert resolve_runtime("eager", cpu) == "eager"
    with pytest.raises(ValueError, match="unknown runtime"):
        resolve_runtime("tensorrt", cpu)
    with pytest.raises(ValueError, match="CPU only"):
        resolve_runtime("onnx", torch.device("cuda"))


def test_onnx_runtime_equals_reference_for_any_batch(reference, tmp_path) -> None:
    model, inputs, expected = reference
    forward = OnnxForward(model, threads=1, cache=tmp_path, specialise=False)
    assert _relative_error(forward(inputs.numpy()), expected) < RELATIVE_TOLERANCE
    assert _relative_error(forward(inputs[:1].numpy()), expected[:1]) < RELATIVE_TOLERANCE
    cached = list(tmp_path.glob("*.onnx"))
    assert len(cached) == 1
    again = OnnxForward(model, threads=1, cache=tmp_path, specialise=False)  # loads the cached export
    assert _relative_error(again(inputs.numpy()), expected) < RELATIVE_TOLERANCE


@pytest.mark.parametrize("workers", [2, 5])
def test_onnx_crops_shared_over_workers_keep_their_order(reference, tmp_path, workers: int) -> None:
    model, inputs, expected = reference  # 3 crops: shares of 2 + 1 (2 workers), 1 + 1 + 1 (5 workers)
    forward = OnnxForward(model, threads=workers, cache=tmp_path, specialise=False)
    assert _relative_error(forward(inputs.numpy()), expected) < RELATIVE_TOLERANCE
    assert forward(np.zeros((0, 3, *model.spec.input_size), np.float32)).shape[0] == 0


def test_onnx_specialised_sessions_take_over_once_built(reference, tmp_path) -> None:
    model, inputs, expected = reference
    forward = OnnxForward(model, threads=1, cache=tmp_path)
    first = forward(inputs[:2].numpy())  # the generic session runs while the size-2 one is built
    specialised = forward._building[2].result(timeout=120)  # wait for the background build
    assert forward(inputs[:2].numpy()) is not None and forward._specialised[2] is specialised
    np.testing.assert_allclose(forward(inputs[:2].numpy()), first, rtol=1e-4, atol=1e-5)
    assert _relative_error(first, expected[:2]) < RELATIVE_TOLERANCE
    large = OnnxForward.SPECIALISED_UP_TO + 1
    forward(np.repeat(inputs[:1].numpy(), large, axis=0))
    assert large not in forward._building  # larger shares stay on the generic session


def test_torch_runtime_follows_the_estimator_contract(reference) -> None:
    model, inputs, expected = reference
    forward = build_forward(model, "torch", torch.device("cpu"), torch.float32)
    assert _relative_error(forward(inputs.numpy()), expected) < RELATIVE_TOLERANCE


def test_estimator_keypoints_agree_across_runtimes(reference, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDITE_POSE_CACHE", str(tmp_path))
    model, _, _ = reference
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (180, 240, 3), dtype=np.uint8)
    boxes = np.array([[10.0, 20.0, 90.0, 170.0], [120.0, 5.0, 230.0, 175.0]])
    results = {
        runtime: TopDownEstimator(model, device="cpu", runtime=runtime)(image, boxes)
        for runtime in ("eager", "torch", "onnx")
    }
    for runtime in ("torch", "onnx"):
        np.testing.assert_allclose(results[runtime].scores, results["eager"].scores, rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(results[runtime].keypoints, results["eager"].keypoints, atol=1e-3)


def test_onnx_prepare_builds_the_sessions_a_batch_will_use(reference, tmp_path) -> None:
    model, inputs, expected = reference
    forward = OnnxForward(model, threads=2, cache=tmp_path)
    forward.prepare(3)  # shares of 2 and 1 crops
    assert set(forward._specialised) == {1, 2}
    assert _relative_error(forward(inputs.numpy()), expected) < RELATIVE_TOLERANCE


def test_estimator_warm_up_leaves_results_unchanged(reference, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDITE_POSE_CACHE", str(tmp_path))
    model, _, _ = reference
    image = np.random.default_rng(3).integers(0, 256, (180, 240, 3), dtype=np.uint8)
    boxes = np.array([[10.0, 20.0, 90.0, 170.0]])
    estimator = TopDownEstimator(model, device="cpu", runtime="onnx")
    before = estimator(image, boxes)
    estimator.warm_up(2)
    after = estimator(image, boxes)
    np.testing.assert_allclose(after.keypoints, before.keypoints, atol=1e-3)
