"""Building blocks shared by every pose model family, and the top-level :class:`PoseModel`.

Module and attribute names follow mmcv/mmpose (``conv``/``bn`` in a conv module, ``depthwise_conv``/
``pointwise_conv`` in a depthwise-separable one, ``keypoint_head.final_layer``), so that ``state_dict``
keys equal those of the official mmpose checkpoints and those files load as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from pose.models.spec import ModelSpec


class ConvModule(nn.Module):
    """Conv2d -> optional BatchNorm -> optional activation, named like mmcv's ``ConvModule``.

    The conv has a bias exactly when there is no norm (mmcv's ``bias='auto'``). Keys: ``conv.weight``
    (``conv.bias``), ``bn.*``; the activation has no state.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        groups: int = 1,
        norm: bool = True,
        act: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, kernel_size // 2, groups=groups, bias=not norm
        )
        self.bn = nn.BatchNorm2d(out_channels) if norm else None
        self.act = act

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.act is not None:
            x = self.act(x)
        return x


class DepthwiseSeparableConvModule(nn.Module):
    """Depthwise kxk + BN (no activation) -> pointwise 1x1 + BN + ReLU (mmcv's module of that name,
    configured as Lite-HRNet's and Dite-HRNet's IterativeHead use it)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.depthwise_conv = ConvModule(in_channels, in_channels, kernel_size, groups=in_channels)
        self.pointwise_conv = ConvModule(in_channels, out_channels, 1, act=nn.ReLU(inplace=True))

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise_conv(self.depthwise_conv(x))


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """ShuffleNet channel shuffle: view (B, g, C/g, H, W), swap the two channel axes, flatten back."""
    batch, channels, height, width = x.shape
    x = x.view(batch, groups, channels // groups, height, width).transpose(1, 2)
    return x.reshape(batch, channels, height, width)


def concat_shuffle(parts: Sequence[Tensor]) -> Tensor:
    """``channel_shuffle(torch.cat(parts, 1), len(parts))`` for (B, C_i, H, W) parts.

    Equal-width parts (the common case) are interleaved with a single stack, which saves one copy.
    """
    if all(part.shape[1] == parts[0].shape[1] for part in parts):
        return torch.stack(tuple(parts), dim=2).flatten(1, 2)
    return channel_shuffle(torch.cat(tuple(parts), dim=1), len(parts))


class HeatmapHead(nn.Module):
    """mmpose ``TopdownHeatmapSimpleHead`` with no deconvolution: one 1x1 conv with bias.

    (B, in_channels, H, W) features -> (B, num_keypoints, H, W) heatmaps.
    """

    def __init__(self, in_channels: int, num_keypoints: int) -> None:
        super().__init__()
        self.final_layer = nn.Conv2d(in_channels, num_keypoints, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.final_layer(x)


class PoseModel(nn.Module):
    """A top-down heatmap model: ``backbone`` then ``keypoint_head``, like mmpose's ``TopDown``.

    Forward: (B, 3, H, W) float RGB normalised with ``spec.mean``/``spec.std`` ->
    (B, K, H/4, W/4) heatmaps, K = ``spec.num_keypoints``. State-dict keys are ``backbone.*`` and
    ``keypoint_head.*``, as in mmpose checkpoints.

    Construction initialises the weights as mmpose's ``TopDown.init_weights`` does (see
    :func:`init_weights_like_mmpose`).
    """

    def __init__(self, backbone: nn.Module, keypoint_head: nn.Module, spec: ModelSpec) -> None:
        super().__init__()
        self.backbone = backbone
        self.keypoint_head = keypoint_head
        self.spec = spec
        init_weights_like_mmpose(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.keypoint_head(self.backbone(x))


def init_weights_like_mmpose(model: nn.Module) -> None:
    """mmpose's initialisation with ``pretrained=None``: every ``nn.Conv2d`` weight ~ N(0, 0.001) with
    zero bias, every BatchNorm weight 1 and bias 0. Other parameters (e.g. Dite's dynamic kernels, which
    are not ``nn.Conv2d``) keep the initialisation of their own module."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.normal_(module.weight, mean=0.0, std=0.001)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

