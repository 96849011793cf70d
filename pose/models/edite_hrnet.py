"""EDite-HRNet-S / -L (Rui, Gao, Ren, IEEE Access) and a tiny test variant, built on Dite-HRNet-18.

No public EDite-HRNet code or weights exist; this is the reconstruction "R" of ../shared/ARCHITECTURE.md
sec. 5, chosen by matching the paper's parameter and FLOP tables. Everything except two blocks is
Dite-HRNet-18 (:mod:`pose.models.dite_hrnet`: stem layout, transitions, DCM, GCM, fuse step, head,
``num_modules=(2, 4, 2)``), with the same state-dict keys, so a Dite-18 checkpoint fills every other key.
The two EDite blocks plug into Dite's extension points:

* **Enhanced ConvBN** (Sec. III-D) is the split-conv factory: every DSC split conv and the stem's
  ``branch1.0`` / ``branch2.0`` become a GhostNetV2 module with DFC attention
  (:class:`pose.models.ghost.EnhancedConvBN`; keys ``...conv.primary_conv.*``, ``conv.cheap_operation.*``,
  ``conv.short_conv.*``, ``bn.*``).
* **EDMC** (Sec. III-C, eq. 2-6) is the multi-scale block (:class:`EnhancedMultiScaleBlock`). Per branch b,
  with the Dite halves ``Y1, Y2``, ``A = DCM(Y2)``, ``B = DSC(A)``, ``C = GCM(B)``::

      Y1' = ReLU(cheap(Y1) + mix([A, B, C]))        out_b = shuffle2(concat[Y1', C])

  ``mix`` = 3x3 conv (3c -> c) + BN, keys ``layers.{blk}.mix.{b}.{0,1}``; ``cheap`` = depthwise 1x1 conv
  + BN, keys ``layers.{blk}.cheap.{b}.{0,1}``.

S and L differ in two convs only: the EDMC mix conv and the DFC projection conv of the Enhanced ConvBN
are depthwise / grouped in S and dense in L ("L uses normal convolutions", Sec. IV-B).

Choices where the paper is ambiguous (numbers as in ARCHITECTURE.md sec. 5.5):

1. Scope of "S depthwise, L normal": only the mix and the DFC projection change. Making every new conv
   dense overshoots L (>= 9.8 M params); making only the mix dense undershoots it (~7 M).
2. Ghost primary conv: k x k with the replaced conv's kernel and stride, groups c/2, static. Dite's DKA
   goes with the conv that the ghost module replaces ("replace the conv layer of ConvBN").
3. DFC projection: k x k like the primary conv, as GhostNetV2 mirrors it (a 1x1 puts L at 7.0 M).
4. No ReLU inside the ghost module; the outer ConvBN BN stays (ConvBN is linear).
5. Only the ``ConvBN`` s become Enhanced ConvBNs: in the stem ``branch1.0`` and ``branch2.0``, not the
   ``ConvBNReLU`` ``branch2.4``.
6. The mix takes the three sub-block outputs (eq. 3-4 and the text), not also the block input Y2
   (Fig. 3's caption could read so, but L would reach 10.8 M).
7. The mix is one 3x3 conv + BN ("a 3x3 kernel instead of a 1x1"), no pooling (the text removes it).
8. The cheap op is a depthwise 1x1 conv + BN in S and L (eq. 5 "a 1x1 convolution"; dense adds 0.2 M to S).
9. ReLU after ``cheap + mix``, as g-GhostNet's cheap path.
10. Output ``shuffle2(concat[Y1', C])``, Y1' first, like Dite's [identity, processed] merge.
11. Split ratio lambda = 1/2 (Dite's ``chunk(2)``; the paper's definition of lambda is garbled).
12. S mix pairs channels across sub-blocks: group j of the grouped conv sees (A_j, B_j, C_j), i.e. the
    input is interleaved before a conv with ``groups = c`` (weight ``[c, 3, 3, 3]``). Without the
    interleave a group would only mix neighbouring channels of one sub-block. :class:`InterleavedMix`
    runs it as the equal sum of three depthwise convs (ARCHITECTURE.md 5.4), same weight and keys.
13. DFC upsampling is nearest, as in the official GhostNetV2 code.

Resulting counts (``python main.py info --model edite_hrnet_s``): S 1,315,197 params, L 8,891,997; the
paper prints 1.3 M / 8.8 M (it truncates). Executed GMACs at 256x192 are about 0.31 (S) and 1.99 (L),
higher than the paper's 0.2 / 1.8 because the official fuse step runs ``fuse_layers[i][0]`` twice and the
paper's tool counts each module once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pose.models.dite_hrnet import (
    DiteHRNetConfig,
    DynamicMultiScaleContextBlock,
    SplitConvFactory,
    dite_hrnet,
)
from pose.models.ghost import EnhancedConvBN
from pose.models.layers import PoseModel, concat_shuffle
from pose.models.spec import ModelSpec, paper_table1

MIX_INPUTS = 3  # the DCM, DSC and GCM outputs


class InterleavedMix(nn.Conv2d):
    """EDite-S mix conv: 3x3, ``3c -> c``, ``groups = c`` over the channel-interleaved ``[A, B, C]``.

    Weight ``[c, 3, 3, 3]``: ``weight[j, t]`` filters channel j of input t (t = A, B, C), so output j
    mixes the j-th channel of every sub-block (ambiguity 12). Computed as the equal sum of three depthwise
    3x3 convs with kernels ``weight[:, t]``, which skips the interleave copy (faster on the CPU than
    interleave + grouped conv: ``python tests/benchmarks/edite_s_mix.py``).

    Forward: sequence of three (B, c, H, W) tensors -> (B, c, H, W).
    """

    def __init__(self, channels: int) -> None:
        super().__init__(MIX_INPUTS * channels, channels, 3, padding=1, groups=channels, bias=False)

    def forward(self, parts: Sequence[Tensor]) -> Tensor:  # type: ignore[override]
        a, b, c = (
            F.conv2d(part, self.weight[:, index : index + 1], padding=self.padding, groups=self.groups)
            for index, part in enumerate(parts)
        )
        return a + b + c


class DenseMix(nn.Conv2d):
    """EDite-L mix conv: dense 3x3 over ``concat[A, B, C]``, ``3c -> c``, weight ``[c, 3c, 3, 3]``.

    Forward: sequence of three (B, c, H, W) tensors -> (B, c, H, W).
    """

    def __init__(self, channels: int) -> None:
        super().__init__(MIX_INPUTS * channels, channels, 3, padding=1, bias=False)

    def forward(self, parts: Sequence[Tensor]) -> Tensor:  # type: ignore[override]
        return super().forward(torch.cat(tuple(parts), dim=1))


class EnhancedMultiScaleBlock(DynamicMultiScaleContextBlock):
    """EDMC block over all branches: Dite's DMC plus a per-branch mix and cheap op (see module docstring).

    Args:
        in_channels: branch widths C_b (even); each branch works on halves of c = C_b / 2 channels.
        split_conv: conv+BN factory for the DSC splits (the Enhanced ConvBN in EDite).
        dense: dense mix conv (L) instead of the interleaved grouped one (S).

    Forward: list of (B, C_b, H_b, W_b) -> list of the same shapes.
    """

    def __init__(self, in_channels: Sequence[int], split_conv: SplitConvFactory, dense: bool) -> None:
        super().__init__(in_channels, split_conv)
        halves = [width // 2 for width in in_channels]
        mix_conv = DenseMix if dense else InterleavedMix
        self.mix = nn.ModuleList(nn.Sequential(mix_conv(width), nn.BatchNorm2d(width)) for width in halves)
        self.cheap = nn.ModuleList(
            nn.Sequential(nn.Conv2d(width, width, 1, groups=width, bias=False), nn.BatchNorm2d(width))
            for width in halves
        )

    def forward(self, x: Sequence[Tensor]) -> list[Tensor]:
        halves = [branch.chunk(2, dim=1) for branch in x]
        dcm_outs = self.dcm([second for _, second in halves])
        outputs = []
        for (simple, _), dcm_out, dsc, gcm, mix, cheap in zip(
            halves, dcm_outs, self.conv, self.gcm, self.mix, self.cheap, strict=True
        ):
            dsc_out = dsc(dcm_out)
            gcm_out = gcm(dsc_out)
            simple = F.relu(cheap(simple) + mix((dcm_out, dsc_out, gcm_out)))
            outputs.append(concat_shuffle((simple, gcm_out)))
        return outputs


def enhanced_split_conv(dense_projection: bool) -> SplitConvFactory:
    """Split-conv factory building :class:`EnhancedConvBN`; the requested DKA kernel count is dropped
    with the conv it belonged to (ambiguity 2)."""

    def build(channels: int, kernel_size: int, stride: int, num_kernels: int) -> nn.Module:
        del num_kernels
        return EnhancedConvBN(channels, kernel_size, stride, dense_projection)

    return build


def edite_config(
    dense: bool,
    num_modules: tuple[int, ...] = (2, 4, 2),
    branch_channels: tuple[int, ...] = (40, 80, 160, 320),
    num_blocks: int = 2,
) -> DiteHRNetConfig:
    """The Dite-HRNet config with EDite's blocks: ``dense`` selects L (True) or S (False)."""
    return DiteHRNetConfig(
        num_modules=num_modules,
        branch_channels=branch_channels,
        num_blocks=num_blocks,
        split_conv=enhanced_split_conv(dense_projection=dense),
        block=partial(EnhancedMultiScaleBlock, dense=dense),
    )


VARIANTS: dict[str, Callable[[], PoseModel]] = {
    "edite_hrnet_s": partial(
        dite_hrnet,
        ModelSpec("edite_hrnet_s", paper=paper_table1(1.3, 0.2, 0.6)),
        edite_config(dense=False),
    ),
    "edite_hrnet_l": partial(
        dite_hrnet,
        ModelSpec("edite_hrnet_l", paper=paper_table1(8.8, 1.8, 4.14)),
        edite_config(dense=True),
    ),
    # Test variant: EDite-S blocks at 1/5 width, one module per stage, one block per module.
    "edite_hrnet_tiny": partial(
        dite_hrnet,
        ModelSpec("edite_hrnet_tiny"),
        edite_config(dense=False, num_modules=(1, 1, 1), branch_channels=(8, 16, 32, 64), num_blocks=1),
    ),
}
