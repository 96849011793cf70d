"""Graph-level folds for the exported inference graph: fewer operators, fewer NCHWc layout reorders.

Applied by :func:`prepare_for_export` after :func:`pose.models.inference.prepare_for_inference`
(BatchNorms already folded into their convs); every fold computes the same function up to float rounding
(tests/pose/models/test_fold.py: max abs heatmap difference <= 1e-4 of the largest heatmap value, float32).

* **Ghost modules** (:class:`FoldedGhostModule`): GhostNetV2's ``concat[p, cheap(p)]`` with
  ``p = primary(x)`` (a grouped conv with two inputs per output) becomes three plain convs,
  ``depthwise k x k -> dense 1x1 -> depthwise 3x3``: the 1x1 sums the primary conv's channel pairs into
  both halves of the output, and the last depthwise conv is the identity (a centre tap of 1) on the first
  half and the cheap operation on the second. That removes the pair-sum reshapes, the concat and two
  layout changes per module (ONNX Runtime runs the three convs back to back in its blocked NCHWc layout).
* **The EDMC cheap op's bias** goes into the mix conv's bias (both are added before the ReLU), so the
  cheap op is a per-channel multiply.

Not folded, and why (EDite-S): the channel shuffles. The block's shuffled output feeds the next block's
Dense Context Modeling, whose official pooling reads the features in memory order (channels and positions
mix, :class:`pose.models.dite_hrnet.DenseContextModeling`), so no channel permutation can be moved past it;
and the mix conv pairs channel j of three tensors, of which only two could carry a permutation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pose.models.edite_hrnet import EnhancedMultiScaleBlock
from pose.models.ghost import GhostModuleV2, PairGroupedConv2d
from pose.models.inference import ChannelAffine, SummedDepthwiseMix, prepare_for_inference, replace_slow_convs

EXPORT_GRAPH_VERSION = 2
"""Bumped whenever the exported graph changes, so that cached exports of older graphs are not reused."""


def _plain_conv(sequential: nn.Sequential) -> nn.Conv2d:
    """The conv of a ``(Conv2d, Identity)`` pair whose BatchNorm has been folded; an error otherwise."""
    conv, rest = sequential[0], list(sequential)[1:]
    folded = all(isinstance(layer, nn.Identity) for layer in rest)
    if type(conv) not in (nn.Conv2d, PairGroupedConv2d) or not folded:
        raise ValueError("fold the BatchNorms first (pose.models.inference.fold_batchnorm)")
    return conv


class FoldedGhostModule(nn.Module):
    """A BN-folded :class:`GhostModuleV2` as ``depthwise k x k -> dense 1x1 -> depthwise 3x3``, gated.

    Shapes: ``(B, c, H, W) -> (B, c, ceil(H / stride), ceil(W / stride))``, as the module it replaces.
    """

    @torch.no_grad()
    def __init__(self, ghost: GhostModuleV2) -> None:
        super().__init__()
        primary, cheap = _plain_conv(ghost.primary_conv), _plain_conv(ghost.cheap_operation)
        half = primary.out_channels
        channels = 2 * half
        kernel = primary.weight.shape[-2:]  # primary.weight: [half, 2, k, k]
        self.depthwise = nn.Conv2d(channels, channels, kernel, primary.stride, primary.padding,
                                   groups=channels, bias=False)
        self.depthwise.weight.copy_(primary.weight.reshape(channels, 1, *kernel))
        self.pair_sum = nn.Conv2d(channels, channels, 1)
        pairs = torch.arange(half)
        weight = torch.zeros(channels, channels)
        for offset in (0, half):  # output j and j + half both read input channels 2j and 2j + 1
            weight[pairs + offset, 2 * pairs] = 1.0
            weight[pairs + offset, 2 * pairs + 1] = 1.0
        self.pair_sum.weight.copy_(weight[:, :, None, None])
        primary_bias = primary.bias if primary.bias is not None else torch.zeros(half)
        self.pair_sum.bias.copy_(torch.cat([primary_bias, primary_bias]))
        self.cheap = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
        identity = torch.zeros(half, 1, 3, 3)
        identity[:, :, 1, 1] = 1.0
        self.cheap.weight.copy_(torch.cat([identity, cheap.weight]))
        cheap_bias = cheap.bias if cheap.bias is not None else torch.zeros(half)
        self.cheap.bias.copy_(torch.cat([torch.zeros(half), cheap_bias]))
        self.short_conv = ghost.short_conv
        self.requires_grad_(False)

    def forward(self, x: Tensor) -> Tensor:
        features = self.cheap(self.pair_sum(self.depthwise(x)))
        attention = self.short_conv(F.avg_pool2d(x, kernel_size=2, stride=2))
        return features * F.interpolate(attention.sigmoid(), size=features.shape[-2:], mode="nearest")


def fold_ghost_modules(model: nn.Module) -> int:
    """Replace, in place, each BN-folded :class:`GhostModuleV2` by a :class:`FoldedGhostModule`; the count."""
    folded = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, GhostModuleV2):
                setattr(parent, name, FoldedGhostModule(child))
                folded += 1
    return folded


@torch.no_grad()
def fold_cheap_bias_into_mix(model: nn.Module) -> int:
    """In every EDMC block, move the cheap op's bias into the mix conv's bias (both feed one sum), in place.

    Needs the rewritten modules of :func:`prepare_for_inference` (cheap: :class:`ChannelAffine`, mix:
    :class:`SummedDepthwiseMix`); other layouts are left alone. Returns how many branches were folded.
    """
    folded = 0
    for block in model.modules():
        if not isinstance(block, EnhancedMultiScaleBlock):
            continue
        for cheap, mix in zip(block.cheap, block.mix, strict=True):
            affine, summed = cheap[0], mix[0]
            if not isinstance(affine, ChannelAffine) or not isinstance(summed, SummedDepthwiseMix):
                continue
            if affine.bias is None:
                continue
            bias = affine.bias.reshape(-1)
            total = bias if summed.bias is None else summed.bias + bias
            summed.bias = nn.Parameter(total, requires_grad=False)
            affine.bias = None
            folded += 1
    return folded


def prepare_for_export(model: nn.Module) -> nn.Module:
    """:func:`prepare_for_inference` plus the graph folds of this module: a float32 copy, ``model`` untouched.

    (B, 3, H, W) -> (B, K, H/4, W/4), the same function as ``model`` up to float rounding.
    """
    prepared = prepare_for_inference(model, rewrite_convs=False).float()
    fold_ghost_modules(prepared)
    replace_slow_convs(prepared)
    fold_cheap_bias_into_mix(prepared)
    return prepared
