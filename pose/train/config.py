"""Training configuration: every default in one place, TOML files as small overrides.

The defaults reproduce the Dite-HRNet / EDite-HRNet COCO recipe (mmpose 0.16): EDite-HRNet-S at 256x192,
Adam 2e-3 with a 500-iteration linear warm-up and x0.1 steps at epochs 170 and 200, 270 epochs, batch 32,
flip / half-body / scale / rotation augmentation. A config file names only what differs::

    [model]
    name = "edite_hrnet_l"
    input_size = [384, 288]

Sections are ``[data]``, ``[model]``, ``[augment]``, ``[optim]`` and ``[train]``; an unknown section or key,
or a value of the wrong type, is an error that names the file, the key and what is accepted.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pose.skeleton import SKELETONS
from pose.train.photometric import PhotometricConfig

CONFIG_DIR = Path(__file__).parent / "configs"
"""The shipped configs; ``--config NAME`` finds ``CONFIG_DIR / NAME.toml``."""


@dataclass(frozen=True)
class DataConfig:
    """Where the COCO-format keypoint dataset lives and how its samples are made.

    Relative paths are joined to ``root``; a relative ``root`` is relative to the working directory.

    Attributes:
        skeleton: keypoint set of the dataset (a key of ``pose.skeleton.SKELETONS``); the model is built
            with the same one.
        root: dataset folder.
        train_annotations, train_images: training annotation json and image folder.
        val_annotations, val_images: validation annotation json and image folder.
        metric: validation metric, ``"coco"`` (OKS AP with the skeleton's sigmas) or ``"pckh"``
            (MPII PCKh@0.5, needs ``head_box`` in the validation annotations; see ``pose.train.mpii``).
    """

    skeleton: str = "coco"
    root: str = "data/coco"
    train_annotations: str = "annotations/person_keypoints_train2017.json"
    train_images: str = "train2017"
    val_annotations: str = "annotations/person_keypoints_val2017.json"
    val_images: str = "val2017"
    metric: str = "coco"

    def path(self, relative: str) -> Path:
        """``relative`` joined to ``root`` (an absolute path stays as it is)."""
        return Path(self.root) / relative


@dataclass(frozen=True)
class ModelConfig:
    """Which registered model to train.

    Attributes:
        name: registry name, e.g. ``"edite_hrnet_s"``.
        input_size: network input ``(height, width)``; the heatmap is a quarter of it and the target sigma
            follows from it (2 below 384 px, 3 from 384 px), as the model registry defines.
        weights: optional starting weights (a checkpoint path); training is from scratch when empty.
    """

    name: str = "edite_hrnet_s"
    input_size: tuple[int, int] = (256, 192)
    weights: str = ""


@dataclass(frozen=True)
class AugmentConfig:
    """Training augmentation, in the order applied (mmpose 0.16 ``TopDown*`` transforms).

    Attributes:
        center_jitter_prob, center_jitter: with this probability a box center moves by up to
            ``center_jitter`` of the box size in x and y; drawn once per sample when the dataset is built.
        flip_prob: probability of a horizontal flip (left/right keypoints swapped).
        half_body_prob: probability of cropping the upper or lower body only, for persons with more than
            ``half_body_min_joints`` visible keypoints.
        half_body_padding: padding of the half-body box (1.5, not the usual 1.25).
        scale_factor: box scale x= clip(N(0,1)*f + 1, 1-f, 1+f).
        rotation_factor, rotation_prob: with this probability rotate by clip(N(0,1)*f, -2f, 2f) degrees.
        truncation_prob: probability of cutting the person at a photo edge drawn across the body (below the
            shoulders, the waist or the knees, or beside the trunk): pixels beyond it black, keypoints beyond
            it unlabelled, the box shrunk to what is left, as for the many COCO persons that the photo cuts
            off. Instead of the half-body crop, never with it.
        occlusion_prob, colour_prob, blur_prob, noise_prob, low_resolution_prob: probabilities of each
            photometric change of the network crop, at the strengths of
            :class:`pose.train.photometric.PhotometricConfig`.

    The defaults of the last six are 0, as mmpose: a config names the ones it wants.
    """

    center_jitter_prob: float = 0.3
    center_jitter: float = 0.2
    flip_prob: float = 0.5
    half_body_prob: float = 0.3
    half_body_min_joints: int = 8
    half_body_padding: float = 1.5
    scale_factor: float = 0.25
    rotation_factor: float = 30.0
    rotation_prob: float = 0.6
    truncation_prob: float = 0.0
    occlusion_prob: float = 0.0
    colour_prob: float = 0.0
    blur_prob: float = 0.0
    noise_prob: float = 0.0
    low_resolution_prob: float = 0.0

    @property
    def photometric(self) -> PhotometricConfig | None:
        """The photometric changes of the network crop, or None when all their probabilities are 0."""
        probabilities = {
            "occlusion_prob": self.occlusion_prob, "colour_prob": self.colour_prob,
            "blur_prob": self.blur_prob, "noise_prob": self.noise_prob,
            "low_resolution_prob": self.low_resolution_prob,
        }
        return PhotometricConfig(**probabilities) if any(probabilities.values()) else None


@dataclass(frozen=True)
class OptimConfig:
    """Adam with a linear warm-up (per iteration) and step decay (per epoch), as mmcv's ``step`` policy.

    Attributes:
        lr: base learning rate.
        warmup_iters, warmup_ratio: the lr rises linearly from ``lr*ratio`` to ``lr`` over these iterations.
        milestones, gamma: the lr is multiplied by ``gamma`` at the start of each milestone epoch.
        epochs: number of training epochs.
    """

    lr: float = 2e-3
    warmup_iters: int = 500
    warmup_ratio: float = 0.001
    milestones: tuple[int, ...] = (170, 200)
    gamma: float = 0.1
    epochs: int = 270


@dataclass(frozen=True)
class RunConfig:
    """How the run is executed, logged and checkpointed.

    Attributes:
        batch_size: training images per iteration (the Dite recipe uses 32 per GPU).
        workers: DataLoader worker processes (0 loads in the main process).
        seed: seeds shuffling, augmentation and weight initialisation.
        amp: mixed precision (float16 autocast + gradient scaling); used on CUDA only.
        deterministic: ``torch.use_deterministic_algorithms`` (bit-exact reruns and resumes, slower).
        val_interval: validate every this many epochs and after the last one (0: only after the last).
        checkpoint_interval: also keep ``epoch_NNN.pt`` every this many epochs (0: keep only last / best).
        state_interval: refresh the resumable ``last.pt`` every this many epochs (0: only when the run
            stops: at the end, at ``--max-steps`` or on Ctrl-C). Saving it takes about a second.
        log_interval: write training scalars every this many iterations.
        flip_test: average with the flipped image during validation (as the paper reports).
        threads: torch intra-op threads during the run (0: torch's default, one per core), per process.
            On a CPU that other work shares, 1 keeps the step from waiting on a descheduled thread at every
            operator.
        processes: CPU processes that share every step (data-parallel, :mod:`pose.train.data_parallel`),
            each computing ``batch_size / processes`` images; 1 on a GPU. Two single-threaded processes
            make more steps per second on two cores than one process with two threads.
    """

    batch_size: int = 32
    workers: int = 4
    seed: int = 0
    amp: bool = True
    deterministic: bool = False
    val_interval: int = 10
    checkpoint_interval: int = 10
    state_interval: int = 1
    log_interval: int = 50
    flip_test: bool = True
    threads: int = 0
    processes: int = 1


@dataclass(frozen=True)
class TrainConfig:
    """A complete training run: one frozen dataclass per concern."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: RunConfig = field(default_factory=RunConfig)

    def __post_init__(self) -> None:
        if self.data.skeleton not in SKELETONS:
            known = ", ".join(SKELETONS)
            raise ConfigError(f"[data] skeleton {self.data.skeleton!r} is unknown; known: {known}")
        if self.data.metric not in ("coco", "pckh"):
            raise ConfigError(f"[data] metric {self.data.metric!r} is unknown; use 'coco' or 'pckh'")
        if self.train.batch_size < 2:
            raise ConfigError("[train] batch_size must be at least 2 (BatchNorm on pooled features needs 2)")
        for name, value in dataclasses.asdict(self.augment).items():
            if name.endswith("_prob") and not 0.0 <= value <= 1.0:
                raise ConfigError(f"[augment] {name} is a probability: give a value from 0 to 1, got {value}")
        if self.optim.epochs < 1:
            raise ConfigError("[optim] epochs must be at least 1")
        if self.train.threads < 0:
            raise ConfigError("[train] threads must be 0 (torch's default) or more")
        processes, batch = self.train.processes, self.train.batch_size
        if processes < 1 or batch % processes or batch // processes < 2:
            raise ConfigError(f"[train] processes must be 1 or more and divide batch_size ({batch}) into "
                              f"shares of 2 or more images, got {processes}")

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain nested dict (tuples as lists), e.g. to store in a checkpoint."""
        return {
            section.name: {
                key: list(value) if isinstance(value, tuple) else value
                for key, value in dataclasses.asdict(getattr(self, section.name)).items()
            }
            for section in dataclasses.fields(self)
        }


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message says which key and why."""


def resolve_config_path(name_or_path: str | Path) -> Path:
    """A config file path, or the shipped config of that name (with or without ``.toml``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = CONFIG_DIR / (path.name if path.suffix == ".toml" else f"{path.name}.toml")
    if path.parent == Path(".") and shipped.is_file():
        return shipped
    known = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.toml")))
    raise ConfigError(f"config {str(name_or_path)!r} not found: give a TOML file or one of: {known}")


def load_config(path: str | Path | None, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """Defaults, updated by the TOML file at ``path`` (if any), then by ``overrides``.

    Args:
        path: a TOML file, the name of a shipped config, or a run's saved ``config.json`` (what a resumed
            run continues with); ``None`` for the defaults.
        overrides: ``{"section.key": value}`` applied last (e.g. from ``--set train.batch_size=8``).

    Raises:
        ConfigError: unreadable TOML, unknown section or key, or a value of the wrong type.
    """
    tables: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        resolved = resolve_config_path(path)
        source = str(resolved)
        tables = _read_tables(resolved)
    config = _merge(TrainConfig(), tables, source)
    if overrides:
        nested: dict[str, dict[str, Any]] = {}
        for dotted, value in overrides.items():
            section, _, key = dotted.partition(".")
            if not key:
                raise ConfigError(f"override {dotted!r} must look like SECTION.KEY, e.g. train.batch_size")
            nested.setdefault(section, {})[key] = value
        config = _merge(config, nested, "overrides")
    return config


def _read_tables(path: Path) -> dict[str, Any]:
    """The sections of a TOML config, or of a run's saved JSON config."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            tables = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path}: not valid JSON: {error}") from None
        if not isinstance(tables, dict):
            raise ConfigError(f"{path}: a run's config is a JSON object of sections, as its config.json is")
        return tables
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def parse_override(text: str) -> tuple[str, Any]:
    """``"train.batch_size=8"`` -> ``("train.batch_size", 8)``; the value is parsed as TOML, else a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {text!r} must look like SECTION.KEY=VALUE, e.g. train.batch_size=8")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.strip(), value


def _merge(config: TrainConfig, tables: Mapping[str, Any], source: str) -> TrainConfig:
    sections = {f.name: f for f in dataclasses.fields(config)}
    updates: dict[str, Any] = {}
    for name, table in tables.items():
        if name not in sections:
            raise ConfigError(f"{source}: unknown section [{name}]; known sections: {', '.join(sections)}")
        if not isinstance(table, Mapping):
            raise ConfigError(f"{source}: [{name}] must be a table of keys, got {table!r}")
        updates[name] = _merge_section(getattr(config, name), table, f"{source}: [{name}]")
    try:
        return dataclasses.replace(config, **updates)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


def _merge_section(section: Any, table: Mapping[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(type(section))
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in hints:
            raise ConfigError(f"{where} unknown key {key!r}; known keys: {', '.join(hints)}")
        values[key] = _coerce(value, hints[key], f"{where} {key}")
    return dataclasses.replace(section, **values)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """``value`` checked against the annotation ``hint`` (bool, int, float, str, or a tuple of those)."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(item, args[0], where) for item in value)
        if len(value) != len(args):
            raise ConfigError(f"{where} must be a list of {len(args)} values, got {value!r}")
        return tuple(_coerce(item, arg, where) for item, arg in zip(value, args, strict=True))
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, hint)
    if not ok:
        raise ConfigError(f"{where} must be {hint.__name__}, got {value!r}")
    return value
