"""Contract of every registered pose model (parametrized over ``list_models()``).

A newly registered model is tested here the day it is added; it must also get a documented
parameter range in PARAMETER_RANGES. Baseline-specific checks (official keys, fingerprints,
checkpoint errors) live in test_official_baselines.py, EDite-specific ones in test_edite_hrnet.py.
"""

from __future__ import annotations

import pytest
import torch
from test_official_baselines import fill_deterministically

from pose.models import create_model, list_models, save_checkpoint
from pose.models.complexity import count_parameters

# Parameter counts (inclusive bounds). Lite/Dite: the official models, exactly (manifests).
# EDite-S/-L: within 10% of the paper's 1.3 M / 8.8 M (design R gives 1,315,197 / 8,891,997).
# edite_hrnet_tiny: a test model, kept below 0.1 M so that its tests stay fast.
PARAMETER_RANGES: dict[str, tuple[int, int]] = {
    "lite_hrnet_18": (1_130_769, 1_130_769),
    "lite_hrnet_30": (1_763_717, 1_763_717),
    "dite_hrnet_18": (1_186_933, 1_186_933),
    "dite_hrnet_30": (1_862_549, 1_862_549),
    "edite_hrnet_s": (1_170_000, 1_430_000),
    "edite_hrnet_l": (7_920_000, 9_680_000),
    "edite_hrnet_tiny": (10_000, 100_000),
}
# Registered but never reached by the forward pass: Dite's DCM builds a spatial mask for its last
# branch and never uses it (official code, kept so that official checkpoints load strictly).
UNUSED_PARAMETER_MARK = ".dcm.conv_mask."

MODELS = list_models()


def _images(batch: int, height: int = 256, width: int = 192, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, 3, height, width, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", MODELS)
def test_spec_matches_the_registry_and_the_coco_defaults(name):
    spec = create_model(name).spec
    assert spec.name == name
    assert (spec.input_size, spec.heatmap_size, spec.num_keypoints) == ((256, 192), (64, 48), 17)


@pytest.mark.parametrize("name", MODELS)
def test_training_step_gives_coco_heatmaps_and_gradients_for_every_used_parameter(name):
    model = create_model(name).train()
    heatmaps = model(_images(batch=2))
    assert heatmaps.shape == (2, 17, 64, 48)
    assert torch.isfinite(heatmaps).all()
    heatmaps.square().mean().backward()
    without_gradient = [key for key, parameter in model.named_parameters() if parameter.grad is None]
    assert all(UNUSED_PARAMETER_MARK in key for key in without_gradient), without_gradient
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize("name", MODELS)
def test_parameter_count_is_in_its_documented_range(name):
    assert name in PARAMETER_RANGES, f"document the parameter range of {name} in PARAMETER_RANGES"
    low, high = PARAMETER_RANGES[name]
    assert low <= count_parameters(create_model(name)) <= high


@pytest.mark.parametrize("name", MODELS)
def test_checkpoint_round_trip_gives_identical_outputs(name, tmp_path):
    original = create_model(name)
    fill_deterministically(original)  # every tensor differs from a fresh model's
    path = save_checkpoint(original, tmp_path / f"{name}.pth")
    restored = create_model(name, weights=path)
    images = _images(batch=1, height=128, width=96, seed=2)
    with torch.no_grad():
        expected, actual = original(images), restored(images)
    assert expected.abs().max() > 0
    assert torch.equal(expected, actual)
