"""Dite-HRNet-18 / -30 (Li et al., IJCAI 2022), exactly as the official code and COCO configs define them.

Reference: ``ZiyiZhang27/Dite-HRNet`` @ c980e9d, ``models/backbones/ditehrnet.py``. State-dict keys
and shapes equal the official mmpose checkpoints (``tests/data/manifests/dite_hrnet_*.json``), and
the forward reproduces the official numbers, quirks included (see :class:`DenseContextModeling` and
:class:`pose.models.hrnet_common.MultiResolutionModule`).

Extension points (EDite-HRNet builds on them, see ``pose.models.edite_hrnet``):

* :data:`SplitConvFactory` ``(channels, kernel_size, stride, num_kernels) -> module``: the depthwise
  conv+BN used for every DSC split and the stem's ``branch1.0`` / ``branch2.0``. The module must map
  (B, c, H, W) -> (B, c, H/stride, W/stride); the default is a :class:`ConvBN` named ``conv``/``bn``.
* ``DiteHRNetConfig.block``: the multi-scale block class, called as ``block(widths, split_conv)``;
  the default is :class:`DynamicMultiScaleContextBlock`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pose.models.dynamic_conv import ConvBN, depthwise_conv_bn
from pose.models.hrnet_common import HRNetBackbone
from pose.models.layers import HeatmapHead, PoseModel, concat_shuffle
from pose.models.spec import ModelSpec, paper_table1

SplitConvFactory = Callable[[int, int, int, int], nn.Module]
"""(channels, kernel_size, stride, num_kernels) -> depthwise conv+BN module, (B,c,H,W) -> (B,c,H/s,W/s)."""

# Per-branch constants hard-coded in the official code (index = branch 0..3).
DSC_GROUPS = (1, 1, 2, 4)
DSC_NUM_KERNELS = (4, 4, 2, 1)  # 1 = a static conv
GCM_REDUCTION = (4, 4, 8, 8)
DCM_REDUCTION = 8
STEM_NUM_KERNELS = 4


def _attention_mlp(channels: int, reduction: int) -> nn.Sequential:
    """1x1 (C -> C/r, no bias) -> BN -> ReLU -> 1x1 (-> C, bias) -> sigmoid; keys 0, 1, 3."""
    hidden = channels // reduction
    return nn.Sequential(
        nn.Conv2d(channels, hidden, 1, bias=False),
        nn.BatchNorm2d(hidden),
        nn.ReLU(inplace=True),
        nn.Conv2d(hidden, channels, 1),
        nn.Sigmoid(),
    )


class GlobalContextModeling(nn.Module):
    """GCM: softmax-weighted global pooling -> channel attention -> ``bn(x * attention)``.

    (B, C, H, W) -> (B, C, H, W). Nothing is added back (unlike GCNet).
    """

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        self.conv_mask = nn.Conv2d(channels, 1, 1)
        self.channel_attention = _attention_mlp(channels, reduction)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x: Tensor) -> Tensor:
        batch, channels = x.shape[:2]
        mask = self.conv_mask(x).view(batch, -1, 1).softmax(dim=1)
        context = torch.bmm(x.reshape(batch, channels, -1), mask).view(batch, channels, 1, 1)
        return self.bn(x * self.channel_attention(context))


class DenseContextModeling(nn.Module):
    """DCM: cross-branch context attention. Takes and returns the list of (B, c_b, H_b, W_b) tensors.

    Every branch but the last is pooled onto the last branch's (mh, mw) grid by a softmax spatial
    mask; the pooled maps and the last branch go through one channel-attention MLP, whose output is
    split per branch, nearest-upsampled and multiplied in.

    Official quirk, kept so that official weights give official outputs: the pooling reinterprets
    the features [B, c, H*W] in memory order as [B, n, c, H*W/n] (n = mh*mw) and weights them with n
    contiguous chunks of the mask. It is not per-cell pooling; channels and positions mix.
    ``conv_mask`` has one entry per branch, but the last is never used (it stays registered so the
    official checkpoints load strictly).
    """

    def __init__(self, channels: Sequence[int], reduction: int = DCM_REDUCTION) -> None:
        super().__init__()
        self.channels = tuple(channels)
        self.conv_mask = nn.ModuleList(nn.Conv2d(width, 1, 1) for width in self.channels)
        self.channel_attention = _attention_mlp(sum(self.channels), reduction)

    def _pool(self, x: Tensor, index: int, grid: tuple[int, int]) -> Tensor:
        """(B, c, H, W) -> (B, c, mh, mw) with the official memory-order grouping."""
        batch, channels, height, width = x.shape
        cells = grid[0] * grid[1]
        per_cell = height * width // cells
        mask = self.conv_mask[index](x).view(batch, 1, -1).softmax(dim=2).view(batch, cells, per_cell, 1)
        pooled = torch.matmul(x.reshape(batch, cells, channels, per_cell), mask)  # (B, n, c, 1)
        return pooled.view(batch, cells, channels).transpose(1, 2).reshape(batch, channels, *grid)

    def forward(self, x: Sequence[Tensor]) -> list[Tensor]:
        grid = (x[-1].shape[-2], x[-1].shape[-1])
        pooled = [self._pool(branch, index, grid) for index, branch in enumerate(x[:-1])]
        attention = self.channel_attention(torch.cat([*pooled, x[-1]], dim=1))
        return [
            branch * F.interpolate(weights, size=branch.shape[-2:], mode="nearest")
            for branch, weights in zip(x, attention.split(self.channels, dim=1), strict=True)
        ]


class DynamicSplitConvolution(nn.Module):
    """DSC: split C into ``groups`` parts (remainder to part 0); part i gets a depthwise (2i+3)x(2i+3)
    conv+BN; concatenate and channel-shuffle. (B, C, H, W) -> (B, C, H, W)."""

    def __init__(self, channels: int, groups: int, num_kernels: int, split_conv: SplitConvFactory) -> None:
        super().__init__()
        widths = [channels // groups] * groups
        widths[0] += channels - sum(widths)
        self.split_channels = tuple(widths)
        self.conv = nn.ModuleList(
            split_conv(width, 2 * index + 3, 1, num_kernels) for index, width in enumerate(widths)
        )

    def forward(self, x: Tensor) -> Tensor:
        if len(self.conv) == 1:
            return self.conv[0](x)
        parts = x.split(self.split_channels, dim=1)
        return concat_shuffle([conv(part) for conv, part in zip(self.conv, parts, strict=True)])


class DynamicMultiScaleContextBlock(nn.Module):
    """DMC block over all branches (list of (B, C_b, H_b, W_b) in and out).

    Each branch is halved; the first half passes unchanged, the second goes through DCM (jointly
    over branches), then per branch DSC and GCM; the halves are concatenated [identity, processed]
    and channel-shuffled with 2 groups.

    Args:
        in_channels: branch widths C_b (even).
        split_conv: conv+BN used for every DSC split (see :data:`SplitConvFactory`).
    """

    def __init__(self, in_channels: Sequence[int], split_conv: SplitConvFactory = depthwise_conv_bn) -> None:
        super().__init__()
        half = [width // 2 for width in in_channels]
        self.dcm = DenseContextModeling(half)
        self.conv = nn.ModuleList(
            DynamicSplitConvolution(width, DSC_GROUPS[b], DSC_NUM_KERNELS[b], split_conv)
            for b, width in enumerate(half)
        )
        self.gcm = nn.ModuleList(
            GlobalContextModeling(width, GCM_REDUCTION[b]) for b, width in enumerate(half)
        )

    def forward(self, x: Sequence[Tensor]) -> list[Tensor]:
        halves = [branch.chunk(2, dim=1) for branch in x]
        processed = self.dcm([second for _, second in halves])
        processed = [
            gcm(conv(branch)) for branch, conv, gcm in zip(processed, self.conv, self.gcm, strict=True)
        ]
        return [concat_shuffle((first, out)) for (first, _), out in zip(halves, processed, strict=True)]


class DiteStem(nn.Module):
    """Stride-4 stem, one dynamic global-context (DGC) block. (B, 3, H, W) -> (B, C, H/4, W/4).

    ``conv1`` (3x3 s2 conv+BN+ReLU, static), then channel halves: ``branch1`` = split conv 3x3 s2,
    GCM, DKA 1x1 + ReLU; ``branch2`` = split conv 3x3 s1, GCM, DKA 1x1 (to C/8) + ReLU, DKA 1x1 (back
    to C/2), DKA depthwise 3x3 s2 + ReLU; concatenated [branch1, branch2] and shuffled.
    """

    def __init__(self, channels: int, split_conv: SplitConvFactory = depthwise_conv_bn, in_channels: int = 3):
        super().__init__()
        half = channels // 2
        narrow = half // 4
        k = STEM_NUM_KERNELS
        self.conv1 = ConvBN(in_channels, channels, 3, stride=2, relu=True)
        self.branch1 = nn.Sequential(
            split_conv(half, 3, 2, k),
            GlobalContextModeling(half, GCM_REDUCTION[0]),
            ConvBN(half, half, 1, num_kernels=k, relu=True),
        )
        self.branch2 = nn.Sequential(
            split_conv(half, 3, 1, k),
            GlobalContextModeling(half, GCM_REDUCTION[0]),
            ConvBN(half, narrow, 1, num_kernels=k, relu=True),
            ConvBN(narrow, half, 1, num_kernels=k),
            ConvBN(half, half, 3, stride=2, groups=half, num_kernels=k, relu=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        first, second = self.conv1(x).chunk(2, dim=1)
        return concat_shuffle((self.branch1(first), self.branch2(second)))


@dataclass(frozen=True)
class DiteHRNetConfig:
    """Architecture of a Dite-HRNet-like backbone; variants differ only here.

    Attributes:
        num_modules: modules per stage; stage s has s + 2 branches.
        stem_channels: stem width.
        branch_channels: width of each branch; stage s uses the first s + 2.
        num_blocks: blocks per module.
        split_conv: depthwise conv+BN factory for the DSC splits and the stem (extension point).
        block: multi-scale block class, ``block(widths, split_conv)`` (extension point).
    """

    num_modules: tuple[int, ...] = (2, 4, 2)
    stem_channels: int = 32
    branch_channels: tuple[int, ...] = (40, 80, 160, 320)
    num_blocks: int = 2
    split_conv: SplitConvFactory = depthwise_conv_bn
    block: Callable[[Sequence[int], SplitConvFactory], nn.Module] = DynamicMultiScaleContextBlock

    @property
    def stage_channels(self) -> tuple[tuple[int, ...], ...]:
        return tuple(self.branch_channels[: stage + 2] for stage in range(len(self.num_modules)))


def build_backbone(config: DiteHRNetConfig) -> HRNetBackbone:
    """The Dite-HRNet backbone: (B, 3, H, W) -> (B, branch_channels[0], H/4, W/4)."""
    return HRNetBackbone(
        stem=DiteStem(config.stem_channels, config.split_conv),
        stem_channels=config.stem_channels,
        stage_channels=config.stage_channels,
        num_modules=config.num_modules,
        num_blocks=config.num_blocks,
        block=partial(config.block, split_conv=config.split_conv),
        fuse_from_activated=True,
    )


def dite_hrnet(spec: ModelSpec, config: DiteHRNetConfig) -> PoseModel:
    """A top-down heatmap model: Dite-style backbone + 1x1 heatmap head, initialised like mmpose."""
    head = HeatmapHead(config.branch_channels[0], spec.num_keypoints)
    return PoseModel(build_backbone(config), head, spec)


VARIANTS: dict[str, Callable[[], PoseModel]] = {
    "dite_hrnet_18": partial(
        dite_hrnet,
        ModelSpec("dite_hrnet_18", paper=paper_table1(1.1, 0.2, 0.4)),
        DiteHRNetConfig(num_modules=(2, 4, 2)),
    ),
    "dite_hrnet_30": partial(
        dite_hrnet,
        ModelSpec("dite_hrnet_30", paper=paper_table1(1.8, 0.3, 0.7)),
        DiteHRNetConfig(num_modules=(3, 8, 3)),
    ),
}
