"""Dite-HRNet's Dynamic Kernel Aggregation (DKA) and its conv+BN wrappers.

A DKA conv holds K candidate kernels and, per sample, convolves with their sum weighted by a
sigmoid attention computed from the input (no softmax, no temperature). Names and shapes follow the
official code so its checkpoints load: ``attention.{conv1,bn,conv2}``, ``aggregation.weight``
of shape [K, C_out, C_in/groups, k, k].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class KernelAttention(nn.Module):
    """Global average pool -> 1x1 (C -> C/4, no bias) -> BN -> ReLU -> 1x1 (-> K, bias) -> sigmoid.

    (B, C, H, W) -> (B, K) weights in (0, 1). A 3-channel input uses K hidden channels instead of C/4.
    """

    def __init__(self, channels: int, num_kernels: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = num_kernels if channels == 3 else channels // reduction
        self.conv1 = nn.Conv2d(channels, hidden, 1, bias=False)
        self.bn = nn.BatchNorm2d(hidden)
        self.conv2 = nn.Conv2d(hidden, num_kernels, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = F.adaptive_avg_pool2d(x, 1)
        x = F.relu(self.bn(self.conv1(x)))
        return torch.sigmoid(self.conv2(x).flatten(1))


class KernelAggregation(nn.Module):
    """K stacked kernels, combined per sample by an attention vector and applied as one grouped conv.

    The batch is folded into the conv groups, which is exact for any batch size and differentiable.
    Each of the K kernels is initialised with ``kaiming_uniform_`` (the official init).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int,
        groups: int,
        num_kernels: int,
    ) -> None:
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"channels {in_channels}->{out_channels} are not divisible by {groups} groups")
        self.out_channels = out_channels
        self.stride = stride
        self.padding = kernel_size // 2
        self.groups = groups
        self.weight = nn.Parameter(
            torch.empty(num_kernels, out_channels, in_channels // groups, kernel_size, kernel_size)
        )
        self.register_parameter("bias", None)  # none in the official model; set when a BN is folded in
        with torch.no_grad():
            for kernel in self.weight:
                nn.init.kaiming_uniform_(kernel)

    def forward(self, x: Tensor, attention: Tensor) -> Tensor:
        """x (B, C_in, H, W), attention (B, K) -> (B, C_out, H/stride, W/stride)."""
        batch, channels, height, width = x.shape
        kernels = (attention @ self.weight.flatten(1)).view(batch * self.out_channels, *self.weight.shape[2:])
        y = F.conv2d(
            x.reshape(1, batch * channels, height, width),
            kernels,
            None if self.bias is None else self.bias.repeat(batch),
            stride=self.stride,
            padding=self.padding,
            groups=self.groups * batch,
        )
        return y.view(batch, self.out_channels, *y.shape[-2:])


class DynamicKernelAggregation(nn.Module):
    """A kxk conv (padding k//2, no bias) whose kernel is attention-weighted from K candidates."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        groups: int = 1,
        num_kernels: int = 4,
    ) -> None:
        super().__init__()
        self.attention = KernelAttention(in_channels, num_kernels)
        self.aggregation = KernelAggregation(
            in_channels, out_channels, kernel_size, stride, groups, num_kernels
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.aggregation(x, self.attention(x))


class ConvBN(nn.Module):
    """Conv (DKA when ``num_kernels > 1``, else a plain ``nn.Conv2d``) -> BN (-> ReLU).

    Covers the official ``ConvBN``, ``ConvBNReLU``, ``Conv1x1BN`` and ``Conv1x1BNReLU``; all four
    name their parts ``conv`` and ``bn``. Padding is ``kernel_size // 2``, there is no conv bias.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        groups: int = 1,
        num_kernels: int = 1,
        relu: bool = False,
    ) -> None:
        super().__init__()
        if num_kernels > 1:
            self.conv: nn.Module = DynamicKernelAggregation(
                in_channels, out_channels, kernel_size, stride, groups, num_kernels
            )
        else:
            self.conv = nn.Conv2d(
                in_channels, out_channels, kernel_size, stride, kernel_size // 2, groups=groups, bias=False
            )
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True) if relu else None

    def forward(self, x: Tensor) -> Tensor:
        x = self.bn(self.conv(x))
        return x if self.relu is None else self.relu(x)


def depthwise_conv_bn(channels: int, kernel_size: int, stride: int, num_kernels: int) -> ConvBN:
    """Dite's depthwise ConvBN (the DSC split conv and the stem's first convs): the default
    :data:`pose.models.dite_hrnet.SplitConvFactory`."""
    return ConvBN(channels, channels, kernel_size, stride, groups=channels, num_kernels=num_kernels)
