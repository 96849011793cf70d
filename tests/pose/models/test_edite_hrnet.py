"""EDite-HRNet: the Enhanced ConvBN, the EDMC block, design-R counts and the tiny variant's golden output.

Regenerate the golden file (only after an intended change of the tiny variant's function):
``EDITE_REGENERATE_GOLDEN=1 python -m pytest tests/pose/models/test_edite_hrnet.py -k golden``.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from support import REPO_ROOT
from test_official_baselines import fill_deterministically
from torch import nn

from pose.models import create_model
from pose.models.complexity import count_macs, count_parameters
from pose.models.dite_hrnet import DynamicMultiScaleContextBlock
from pose.models.edite_hrnet import EnhancedMultiScaleBlock, InterleavedMix, enhanced_split_conv
from pose.models.ghost import EnhancedConvBN, PairGroupedConv2d

GOLDEN = REPO_ROOT / "tests" / "data" / "edite_hrnet_tiny_golden.npz"
GOLDEN_INPUT_SIZE = (128, 96)


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randomise_batchnorm(module: nn.Module, seed: int = 0) -> None:
    """Non-trivial BN statistics and affine terms, so that eval-mode BN is not the identity."""
    generator = _generator(seed)
    for bn in module.modules():
        if isinstance(bn, nn.BatchNorm2d):
            n = bn.num_features
            bn.running_mean.copy_(0.1 * torch.randn(n, generator=generator))
            bn.running_var.copy_(0.5 + torch.rand(n, generator=generator))
            bn.weight.data.copy_(1 + 0.2 * torch.randn(n, generator=generator))
            bn.bias.data.copy_(0.1 * torch.randn(n, generator=generator))


# --- Enhanced ConvBN -----------------------------------------------------------------------------


@pytest.mark.parametrize(("stride", "size", "expected"), [(1, (9, 7), (9, 7)), (2, (9, 7), (5, 4))])
def test_enhanced_convbn_keeps_channels_and_applies_the_stride(stride, size, expected):
    block = EnhancedConvBN(6, kernel=5, stride=stride).eval()
    out = block(torch.randn(2, 6, *size, generator=_generator()))
    assert out.shape == (2, 6, *expected)


def test_enhanced_convbn_keys_are_ghostnetv2_names_under_the_replaced_conv():
    keys = {key.rsplit(".", 1)[0] for key in EnhancedConvBN(8, kernel=3).state_dict()}
    assert keys == {
        "conv.primary_conv.0",
        "conv.primary_conv.1",
        "conv.cheap_operation.0",
        "conv.cheap_operation.1",
        *(f"conv.short_conv.{index}" for index in range(6)),
        "bn",
    }


@pytest.mark.parametrize(("dense", "projection_shape"), [(False, (16, 1, 7, 7)), (True, (16, 16, 7, 7))])
def test_only_the_dfc_projection_depends_on_the_variant(dense, projection_shape):
    state = EnhancedConvBN(16, kernel=7, dense_projection=dense).state_dict()
    assert tuple(state["conv.short_conv.0.weight"].shape) == projection_shape
    assert tuple(state["conv.primary_conv.0.weight"].shape) == (8, 2, 7, 7)  # groups c/2
    assert tuple(state["conv.cheap_operation.0.weight"].shape) == (8, 1, 3, 3)
    assert tuple(state["conv.short_conv.2.weight"].shape) == (16, 1, 1, 5)
    assert tuple(state["conv.short_conv.4.weight"].shape) == (16, 1, 5, 1)


def test_dfc_attention_gates_the_ghost_features():
    """Output = BN(concat[primary, cheap] * sigmoid(DFC)): an open gate passes the ghost features,
    a closed one blocks them."""
    block = EnhancedConvBN(8, kernel=3).eval()
    _randomise_batchnorm(block)
    x = torch.randn(1, 8, 12, 10, generator=_generator(1))
    ghost = block.conv
    with torch.no_grad():
        intrinsic = ghost.primary_conv(x)
        features = torch.cat([intrinsic, ghost.cheap_operation(intrinsic)], dim=1)
        last_bn = ghost.short_conv[5]
        last_bn.weight.zero_()
        last_bn.bias.fill_(30.0)
        torch.testing.assert_close(ghost(x), features)
        last_bn.bias.fill_(-30.0)
        torch.testing.assert_close(ghost(x), torch.zeros_like(features))


def test_ghost_module_needs_an_even_channel_count():
    with pytest.raises(ValueError, match="even channel count, got 5"):
        EnhancedConvBN(5, kernel=3)


# --- EDMC block ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("stride", "bias"), [(1, False), (2, False), (1, True)])
def test_pair_grouped_conv_is_the_grouped_conv_in_value_and_gradient(stride, bias):
    torch.manual_seed(0)
    pair = PairGroupedConv2d(6, (3, 5), stride, (1, 2))
    grouped = nn.Conv2d(12, 6, (3, 5), stride, (1, 2), groups=6, bias=bias)
    grouped.weight.data.copy_(pair.weight)
    if bias:  # as after a BN fold
        pair.bias = nn.Parameter(torch.randn(6))
        grouped.bias.data.copy_(pair.bias)
    assert pair.state_dict().keys() == grouped.state_dict().keys()
    x = torch.randn(2, 12, 9, 7)
    out, expected = pair(x), grouped(x)
    torch.testing.assert_close(out, expected)
    out.square().sum().backward()
    expected.square().sum().backward()
    torch.testing.assert_close(pair.weight.grad, grouped.weight.grad)


def test_interleaved_mix_is_a_sum_of_three_depthwise_convs():
    """ARCHITECTURE.md 5.4: weight[j, t] filters channel j of input t, and output j sees only channel j."""
    mix = InterleavedMix(5)
    nn.init.normal_(mix.weight)
    parts = [torch.randn(2, 5, 6, 4, generator=_generator(seed)) for seed in range(3)]
    depthwise = [F.conv2d(x, mix.weight[:, t : t + 1], padding=1, groups=5) for t, x in enumerate(parts)]
    summed = depthwise[0] + depthwise[1] + depthwise[2]
    torch.testing.assert_close(mix(parts), summed)

    moved = [parts[0], parts[1].clone(), parts[2]]
    moved[1][:, 3] += 1.0
    changed = (mix(moved) - mix(parts)).abs().amax(dim=(0, 2, 3)) > 0
    assert changed.tolist() == [False, False, False, True, False]


def _edmc_block(dense: bool) -> EnhancedMultiScaleBlock:
    block = EnhancedMultiScaleBlock((8, 16), enhanced_split_conv(dense), dense=dense).eval()
    generator = _generator(4)
    for parameter in block.parameters():
        nn.init.normal_(parameter, std=0.3, generator=generator)
    _randomise_batchnorm(block)
    return block


def _post_relu_branches() -> list[torch.Tensor]:
    """Block inputs as the network feeds them: non-negative (after the fuse ReLU)."""
    return [torch.rand(2, 8, 8, 6, generator=_generator(2)), torch.rand(2, 16, 4, 3, generator=_generator(3))]


@pytest.mark.parametrize("dense", [False, True])
def test_edmc_follows_equations_2_to_6(dense):
    """Odd output channels are Dite's complex path (GCM output), even ones ReLU(cheap(Y1) + mix(A, B, C))
    with A, B, C the DCM, DSC and GCM outputs."""
    block = _edmc_block(dense)
    x = _post_relu_branches()
    captured: dict[str, object] = {}

    def record(name: str, module: nn.Module):
        def hook(_module, _inputs, output) -> None:
            captured[name] = output

        return module.register_forward_hook(hook)

    hooks = [record("A", block.dcm)]
    hooks += [record(f"B{b}", conv) for b, conv in enumerate(block.conv)]
    hooks += [record(f"C{b}", gcm) for b, gcm in enumerate(block.gcm)]
    with torch.no_grad():
        out = block(x)
        for hook in hooks:
            hook.remove()
        dite = DynamicMultiScaleContextBlock.forward(block, x)
        for b, branch in enumerate(x):
            simple = branch.chunk(2, dim=1)[0]
            a, b_out, c_out = captured["A"][b], captured[f"B{b}"], captured[f"C{b}"]
            expected_simple = F.relu(block.cheap[b](simple) + block.mix[b]((a, b_out, c_out)))
            assert out[b].shape == branch.shape
            torch.testing.assert_close(out[b][:, 1::2], c_out)
            torch.testing.assert_close(out[b][:, 1::2], dite[b][:, 1::2])
            torch.testing.assert_close(out[b][:, 0::2], expected_simple)


def test_edmc_reduces_to_dite_dmc_without_mix_and_with_an_identity_cheap_op():
    block = _edmc_block(dense=False)
    with torch.no_grad():
        for mix in block.mix:
            mix[0].weight.zero_()
        for cheap in block.cheap:
            cheap[0].weight.fill_(1.0)
            cheap[1].reset_parameters()
            cheap[1].reset_running_stats()
        for mix in block.mix:
            mix[1].reset_parameters()
            mix[1].reset_running_stats()
        x = _post_relu_branches()
        for ours, dite in zip(block(x), DynamicMultiScaleContextBlock.forward(block, x), strict=True):
            torch.testing.assert_close(ours, dite)


# --- Whole models --------------------------------------------------------------------------------

_REPLACED_SPLIT_CONV = re.compile(r"(layers\.\d+\.conv\.\d+\.conv\.\d+|stem\.branch[12]\.0)\.conv\.")
_EDITE_ONLY = re.compile(r"\.(mix|cheap)\.\d+\.|\.conv\.(primary_conv|cheap_operation|short_conv)\.")


def _shapes(name: str) -> dict[str, tuple[int, ...]]:
    return {key: tuple(value.shape) for key, value in create_model(name).state_dict().items()}


def test_edite_keeps_every_dite18_key_outside_the_new_blocks():
    """So that a Dite-HRNet-18 checkpoint warm-starts everything but the new blocks."""
    dite, edite_s = _shapes("dite_hrnet_18"), _shapes("edite_hrnet_s")
    kept = {key: shape for key, shape in dite.items() if not _REPLACED_SPLIT_CONV.search(key)}
    assert {key: edite_s.get(key) for key in kept} == kept
    added = set(edite_s) - set(kept)
    assert added and all(_EDITE_ONLY.search(key) for key in added)


def test_s_and_l_differ_only_in_the_mix_and_dfc_projection_convs():
    small, large = _shapes("edite_hrnet_s"), _shapes("edite_hrnet_l")
    assert list(small) == list(large)
    different = {key for key in small if small[key] != large[key]}
    assert different
    assert all(re.search(r"\.mix\.\d+\.0\.weight$|\.short_conv\.0\.weight$", key) for key in different)


@pytest.mark.parametrize(
    ("name", "design_r", "paper_millions"),
    [("edite_hrnet_s", 1_315_197, 1.3), ("edite_hrnet_l", 8_891_997, 8.8)],
)
def test_parameter_count_is_design_r_and_within_10_percent_of_the_paper(name, design_r, paper_millions):
    count = count_parameters(create_model(name))
    assert count == design_r
    assert abs(count / 1e6 - paper_millions) <= 0.1 * paper_millions


@pytest.mark.parametrize(
    ("name", "input_size", "expected_gmacs"),
    [
        ("edite_hrnet_s", (256, 192), 0.31),
        ("edite_hrnet_l", (256, 192), 1.99),
        ("edite_hrnet_l", (384, 288), 4.48),
    ],
)
def test_executed_gmacs_with_the_fuse_step_match_the_verified_design(name, input_size, expected_gmacs):
    gmacs = count_macs(create_model(name), input_size) / 1e9
    assert gmacs == pytest.approx(expected_gmacs, rel=0.10)


def _golden_input() -> np.ndarray:
    """(1, 3, 128, 96) float32 ``sin(0.013 * i)``, the manifests' fingerprint input at a smaller size."""
    height, width = GOLDEN_INPUT_SIZE
    return np.sin(0.013 * np.arange(3 * height * width)).reshape(1, 3, height, width).astype(np.float32)


def _tiny_heatmaps(image: np.ndarray) -> np.ndarray:
    """The tiny variant with the manifests' RNG-free weight fill, in float64 (BLAS builds agree to ~1e-12)."""
    model = create_model("edite_hrnet_tiny").double()
    fill_deterministically(model)
    with torch.no_grad():
        return model(torch.from_numpy(image).double()).numpy()


def test_tiny_variant_reproduces_its_golden_heatmaps():
    if os.environ.get("EDITE_REGENERATE_GOLDEN"):
        image = _golden_input()
        np.savez_compressed(GOLDEN, image=image, heatmaps=_tiny_heatmaps(image).astype(np.float32))
    golden = np.load(GOLDEN)
    heatmaps = _tiny_heatmaps(golden["image"])
    assert heatmaps.shape == golden["heatmaps"].shape == (1, 17, 32, 24)
    assert np.abs(golden["heatmaps"]).max() > 0.1, "golden heatmaps should not be trivially small"
    np.testing.assert_allclose(heatmaps, golden["heatmaps"], rtol=1e-5, atol=1e-6)
