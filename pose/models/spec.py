"""Model-intrinsic facts that travel with every pose model (``model.spec``).

The estimator, the codec, training and the app read input size, heatmap size, normalisation and the
keypoint set from here, never from user flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pose.skeleton import COCO, Skeleton

IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
MIN_INPUT_SIDE = 64
"""The smallest input side: EDite-HRNet's ghost attention halves each map it sees (``pose.models.ghost``), and
the smallest branch's map is input / 32, so it needs 2 pixels."""


@dataclass(frozen=True)
class PaperFigures:
    """Complexity as a paper prints it (truncated decimals) at one input size, shown beside our counts."""

    params_m: float
    gflops: float
    source: str
    input_size: tuple[int, int] = (256, 192)


def paper_table1(
    params_m: float, gflops_256x192: float, gflops_384x288: float
) -> tuple[PaperFigures, ...]:
    """A model's rows of the EDite-HRNet paper's Table 1 (COCO val) at its two input sizes."""
    source = "EDite-HRNet paper, Table 1 (COCO val)"
    return (
        PaperFigures(params_m, gflops_256x192, source, (256, 192)),
        PaperFigures(params_m, gflops_384x288, source, (384, 288)),
    )


@dataclass(frozen=True)
class ModelSpec:
    """What a heatmap pose model expects and produces.

    Attributes:
        name: registry name, e.g. ``"edite_hrnet_s"``.
        input_size: network input ``(height, width)`` in pixels, e.g. ``(256, 192)``.
        heatmap_size: output heatmap ``(height, width)``; input / 4 for every model here.
        mean, std: per-channel RGB normalisation on [0, 1] pixel values.
        skeleton: the keypoint set; its size is the number of output channels.
        sigma: Gaussian target sigma in heatmap pixels (2 at 256x192, 3 at 384x288).
        paper: figures the paper prints for this model, one entry per input size it reports.
    """

    name: str
    input_size: tuple[int, int] = (256, 192)
    heatmap_size: tuple[int, int] = (64, 48)
    mean: tuple[float, float, float] = IMAGENET_MEAN_RGB
    std: tuple[float, float, float] = IMAGENET_STD_RGB
    skeleton: Skeleton = field(default=COCO)
    sigma: float = 2.0
    paper: tuple[PaperFigures, ...] = ()

    @property
    def num_keypoints(self) -> int:
        return self.skeleton.num_keypoints

    @property
    def stride(self) -> float:
        """Input pixels per heatmap pixel (4.0 for every model here)."""
        return self.input_size[1] / self.heatmap_size[1]

    @property
    def aspect_ratio(self) -> float:
        """Input width / height: 0.75 for 256x192."""
        return self.input_size[1] / self.input_size[0]

    def paper_at(self, input_size: tuple[int, int] | None = None) -> PaperFigures | None:
        """The paper's figures at ``input_size`` (default: this spec's), or None if it reports none."""
        wanted = tuple(input_size or self.input_size)
        return next((figures for figures in self.paper if figures.input_size == wanted), None)

    def at_input_size(self, height: int, width: int) -> ModelSpec:
        """The same model run at another input size (heatmap stays at input / 4); a ValueError unless both
        sides are multiples of 32 and at least :data:`MIN_INPUT_SIDE`."""
        if height % 32 or width % 32 or min(height, width) < MIN_INPUT_SIDE:
            raise ValueError(f"input size {height}x{width} must be a multiple of 32 in both dimensions, "
                             f"each at least {MIN_INPUT_SIDE}")
        sigma = 3.0 if height >= 384 else 2.0
        return replace(self, input_size=(height, width), heatmap_size=(height // 4, width // 4), sigma=sigma)
