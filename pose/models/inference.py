"""Inference-time rewrites of a trained pose model: same function, fewer operations.

Nothing here changes a model definition; :func:`prepare_for_inference` returns a rewritten deep copy of an
eval-mode model and leaves the original untouched (training, checkpoints and ``state_dict`` keys keep
using the original).

* **BatchNorm folding** (:func:`fold_batchnorm`): every eval-mode ``BatchNorm2d`` that directly follows a
  convolution becomes that convolution's per-channel scale and bias, ``y = s * conv(x) + t`` with
  ``s = gamma / sqrt(var + eps)`` and ``t = beta - s * mean``. Dite's dynamic convs (DKA) fold too: the
  per-sample kernel is an attention-weighted sum of K kernels, so scaling all K kernels by ``s`` scales the
  sum, and ``t`` becomes a bias of the aggregated conv (../shared/ARCHITECTURE.md sec. 8.2). BatchNorms
  after a product (GCM's ``bn(x * attention)``, the Enhanced ConvBN's ``bn(features * gate)``) are left as
  they are.
* **grouped convs that torch runs slowly on CPU** are replaced by equivalent modules
  (:func:`replace_slow_convs`): a depthwise 1x1 conv becomes a per-channel multiply-add (torch ran it group
  by group on its slow path), and EDite-S's mix conv a sum of three depthwise convs that can carry a
  folded BN's bias. (The ghost modules' grouped primary convs are fast in the model itself:
  :class:`pose.models.ghost.PairGroupedConv2d`.)
* **channels-last** memory format (:func:`prepare_for_inference` ``channels_last=True``): off by default,
  it did not win for the whole model on torch 2.14 CPU (depthwise convs gain, the many reshapes and
  concatenations between them convert back).

The outputs equal the reference up to float rounding (tests/pose/models/test_inference.py).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pose.models.dynamic_conv import DynamicKernelAggregation, KernelAggregation, KernelAttention
from pose.models.edite_hrnet import InterleavedMix


def _bn_scale_shift(bn: nn.BatchNorm2d) -> tuple[Tensor, Tensor]:
    """Eval-mode BN as ``y = scale * x + shift``: two (C,) tensors."""
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("cannot fold a BatchNorm2d without running statistics (track_running_stats=False)")
    scale = torch.rsqrt(bn.running_var + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight
    shift = -bn.running_mean * scale
    if bn.bias is not None:
        shift = shift + bn.bias
    return scale, shift


@torch.no_grad()
def _fold_into_conv(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Rewrite ``conv`` in place so that ``conv(x) == bn(old_conv(x))``."""
    scale, shift = _bn_scale_shift(bn)
    conv.weight.mul_(scale.view(-1, 1, 1, 1))
    bias = shift if conv.bias is None else conv.bias * scale + shift
    conv.bias = nn.Parameter(bias.detach().clone(), requires_grad=False)


class BiasedKernelAggregation(KernelAggregation):
    """:class:`KernelAggregation` with a per-output-channel bias: a DKA conv with its BN folded in.

    Forward: x (B, C_in, H, W), attention (B, K) -> (B, C_out, H/stride, W/stride).
    """

    @classmethod
    @torch.no_grad()
    def folded(cls, aggregation: KernelAggregation, bn: nn.BatchNorm2d) -> BiasedKernelAggregation:
        """``bn(aggregation(x, a))`` as one aggregation: all K kernels scaled by the BN scale, plus a bias."""
        module = cls.__new__(cls)
        nn.Module.__init__(module)
        module.out_channels, module.stride = aggregation.out_channels, aggregation.stride
        module.padding, module.groups = aggregation.padding, aggregation.groups
        scale, shift = _bn_scale_shift(bn)
        module.weight = nn.Parameter(aggregation.weight * scale.view(1, -1, 1, 1, 1), requires_grad=False)
        module.bias = nn.Parameter(shift.detach().clone(), requires_grad=False)
        return module


class StackedKernelAggregation(nn.Module):
    """A DKA conv as one static conv with all K kernels, then the attention-weighted sum of the K outputs.

    ``conv(x, sum_k a_k W_k) = sum_k a_k conv(x, W_k)`` (convolution is linear in the kernel), so the
    output equals :class:`KernelAggregation`'s, but every conv has a fixed kernel: exporters (ONNX) and
    graph compilers accept it and it works for any batch size without folding the batch into groups.
    Output channel ``o * K + k`` of the stacked conv is kernel k's output channel o.

    Forward: x (B, C_in, H, W), attention (B, K) -> (B, C_out, H/stride, W/stride).
    """

    def __init__(self, aggregation: KernelAggregation) -> None:
        super().__init__()
        weight = aggregation.weight.detach()  # [K, C_out, C_in/groups, k, k]
        self.num_kernels, self.out_channels = weight.shape[:2]
        stacked = weight.transpose(0, 1).reshape(-1, *weight.shape[2:])
        self.weight = nn.Parameter(stacked.clone(), requires_grad=False)
        bias = getattr(aggregation, "bias", None)
        self.bias = None if bias is None else nn.Parameter(bias.detach().clone(), requires_grad=False)
        self.stride, self.padding, self.groups = aggregation.stride, aggregation.padding, aggregation.groups

    def forward(self, x: Tensor, attention: Tensor) -> Tensor:
        y = F.conv2d(x, self.weight, stride=self.stride, padding=self.padding, groups=self.groups)
        y = y.unflatten(1, (self.out_channels, self.num_kernels))
        y = (y * attention[:, None, :, None, None]).sum(2)
        return y if self.bias is None else y + self.bias.view(1, -1, 1, 1)


def _fold_pair(conv: nn.Module, bn: nn.Module) -> nn.Module | None:
    """``conv`` rewritten to include ``bn`` (same object or a replacement), or None when it cannot be."""
    if not isinstance(bn, nn.BatchNorm2d):
        return None
    if isinstance(conv, nn.Conv2d):
        _fold_into_conv(conv, bn)
        return SummedDepthwiseMix(conv) if isinstance(conv, InterleavedMix) else conv
    if isinstance(conv, DynamicKernelAggregation):
        conv.aggregation = BiasedKernelAggregation.folded(conv.aggregation, bn)
        return conv
    return None


def fold_batchnorm(model: nn.Module) -> int:
    """Fold, in place, every BatchNorm2d that directly follows a conv; returns how many were folded.

    Handled layouts: consecutive ``(Conv2d | DKA, BatchNorm2d)`` children of an ``nn.Sequential``
    (the BN becomes ``nn.Identity``); modules with a ``conv`` and a ``bn`` child applied as ``bn(conv(x))``
    (``ConvBN``, ``ConvModule``; an ``EnhancedConvBN`` is skipped since its ghost module's output is a
    product); and DKA's attention (``conv1``, ``bn``). The model must be in eval mode.
    """
    if model.training:
        raise ValueError("fold_batchnorm needs an eval-mode model: call model.eval() first")
    folded = 0
    for module in list(model.modules()):
        if isinstance(module, nn.Sequential):
            names = list(module._modules)
            for first, second in itertools.pairwise(names):
                replacement = _fold_pair(module._modules[first], module._modules[second])
                if replacement is not None:
                    module._modules[first], module._modules[second] = replacement, nn.Identity()
                    folded += 1
        elif isinstance(module, KernelAttention):
            if _fold_pair(module.conv1, module.bn) is not None:
                module.bn = nn.Identity()
                folded += 1
        elif isinstance(getattr(module, "bn", None), nn.BatchNorm2d) and hasattr(module, "conv"):
            replacement = _fold_pair(module.conv, module.bn)
            if replacement is not None:
                module.conv, module.bn = replacement, nn.Identity()
                folded += 1
    return folded


class ChannelAffine(nn.Module):
    """A depthwise 1x1 conv with bias as ``x * weight + bias`` per channel: (B, C, H, W) -> same shape
    (``x * weight`` once a graph fold has moved the bias elsewhere and set it to None).

    torch's CPU conv runs a depthwise 1x1 conv group by group on its slow path (one call per channel).
    """

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        channels = conv.out_channels
        weight = conv.weight.detach().reshape(1, channels, 1, 1)
        self.weight = nn.Parameter(weight.clone(), requires_grad=False)
        bias = conv.bias.detach() if conv.bias is not None else torch.zeros(channels)
        self.bias = nn.Parameter(bias.reshape(1, channels, 1, 1).clone(), requires_grad=False)

    def forward(self, x: Tensor) -> Tensor:
        return x * self.weight if self.bias is None else torch.addcmul(self.bias, x, self.weight)


class SummedDepthwiseMix(nn.Module):
    """:class:`InterleavedMix` with a bias: the sum of three depthwise 3x3 convs, one per input, plus a bias.

    (``InterleavedMix`` itself is bias-free, so a BN folded into it needs this module.)

    Forward: sequence of three (B, c, H, W) tensors -> (B, c, H, W).
    """

    def __init__(self, mix: InterleavedMix) -> None:
        super().__init__()
        weight = mix.weight.detach()  # [c, 3, 3, 3]: weight[j, t] filters channel j of input t
        self.kernels = nn.ParameterList(
            nn.Parameter(weight[:, t : t + 1].clone(), requires_grad=False) for t in range(weight.shape[1])
        )
        self.bias = None if mix.bias is None else nn.Parameter(mix.bias.detach().clone(), requires_grad=False)
        self.padding = mix.padding
        self.groups = mix.out_channels

    def forward(self, parts: Sequence[Tensor]) -> Tensor:
        out = F.conv2d(parts[0], self.kernels[0], self.bias, padding=self.padding, groups=self.groups)
        for part, kernel in zip(parts[1:], self.kernels[1:], strict=True):
            out = out + F.conv2d(part, kernel, padding=self.padding, groups=self.groups)
        return out


def _cheaper_equivalent(module: nn.Module) -> nn.Module | None:
    """A faster module computing the same function as ``module``, or None."""
    if isinstance(module, InterleavedMix):
        return SummedDepthwiseMix(module)
    depthwise = type(module) is nn.Conv2d and module.groups == module.in_channels == module.out_channels > 1
    if depthwise and module.kernel_size == (1, 1) and module.stride == (1, 1):
        return ChannelAffine(module)
    return None


def replace_slow_convs(model: nn.Module) -> int:
    """Swap, in place, the grouped convs that torch runs slowly on CPU for equivalent modules
    (:class:`ChannelAffine`, :class:`SummedDepthwiseMix`); returns the count."""
    replaced = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            replacement = _cheaper_equivalent(child)
            if replacement is not None:
                setattr(parent, name, replacement)
                replaced += 1
    return replaced


def prepare_for_inference(
    model: nn.Module, fold_bn: bool = True, rewrite_convs: bool = True, channels_last: bool = False
) -> nn.Module:
    """A rewritten deep copy of ``model`` for inference (eval mode, no gradients); ``model`` is untouched.

    Args:
        model: an eval-mode pose model (any ``nn.Module``); a ``spec`` attribute is kept.
        fold_bn: fold BatchNorms into the preceding convs (:func:`fold_batchnorm`).
        rewrite_convs: replace slow grouped convs by equivalent faster modules (:func:`replace_slow_convs`).
        channels_last: store 4-D weights channels-last (feed channels-last inputs to benefit).

    Returns:
        The copy, in eval mode with ``requires_grad`` off; same forward, same outputs up to rounding.
    """
    dtype = next(model.parameters()).dtype
    prepared = copy.deepcopy(model).float().eval()  # fold in float32, then return to the model's dtype
    for parameter in prepared.parameters():
        parameter.requires_grad_(False)
    if fold_bn:
        fold_batchnorm(prepared)
    if rewrite_convs:
        replace_slow_convs(prepared)
    if channels_last:
        for conv in prepared.modules():
            if isinstance(conv, nn.Conv2d):  # DKA's 5-D kernel stack has no channels-last layout
                conv.weight.data = conv.weight.data.contiguous(memory_format=torch.channels_last)
    return prepared.to(dtype)
