"""What the controls can offer on this machine: pose models (and whether trained weights exist), CUDA.

Qt-free, and imported lazily: asking imports torch and the model registry, so the window calls it from the
worker thread and shows itself first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.config import PipelineConfig

WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "assets" / "weights"
"""Where shipped weights live; a file named ``<model name>*.pth`` (or ``.pt``) there is a model's default."""
WEIGHTS_SUFFIXES = (".pth", ".pt")

_FAMILY_LABELS = {"edite_hrnet": "EDite-HRNet", "dite_hrnet": "Dite-HRNet", "lite_hrnet": "Lite-HRNet"}
_ORDER = (
    "edite_hrnet_s", "edite_hrnet_l", "dite_hrnet_18", "dite_hrnet_30", "lite_hrnet_18", "lite_hrnet_30",
)
"""Models listed first, in this order (the paper's models, then the baselines); others follow by name."""


@dataclass(frozen=True)
class ModelChoice:
    """One entry of the model list.

    Attributes:
        name: registry name, e.g. ``"edite_hrnet_s"``.
        label: what the user reads, e.g. ``"EDite-HRNet-S"``.
        default_weights: the shipped weights file, or None when the model has no trained weights
            (it then runs with random weights unless the user picks a file).
    """

    name: str
    label: str
    default_weights: Path | None

    @property
    def trained(self) -> bool:
        return self.default_weights is not None


@dataclass(frozen=True)
class Capabilities:
    """What this machine offers: the models, and whether a CUDA device is usable."""

    models: tuple[ModelChoice, ...]
    cuda_available: bool


def model_label(name: str) -> str:
    """``"edite_hrnet_s"`` -> ``"EDite-HRNet-S"``, ``"dite_hrnet_18"`` -> ``"Dite-HRNet-18"``."""
    for family, label in _FAMILY_LABELS.items():
        prefix = f"{family}_"
        if name.startswith(prefix):
            variant = name[len(prefix):]
            return f"{label}-{variant.upper() if len(variant) == 1 else variant}"
    return name


def default_weights(name: str, weights_dir: Path = WEIGHTS_DIR) -> Path | None:
    """The first weights file in ``weights_dir`` whose name starts with ``name`` (sorted), or None."""
    if not weights_dir.is_dir():
        return None
    candidates = sorted(
        path for path in weights_dir.iterdir()
        if path.suffix in WEIGHTS_SUFFIXES and path.stem.startswith(name)
        and not path.stem[len(name):][:1].isalnum()  # "edite_hrnet_s" must not claim "edite_hrnet_s2"
    )
    return candidates[0] if candidates else None


def sort_key(name: str) -> tuple[int, str]:
    return (_ORDER.index(name) if name in _ORDER else len(_ORDER), name)


def probe_capabilities(weights_dir: Path = WEIGHTS_DIR) -> Capabilities:
    """Every registered model with its default weights, and CUDA availability (imports torch)."""
    import torch

    from pose.models import list_models

    models = tuple(
        ModelChoice(name, model_label(name), default_weights(name, weights_dir))
        for name in sorted(list_models(), key=sort_key)
    )
    return Capabilities(models=models, cuda_available=torch.cuda.is_available())


def with_default_weights(config: PipelineConfig, capabilities: Capabilities | None) -> PipelineConfig:
    """``config`` with the model's shipped weights filled in when the user chose no weights file."""
    if config.model.weights or capabilities is None:
        return config
    choice = next((model for model in capabilities.models if model.name == config.model.name), None)
    if choice is None or choice.default_weights is None:
        return config
    return replace(config, model=replace(config.model, weights=str(choice.default_weights)))
