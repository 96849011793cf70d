"""The multi-resolution skeleton shared by Lite-HRNet and Dite-HRNet (and EDite-HRNet on top of Dite).

Both official backbones are a stem, then three stages of modules, each module being two blocks over
all branches followed by a fuse step, with depthwise-separable transitions between stages and an
IterativeHead that folds the branches back to the highest resolution. Only the stem, the block and
one detail of the fuse step differ per family; they are passed in.

Attribute names (``stem``, ``transition{i}``, ``stage{i}``, ``head_layer``, ``layers``,
``fuse_layers``, ``projects``) and the ``nn.Sequential`` indices equal the official code's, so the
state-dict keys match the mmpose checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from pose.models.layers import DepthwiseSeparableConvModule

BlockFactory = Callable[[tuple[int, ...]], nn.Module]
"""Branch widths -> a block mapping a list of (B, C_b, H_b, W_b) tensors to a list of the same shapes."""


def _depthwise_separable_step(in_channels: int, out_channels: int, stride: int, relu: bool) -> nn.Sequential:
    """[0] DW 3x3 (stride) -> [1] BN -> [2] 1x1 -> [3] BN (-> [4] ReLU): a transition / downsampling unit."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, in_channels, 3, stride, 1, groups=in_channels, bias=False),
        nn.BatchNorm2d(in_channels),
        nn.Conv2d(in_channels, out_channels, 1, bias=False),
        nn.BatchNorm2d(out_channels),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def make_transition(previous: Sequence[int], current: Sequence[int]) -> nn.ModuleList:
    """Per branch of the new stage: ``None`` (unchanged), a stride-1 width change, or, for a new branch,
    a ``Sequential`` of stride-2 steps from the previous stage's last branch."""
    layers: list[nn.Module | None] = []
    for index, channels in enumerate(current):
        if index < len(previous):
            changed = channels != previous[index]
            layers.append(_depthwise_separable_step(previous[index], channels, 1, True) if changed else None)
            continue
        source = previous[-1]
        steps = index + 1 - len(previous)
        layers.append(
            nn.Sequential(
                *(
                    _depthwise_separable_step(source, channels if step == steps - 1 else source, 2, True)
                    for step in range(steps)
                )
            )
        )
    return nn.ModuleList(layers)


def make_fuse_layers(channels: Sequence[int]) -> nn.ModuleList:
    """HRNet fuse paths ``fuse_layers[i][j]`` from branch j to branch i.

    j > i: 1x1 conv + BN + nearest upsample by 2^(j-i); j == i: ``None``; j < i: (i-j) stride-2
    depthwise-separable steps, ReLU after every step but the last, width changing on the last.
    """
    rows = []
    for i, out_channels in enumerate(channels):
        row: list[nn.Module | None] = []
        for j, in_channels in enumerate(channels):
            if j > i:
                row.append(
                    nn.Sequential(
                        nn.Conv2d(in_channels, out_channels, 1, bias=False),
                        nn.BatchNorm2d(out_channels),
                        nn.Upsample(scale_factor=2 ** (j - i), mode="nearest"),
                    )
                )
            elif j == i:
                row.append(None)
            else:
                row.append(
                    nn.Sequential(
                        *(
                            _depthwise_separable_step(
                                in_channels, out_channels if k == i - j - 1 else in_channels, 2, k < i - j - 1
                            )
                            for k in range(i - j)
                        )
                    )
                )
        rows.append(nn.ModuleList(row))
    return nn.ModuleList(rows)


class MultiResolutionModule(nn.Module):
    """Blocks over all branches, then the official (quirky) fuse step.

    The official forward starts the sum for output 0 from ``out[0]`` itself and adds every input
    including j = 0 in place, and the sum for output i >= 1 from ``fuse_layers[i][0](out[0])`` plus
    every input including j = 0 again. With o = block outputs and F = fuse paths this computes

        s0    = 2*o0 + sum_{j>=1} F[0][j](o_j),              out_0 = relu(s0)
        out_i = relu(2*F[i][0](z) + o_i + sum_{j>=1, j!=i} F[i][j](o_j))   for i >= 1,

    where z = relu(s0) in Dite-HRNet (its in-place ReLU overwrites ``out[0]``) and z = s0 in
    Lite-HRNet. ``F[i][0](z)`` is evaluated twice, as in the official code, so the executed
    multiply-adds and the BatchNorm running statistics in training follow it too.

    Args:
        blocks: the ``layers`` (a Sequential of blocks, list of tensors in and out).
        channels: branch widths.
        fuse_from_activated: True for Dite-HRNet (z = relu(s0)), False for Lite-HRNet (z = s0).
    """

    def __init__(self, blocks: nn.Sequential, channels: Sequence[int], fuse_from_activated: bool) -> None:
        super().__init__()
        if len(channels) < 2:
            raise ValueError(f"a multi-resolution module needs at least 2 branches, got widths {channels}")
        self.layers = blocks
        self.fuse_layers = make_fuse_layers(channels)
        self.relu = nn.ReLU()
        self.fuse_from_activated = fuse_from_activated

    def forward(self, x: list[Tensor]) -> list[Tensor]:
        out = self.layers(x)
        s0 = out[0] + out[0]
        for j in range(1, len(out)):
            s0 = s0 + self.fuse_layers[0][j](out[j])
        fused = [self.relu(s0)]
        cross_input = fused[0] if self.fuse_from_activated else s0
        for i in range(1, len(out)):
            y = self.fuse_layers[i][0](cross_input) + self.fuse_layers[i][0](cross_input)
            for j in range(1, len(out)):
                y = y + (out[j] if j == i else self.fuse_layers[i][j](out[j]))
            fused.append(self.relu(y))
        return fused


class IterativeHead(nn.Module):
    """Folds the branches top-down: from the lowest resolution, add the bilinearly upsampled
    (align_corners=True) previous result and apply a depthwise-separable conv that narrows to the
    next branch's width (the last keeps its width). Returns the list in branch order; element 0 is
    (B, C_0, H_0, W_0)."""

    def __init__(self, channels: Sequence[int]) -> None:
        super().__init__()
        widths = list(channels)[::-1]
        self.projects = nn.ModuleList(
            DepthwiseSeparableConvModule(width, widths[min(index + 1, len(widths) - 1)])
            for index, width in enumerate(widths)
        )

    def forward(self, x: Sequence[Tensor]) -> list[Tensor]:
        outputs: list[Tensor] = []
        previous: Tensor | None = None
        for branch, project in zip(reversed(x), self.projects, strict=True):
            if previous is not None:
                size = branch.shape[-2:]
                branch = branch + F.interpolate(previous, size=size, mode="bilinear", align_corners=True)
            previous = project(branch)
            outputs.append(previous)
        return outputs[::-1]


class HRNetBackbone(nn.Module):
    """Stem -> (transition{i}, stage{i}) for each stage -> IterativeHead ``head_layer``.

    (B, 3, H, W) -> (B, stage_channels[-1][0], H/4, W/4) features of the highest-resolution branch.

    Args:
        stem: (B, 3, H, W) -> (B, stem_channels, H/4, W/4).
        stem_channels: width of the stem output.
        stage_channels: branch widths per stage, e.g. ((40, 80), (40, 80, 160), (40, 80, 160, 320)).
        num_modules: modules per stage.
        num_blocks: blocks per module.
        block: builds one block from the branch widths.
        fuse_from_activated: see :class:`MultiResolutionModule`.
    """

    def __init__(
        self,
        stem: nn.Module,
        stem_channels: int,
        stage_channels: Sequence[tuple[int, ...]],
        num_modules: Sequence[int],
        num_blocks: int,
        block: BlockFactory,
        fuse_from_activated: bool,
    ) -> None:
        super().__init__()
        if len(stage_channels) != len(num_modules):
            raise ValueError(f"{len(stage_channels)} stage widths for {len(num_modules)} module counts")
        self.stem = stem
        self.num_stages = len(stage_channels)
        previous: tuple[int, ...] = (stem_channels,)
        for index, (channels, modules) in enumerate(zip(stage_channels, num_modules, strict=True)):
            setattr(self, f"transition{index}", make_transition(previous, channels))
            stage = nn.Sequential(
                *(
                    MultiResolutionModule(
                        nn.Sequential(*(block(channels) for _ in range(num_blocks))),
                        channels,
                        fuse_from_activated,
                    )
                    for _ in range(modules)
                )
            )
            setattr(self, f"stage{index}", stage)
            previous = channels
        self.head_layer = IterativeHead(previous)

    def forward(self, x: Tensor) -> Tensor:
        branches = [self.stem(x)]
        for index in range(self.num_stages):
            transition: nn.ModuleList = getattr(self, f"transition{index}")
            inputs = []
            for j, layer in enumerate(transition):
                if layer is None:
                    inputs.append(branches[j])
                else:
                    inputs.append(layer(branches[min(j, len(branches) - 1)]))
            branches = getattr(self, f"stage{index}")(inputs)
        return self.head_layer(branches)[0]
