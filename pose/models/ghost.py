"""Enhanced ConvBN: a GhostNetV2 ghost module with DFC attention in place of Dite's ConvBN conv.

EDite-HRNet (Sec. III-D, eq. 7-8) swaps the convolution of every Dite ``ConvBN`` (the depthwise split
convs of the DSC sub-block and the two ``ConvBN`` s of the stem) for GhostNetV2's ``GhostModuleV2`` in its
``'attn'`` mode, and keeps the ConvBN's outer BN. The layout follows ../shared/ARCHITECTURE.md sec. 2 and
5.1 (design "R"); the key names are those of the official GhostNetV2 code, nested under the replaced
ConvBN's ``conv``::

    conv.primary_conv.{0: Conv2d, 1: BN}       k x k, stride s, c -> c/2, groups c/2, static (no DKA);
                                               a PairGroupedConv2d (same keys, faster on the CPU)
    conv.cheap_operation.{0: Conv2d, 1: BN}    depthwise 3x3, c/2 -> c/2
    conv.short_conv.{0..5}                     DFC: projection k x k stride s, BN, dw 1x5, BN, dw 5x1, BN
    bn.*                                       the outer ConvBN BN, unchanged

``output = BN( concat[primary, cheap] * upsample(sigmoid(DFC(avg_pool_2x2(x)))) )``.
The only S/L difference here is the DFC projection conv: depthwise in S, dense in L (ambiguity 1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

DFC_KERNEL = 5


class PairGroupedConv2d(nn.Conv2d):
    """``nn.Conv2d(2c, c, k, groups=c)`` (two input channels, one output channel per group: the primary
    conv) computed as a depthwise conv over the ``2c`` inputs and a sum of adjacent channel pairs.

    Same parameters, ``state_dict`` keys and function as the grouped conv; torch's CPU conv runs a grouped
    conv with so few channels per group on a slow path. A training step of EDite-HRNet-S at 128x96, batch
    32, one thread: 1.71 -> 1.51 s on a 2-vCPU AMD EPYC (``python tests/benchmarks/train_throughput.py
    --models edite_hrnet_s --batch 32 --input-size 128 96 --threads 1``, twice each, interleaved).

    Forward: (B, 2c, H, W) -> (B, c, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(
        self, out_channels: int, kernel: tuple[int, int], stride: int, padding: tuple[int, int]
    ) -> None:
        super().__init__(2 * out_channels, out_channels, kernel, stride, padding, groups=out_channels,
                         bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        depthwise = self.weight.reshape(self.in_channels, 1, *self.kernel_size)  # [2c, 1, k, k]
        y = F.conv2d(x, depthwise, None, self.stride, self.padding, groups=self.in_channels)
        y = y.unflatten(1, (self.out_channels, 2)).sum(2)
        return y if self.bias is None else y + self.bias.view(1, -1, 1, 1)  # a bias once a BN is folded in


def _conv_bn(
    in_channels: int,
    out_channels: int,
    kernel: int | tuple[int, int],
    stride: int = 1,
    groups: int = 1,
) -> nn.Sequential:
    """``Sequential(0: Conv2d without bias, 1: BatchNorm2d)`` with 'same' padding for odd kernels (a
    :class:`PairGroupedConv2d` for two inputs and one output per group)."""
    kernel_hw = (kernel, kernel) if isinstance(kernel, int) else kernel
    padding = (kernel_hw[0] // 2, kernel_hw[1] // 2)
    if groups > 1 and in_channels == 2 * groups and out_channels == groups:
        conv: nn.Conv2d = PairGroupedConv2d(out_channels, kernel_hw, stride, padding)
    else:
        conv = nn.Conv2d(in_channels, out_channels, kernel_hw, stride, padding, groups=groups, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(out_channels))


class GhostModuleV2(nn.Module):
    """GhostNetV2 ghost module, ``'attn'`` mode, for ``channels -> channels`` with no internal ReLU.

    Args:
        channels: input and output channels ``c``; must be even (half come from the primary conv,
            half from the cheap operation).
        kernel: kernel of the primary conv and of the DFC projection (the replaced conv's kernel).
        stride: stride of the primary conv and of the DFC projection.
        dense_projection: ``True`` for a dense DFC projection (L), ``False`` for a depthwise one (S).

    Shapes: ``(B, c, H, W) -> (B, c, ceil(H / stride), ceil(W / stride))``.
    """

    def __init__(self, channels: int, kernel: int, stride: int = 1, dense_projection: bool = False) -> None:
        super().__init__()
        if channels % 2:
            raise ValueError(f"GhostModuleV2 needs an even channel count, got {channels}")
        half = channels // 2
        self.primary_conv = _conv_bn(channels, half, kernel, stride, groups=half)
        self.cheap_operation = _conv_bn(half, half, 3, groups=half)
        projection_groups = 1 if dense_projection else channels
        self.short_conv = nn.Sequential(
            *_conv_bn(channels, channels, kernel, stride, groups=projection_groups),
            *_conv_bn(channels, channels, (1, DFC_KERNEL), groups=channels),
            *_conv_bn(channels, channels, (DFC_KERNEL, 1), groups=channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        intrinsic = self.primary_conv(x)
        features = torch.cat([intrinsic, self.cheap_operation(intrinsic)], dim=1)
        attention = self.short_conv(F.avg_pool2d(x, kernel_size=2, stride=2))
        gate = F.interpolate(attention.sigmoid(), size=features.shape[-2:], mode="nearest")
        return features * gate


class EnhancedConvBN(nn.Module):
    """Drop-in for Dite's ``ConvBN`` (depthwise k x k conv + BN): ``conv`` is a :class:`GhostModuleV2`.

    Args:
        channels, kernel, stride, dense_projection: see :class:`GhostModuleV2`.

    Shapes: ``(B, c, H, W) -> (B, c, ceil(H / stride), ceil(W / stride))``.
    """

    def __init__(self, channels: int, kernel: int, stride: int = 1, dense_projection: bool = False) -> None:
        super().__init__()
        self.conv = GhostModuleV2(channels, kernel, stride, dense_projection)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))
