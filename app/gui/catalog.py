"""What the controls can offer on this machine: pose models (and whether trained weights exist), CUDA.

The shipped weights come from the one resolver the CLI uses (:mod:`app.core.weights`: listed in
``assets/weights/MANIFEST.json`` and matching its SHA-256); a file merely lying in that folder is not
offered. Qt-free, and imported lazily: asking imports torch and the model registry, so the window calls it
from the worker thread and shows itself first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.weights import WEIGHTS_DIR, WeightsManifestError, default_weights

if TYPE_CHECKING:
    from app.core.config import PipelineConfig

log = logging.getLogger(__name__)

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
        problem: why the listed shipped weights cannot be used (missing or damaged file), else None.
    """

    name: str
    label: str
    default_weights: Path | None
    problem: str | None = None

    @property
    def trained(self) -> bool:
        return self.default_weights is not None

    @property
    def hint(self) -> str:
        """One line for the model list's tooltip: the weights file, what is wrong with it, or how to train."""
        if self.default_weights is not None:
            return str(self.default_weights)
        return self.problem or "random weights: choose a file"


@dataclass(frozen=True)
class Capabilities:
    """What this machine and launch offer: the models, whether a CUDA device is usable, and whether the
    app was started with ``--trust-weights`` (detector pickles that are no official release may load)."""

    models: tuple[ModelChoice, ...]
    cuda_available: bool
    trust_weights: bool = False


def model_label(name: str) -> str:
    """``"edite_hrnet_s"`` -> ``"EDite-HRNet-S"``, ``"dite_hrnet_18"`` -> ``"Dite-HRNet-18"``."""
    for family, label in _FAMILY_LABELS.items():
        prefix = f"{family}_"
        if name.startswith(prefix):
            variant = name[len(prefix):]
            return f"{label}-{variant.upper() if len(variant) == 1 else variant}"
    return name


def model_choice(name: str, weights_dir: Path = WEIGHTS_DIR) -> ModelChoice:
    """``name`` with its shipped weights (hash-checked); a damaged file is named in ``problem``."""
    try:
        return ModelChoice(name, model_label(name), default_weights(name, weights_dir))
    except WeightsManifestError as error:
        log.warning("%s", error)
        return ModelChoice(name, model_label(name), None, problem=str(error))


def sort_key(name: str) -> tuple[int, str]:
    return (_ORDER.index(name) if name in _ORDER else len(_ORDER), name)


def probe_capabilities(weights_dir: Path = WEIGHTS_DIR, trust_weights: bool = False) -> Capabilities:
    """Every registered model with its shipped weights, CUDA availability (imports torch), and the launch's
    ``--trust-weights``."""
    import torch

    from pose.models import list_models

    models = tuple(model_choice(name, weights_dir) for name in sorted(list_models(), key=sort_key))
    return Capabilities(models=models, cuda_available=torch.cuda.is_available(), trust_weights=trust_weights)


def as_launched(config: PipelineConfig, capabilities: Capabilities | None) -> PipelineConfig:
    """``config`` as this launch runs it: the model's shipped weights filled in when the user chose no
    weights file, and detector-weights trust as given on the command line (never from saved settings)."""
    if capabilities is None:
        return config
    trust = capabilities.trust_weights
    config = replace(config, detector=replace(config.detector, trust_weights=trust))
    if config.model.weights:
        return config
    choice = next((model for model in capabilities.models if model.name == config.model.name), None)
    if choice is None or choice.default_weights is None:
        return config
    return replace(config, model=replace(config.model, weights=str(choice.default_weights)))
