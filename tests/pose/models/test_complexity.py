"""Complexity counters: parameters, executed MACs (FlopCounterMode / 2) and latency statistics."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from support import REPO_ROOT
from torch import nn

from pose.models import create_model
from pose.models.complexity import LatencyStats, count_macs, count_parameters, measure_latency

MANIFESTS = REPO_ROOT / "tests" / "data" / "manifests"


class _ConvTwiceThenLinear(nn.Module):
    """A conv whose module runs twice (like the official fuse step), a functional conv, BN and a linear."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1, bias=False)
        self.kernel = nn.Parameter(torch.randn(4, 3, 1, 1))
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 8 * 6, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x) + self.conv(x)
        x = F.relu(self.bn(F.conv2d(x, self.kernel)))
        return self.fc(x.flatten(1))


def test_count_parameters_counts_parameters_not_buffers():
    model = _ConvTwiceThenLinear()
    expected = 3 * 3 * 3 * 3 + 4 * 3 + 2 * 4 + (4 * 8 * 6 * 10 + 10)
    assert count_parameters(model) == expected


def test_count_macs_counts_every_executed_conv_and_matmul_but_not_elementwise_ops():
    pixels = 8 * 6
    conv_macs = pixels * 3 * 3 * 3 * 3
    expected = 2 * conv_macs + pixels * 4 * 3 + 4 * pixels * 10
    assert count_macs(_ConvTwiceThenLinear(), input_size=(8, 6)) == expected


def test_count_macs_scales_with_the_input_and_restores_the_training_mode():
    model = nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.BatchNorm2d(5)).train()
    small, large = count_macs(model, (8, 6)), count_macs(model, (16, 12))
    assert large == 4 * small == 4 * 8 * 6 * 5 * 27
    assert model.training


@pytest.mark.parametrize(("name", "official_gmacs"), [("dite_hrnet_18", 0.2466), ("dite_hrnet_30", 0.3968)])
def test_dite_hrnet_macs_match_the_official_code_within_2_percent(name, official_gmacs):
    """The official figures were measured with the same counter on the official code (manifests)."""
    manifest = json.loads((MANIFESTS / f"{name}_coco_256x192.json").read_text())
    assert manifest["gflops"] == pytest.approx(official_gmacs, abs=5e-5)
    macs = count_macs(create_model(name), (256, 192))
    assert macs / 1e9 == pytest.approx(manifest["gflops"], rel=0.02)
    assert macs == manifest["flops"]["macs_conv_matmul"]


def test_measure_latency_reports_order_statistics_and_restores_threads():
    threads_before = torch.get_num_threads()
    model = nn.Conv2d(3, 4, 3, padding=1)
    stats = measure_latency(model, input_size=(32, 24), batch=2, warmup=1, repeats=5, threads=1)
    assert isinstance(stats, LatencyStats)
    assert 0 < stats.min_ms <= stats.median_ms <= stats.p90_ms <= stats.max_ms
    assert (stats.repeats, stats.batch, stats.threads, stats.device) == (5, 2, 1, "cpu")
    assert torch.get_num_threads() == threads_before


def test_measure_latency_needs_at_least_one_timed_run():
    with pytest.raises(ValueError, match="repeats must be at least 1"):
        measure_latency(nn.Conv2d(3, 4, 1), input_size=(8, 8), repeats=0)
