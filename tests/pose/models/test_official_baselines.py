"""Lite-HRNet-18/30 and Dite-HRNet-18/30 against the official models.

The manifests in tests/data/manifests were made by running the official repositories' own code:
every state-dict name and shape, the parameter and executed multiply-accumulate counts, and a
numeric fingerprint. The fingerprint fills every tensor of the official model with a deterministic,
RNG-free pattern and records the outputs of a deterministic input in float64; we apply the same fill
to ours and must reproduce those outputs (heatmaps and every stage), which pins down the forward,
including the official fuse step's in-place quirk and Dite's memory-order context pooling.
"""

from __future__ import annotations

import json
import math

import pytest
import torch
from support import REPO_ROOT
from torch.utils.flop_counter import FlopCounterMode

from pose.models import PoseModel, create_model

MANIFESTS = REPO_ROOT / "tests" / "data" / "manifests"
OFFICIAL_PARAMS = {
    "lite_hrnet_18": 1_130_769,
    "lite_hrnet_30": 1_763_717,
    "dite_hrnet_18": 1_186_933,
    "dite_hrnet_30": 1_862_549,
}
BASELINES = sorted(OFFICIAL_PARAMS)
# float64 reproductions agree to ~1e-15; the bound leaves room for other BLAS builds and is still
# far below the 0.09-0.16 shift that any misreading of the fuse step causes.
ATOL = 1e-9


def manifest(name: str) -> dict:
    return json.loads((MANIFESTS / f"{name}_coco_256x192.json").read_text())


def fill_deterministically(model: torch.nn.Module) -> None:
    """The manifests' fill: state-dict keys in sorted order, i = index, s = sin(0.731*arange(n) + 0.5*(i+1));
    running_var 1+0.5s^2, running_mean 0.1s, 1-D weights 1+0.2s, other 1-D 0.1s, >=2-D s/sqrt(fan_in)
    with fan_in = prod(shape[1:]) (prod(shape[2:]) for 5-D dynamic kernels); integer buffers untouched."""
    state = model.state_dict()
    for index, key in enumerate(sorted(state)):
        tensor = state[key]
        if not tensor.is_floating_point():
            continue
        s = torch.sin(0.731 * torch.arange(tensor.numel(), dtype=torch.float64) + 0.5 * (index + 1))
        if key.endswith("running_var"):
            value = 1 + 0.5 * s**2
        elif key.endswith("running_mean"):
            value = 0.1 * s
        elif tensor.dim() == 1:
            value = 1 + 0.2 * s if key.endswith(".weight") else 0.1 * s
        else:
            fan_in = math.prod(tensor.shape[2:] if tensor.dim() == 5 else tensor.shape[1:])
            value = s / math.sqrt(fan_in)
        tensor.copy_(value.view(tensor.shape))


def fingerprint_input() -> torch.Tensor:
    return torch.sin(0.013 * torch.arange(3 * 256 * 192, dtype=torch.float64)).view(1, 3, 256, 192)


def run_with_intermediates(model: PoseModel) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Heatmaps and the outputs named as in the manifests: ``stem[0]``, ``stage{s}[b]``, ``head_layer[b]``."""
    captured: dict[str, torch.Tensor] = {}

    def record(name: str):
        def hook(_module, _inputs, output) -> None:
            outputs = output if isinstance(output, list) else [output]
            for branch, tensor in enumerate(outputs):
                captured[f"{name}[{branch}]"] = tensor.detach().clone()

        return hook

    backbone = model.backbone
    names = ["stem", *(f"stage{s}" for s in range(backbone.num_stages)), "head_layer"]
    handles = [getattr(backbone, name).register_forward_hook(record(name)) for name in names]
    try:
        with torch.no_grad():
            heatmaps = model(fingerprint_input())
    finally:
        for handle in handles:
            handle.remove()
    return heatmaps, captured


def assert_samples_match(tensor: torch.Tensor, samples: dict[str, float], what: str) -> None:
    flat = tensor.flatten()
    for position, expected in samples.items():
        assert flat[int(position)].item() == pytest.approx(expected, abs=ATOL), f"{what} at {position}"


@pytest.mark.parametrize("name", BASELINES)
def test_state_dict_names_and_shapes_equal_the_official_checkpoint(name: str) -> None:
    ours = {key: list(value.shape) for key, value in create_model(name).state_dict().items()}
    official = manifest(name)["state_dict"]
    assert sorted(set(official) - set(ours)) == [], "official keys we lack"
    assert sorted(set(ours) - set(official)) == [], "keys the official checkpoint lacks"
    assert {key: shape for key, shape in ours.items() if shape != official[key]} == {}
    assert len(ours) == manifest(name)["num_state_dict_entries"]


@pytest.mark.parametrize("name", BASELINES)
def test_parameter_count_is_the_official_one(name: str) -> None:
    count = sum(parameter.numel() for parameter in create_model(name).parameters())
    assert count == OFFICIAL_PARAMS[name] == manifest(name)["num_params"]


@pytest.mark.parametrize("name", BASELINES)
def test_executed_multiply_accumulates_equal_the_official_count(name: str) -> None:
    model = create_model(name)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, 256, 192))
    assert counter.get_total_flops() // 2 == manifest(name)["flops"]["macs_conv_matmul"]


@pytest.mark.parametrize("name", BASELINES)
def test_forward_reproduces_the_official_fingerprint(name: str) -> None:
    expected = manifest(name)["numeric_fingerprint"]
    model = create_model(name).double()
    fill_deterministically(model)
    heatmaps, intermediates = run_with_intermediates(model)

    assert list(heatmaps.shape) == expected["heatmap_shape"]
    stats = expected["heatmap"]
    assert heatmaps.sum().item() == pytest.approx(stats["sum"], abs=ATOL * heatmaps.numel())
    assert heatmaps.abs().sum().item() == pytest.approx(stats["abs_sum"], abs=ATOL * heatmaps.numel())
    assert heatmaps.max().item() == pytest.approx(stats["max"], abs=ATOL)
    assert heatmaps.min().item() == pytest.approx(stats["min"], abs=ATOL)
    assert heatmaps.mean().item() == pytest.approx(stats["mean"], abs=ATOL)
    assert heatmaps.std().item() == pytest.approx(stats["std"], abs=ATOL)
    assert heatmaps.flatten(2).argmax(dim=2).flatten().tolist() == expected["heatmap_argmax_per_joint"]
    assert_samples_match(heatmaps, expected["heatmap_samples"], "heatmap")

    assert sorted(intermediates) == sorted(expected["intermediates"])
    for where, record in expected["intermediates"].items():
        ours = intermediates[where]
        assert list(ours.shape) == record["shape"], where
        assert ours.sum().item() == pytest.approx(record["sum"], abs=ATOL * ours.numel()), where
        assert ours.abs().sum().item() == pytest.approx(record["abs_sum"], abs=ATOL * ours.numel()), where
        assert ours.max().item() == pytest.approx(record["max"], abs=ATOL), where
        assert ours.min().item() == pytest.approx(record["min"], abs=ATOL), where
        assert_samples_match(ours, record["samples"], where)


@pytest.mark.parametrize("name", ["lite_hrnet_18", "dite_hrnet_18"])
def test_batched_forward_equals_per_sample_forward(name: str) -> None:
    """Dite's dynamic kernels fold the batch into conv groups: each sample must still get its own kernel."""
    model = create_model(name).double()
    fill_deterministically(model)
    images = torch.cat([fingerprint_input(), -fingerprint_input().flip(-1)])
    with torch.no_grad():
        batched = model(images)
        one_by_one = torch.cat([model(image[None]) for image in images])
    torch.testing.assert_close(batched, one_by_one, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["lite_hrnet_18", "dite_hrnet_18"])
def test_training_step_reaches_every_parameter_the_official_forward_uses(name: str) -> None:
    model = create_model(name).train()
    heatmaps = model(torch.randn(2, 3, 128, 96, generator=torch.Generator().manual_seed(0)))
    assert heatmaps.shape == (2, 17, 32, 24)
    heatmaps.square().mean().backward()
    without_gradient = sorted(key for key, p in model.named_parameters() if p.grad is None)
    assert without_gradient == sorted(manifest(name)["parameters_unused_in_forward"])
