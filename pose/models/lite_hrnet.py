"""Lite-HRNet-18 / -30 (Yu et al., CVPR 2021), exactly as the official code and COCO configs define them.

Reference: ``HRNet/Lite-HRNet`` @ 7b9049d, ``models/backbones/litehrnet.py`` (the 'LITE' module type,
which both COCO configs use). State-dict keys and shapes equal the official checkpoints of the
authors and of the mmpose model zoo (``tests/data/manifests/lite_hrnet_*.json``); the forward
reproduces the official numbers, including the fuse step (see
:class:`pose.models.hrnet_common.MultiResolutionModule`; here the cross-resolution paths read the
sum *before* its ReLU).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pose.models.hrnet_common import HRNetBackbone
from pose.models.layers import ConvModule, HeatmapHead, PoseModel, concat_shuffle
from pose.models.spec import ModelSpec, paper_table1

SPATIAL_WEIGHTING_RATIO = 4


class SpatialWeighting(nn.Module):
    """SE-style gate: global pool -> 1x1 + ReLU -> 1x1 + sigmoid (convs with bias, no BN) -> x * gate."""

    def __init__(self, channels: int, ratio: int = SPATIAL_WEIGHTING_RATIO) -> None:
        super().__init__()
        hidden = int(channels / ratio)
        self.conv1 = ConvModule(channels, hidden, 1, norm=False, act=nn.ReLU(inplace=True))
        self.conv2 = ConvModule(hidden, channels, 1, norm=False, act=nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return x * self.conv2(self.conv1(F.adaptive_avg_pool2d(x, 1)))


class CrossResolutionWeighting(nn.Module):
    """Gates every branch from all branches average-pooled to the lowest resolution.

    List of (B, c_b, H_b, W_b) in and out: pool, concatenate, 1x1+BN+ReLU, 1x1+BN+sigmoid, split per
    branch, nearest-upsample, multiply.
    """

    def __init__(self, channels: Sequence[int], ratio: int) -> None:
        super().__init__()
        self.channels = tuple(channels)
        total = sum(self.channels)
        self.conv1 = ConvModule(total, int(total / ratio), 1, act=nn.ReLU(inplace=True))
        self.conv2 = ConvModule(int(total / ratio), total, 1, act=nn.Sigmoid())

    def forward(self, x: Sequence[Tensor]) -> list[Tensor]:
        grid = x[-1].shape[-2:]
        pooled = [F.adaptive_avg_pool2d(branch, grid) for branch in x[:-1]]
        weights = self.conv2(self.conv1(torch.cat([*pooled, x[-1]], dim=1)))
        return [
            branch * F.interpolate(gate, size=branch.shape[-2:], mode="nearest")
            for branch, gate in zip(x, weights.split(self.channels, dim=1), strict=True)
        ]


class ConditionalChannelWeighting(nn.Module):
    """Lite-HRNet block over all branches (list of (B, C_b, H_b, W_b) in and out).

    Each branch is halved; the second half goes through cross-resolution weighting (jointly), then
    per branch a depthwise 3x3 + BN and spatial weighting; [identity, processed] are concatenated and
    channel-shuffled with 2 groups.
    """

    def __init__(self, in_channels: Sequence[int], reduce_ratio: int) -> None:
        super().__init__()
        half = [width // 2 for width in in_channels]
        self.cross_resolution_weighting = CrossResolutionWeighting(half, reduce_ratio)
        self.depthwise_convs = nn.ModuleList(ConvModule(width, width, 3, groups=width) for width in half)
        self.spatial_weighting = nn.ModuleList(SpatialWeighting(width) for width in half)

    def forward(self, x: Sequence[Tensor]) -> list[Tensor]:
        halves = [branch.chunk(2, dim=1) for branch in x]
        processed = self.cross_resolution_weighting([second for _, second in halves])
        steps = zip(processed, self.depthwise_convs, self.spatial_weighting, strict=True)
        processed = [weighting(conv(branch)) for branch, conv, weighting in steps]
        return [concat_shuffle((first, out)) for (first, _), out in zip(halves, processed, strict=True)]


class LiteStem(nn.Module):
    """Stride-4 stem (a ShuffleNet-style unit). (B, 3, H, W) -> (B, C, H/4, W/4).

    ``conv1`` 3x3 s2 + BN + ReLU, then channel halves: ``branch1`` = DW 3x3 s2 + BN, 1x1 + BN + ReLU;
    the other half = ``expand_conv`` 1x1 (to C*expand_ratio) + BN + ReLU, ``depthwise_conv`` DW 3x3 s2
    + BN, ``linear_conv`` 1x1 + BN + ReLU; concatenated [branch1, other] and shuffled. The official
    configs have equal stem and output widths, the only case built here.
    """

    def __init__(self, channels: int, expand_ratio: float, in_channels: int = 3) -> None:
        super().__init__()
        half = channels // 2
        expanded = round(channels * expand_ratio)
        self.conv1 = ConvModule(in_channels, channels, 3, stride=2, act=nn.ReLU(inplace=True))
        self.branch1 = nn.Sequential(
            ConvModule(half, half, 3, stride=2, groups=half),
            ConvModule(half, channels - half, 1, act=nn.ReLU(inplace=True)),
        )
        self.expand_conv = ConvModule(half, expanded, 1, act=nn.ReLU(inplace=True))
        self.depthwise_conv = ConvModule(expanded, expanded, 3, stride=2, groups=expanded)
        self.linear_conv = ConvModule(expanded, half, 1, act=nn.ReLU(inplace=True))

    def forward(self, x: Tensor) -> Tensor:
        first, second = self.conv1(x).chunk(2, dim=1)
        second = self.linear_conv(self.depthwise_conv(self.expand_conv(second)))
        return concat_shuffle((self.branch1(first), second))


@dataclass(frozen=True)
class LiteHRNetConfig:
    """Architecture of a Lite-HRNet; variants differ only here.

    Attributes:
        num_modules: modules per stage; stage s has s + 2 branches.
        stem_channels: stem width (= stem output width).
        expand_ratio: stem expansion of the second half.
        branch_channels: width of each branch; stage s uses the first s + 2.
        num_blocks: blocks per module.
        reduce_ratio: cross-resolution weighting reduction (8 in every stage of the official configs).
    """

    num_modules: tuple[int, ...] = (2, 4, 2)
    stem_channels: int = 32
    expand_ratio: float = 1.0
    branch_channels: tuple[int, ...] = (40, 80, 160, 320)
    num_blocks: int = 2
    reduce_ratio: int = 8

    @property
    def stage_channels(self) -> tuple[tuple[int, ...], ...]:
        return tuple(self.branch_channels[: stage + 2] for stage in range(len(self.num_modules)))


def build_backbone(config: LiteHRNetConfig) -> HRNetBackbone:
    """The Lite-HRNet backbone: (B, 3, H, W) -> (B, branch_channels[0], H/4, W/4)."""
    return HRNetBackbone(
        stem=LiteStem(config.stem_channels, config.expand_ratio),
        stem_channels=config.stem_channels,
        stage_channels=config.stage_channels,
        num_modules=config.num_modules,
        num_blocks=config.num_blocks,
        block=partial(ConditionalChannelWeighting, reduce_ratio=config.reduce_ratio),
        fuse_from_activated=False,
    )


def lite_hrnet(spec: ModelSpec, config: LiteHRNetConfig) -> PoseModel:
    """A top-down heatmap model: Lite-HRNet backbone + 1x1 heatmap head, initialised like mmpose."""
    head = HeatmapHead(config.branch_channels[0], spec.num_keypoints)
    return PoseModel(build_backbone(config), head, spec)


VARIANTS: dict[str, Callable[[], PoseModel]] = {
    "lite_hrnet_18": partial(
        lite_hrnet,
        ModelSpec("lite_hrnet_18", paper=paper_table1(1.1, 0.2, 0.4)),
        LiteHRNetConfig(num_modules=(2, 4, 2)),
    ),
    "lite_hrnet_30": partial(
        lite_hrnet,
        ModelSpec("lite_hrnet_30", paper=paper_table1(1.8, 0.3, 0.7)),
        LiteHRNetConfig(num_modules=(3, 8, 3)),
    ),
}
