"""Saving and loading pose-model weights: our checkpoints and official mmpose/mmcv ``.pth`` files.

Both are ``{'state_dict': {'backbone.*', 'keypoint_head.*'}, 'meta': {...}}``, so one code path loads
them; a bare state dict and a ``module.`` (DataParallel) prefix are accepted too. Files are always
read with ``torch.load(..., weights_only=True)``: nothing but tensors and plain data is unpickled.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

from pose.atomic_files import write_atomically

logger = logging.getLogger(__name__)

_SHOWN_KEYS = 5
_DATA_PARALLEL_PREFIX = "module."
EPOCHS_IN_ALL_KEY = "epochs_in_all"
"""Meta key: the epochs these weights were trained in all runs, those of the weights a run started from
included (written by training and kept by shipping; absent where unknown)."""


class CheckpointError(ValueError):
    """A file that cannot be used as weights for the model at hand."""


class CheckpointMismatchError(CheckpointError):
    """The file's tensors do not fit the model: names missing or unexpected, or shapes differ.

    Attributes:
        path: the checkpoint file.
        missing: model keys absent from the file.
        unexpected: file keys the model does not have.
        mismatched: ``(key, file_shape, model_shape)`` for keys present in both with different shapes.
    """

    def __init__(
        self,
        path: Path,
        missing: list[str],
        unexpected: list[str],
        mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]],
        model_name: str,
    ) -> None:
        self.path = path
        self.missing = missing
        self.unexpected = unexpected
        self.mismatched = mismatched
        problems = []
        if missing:
            problems.append(f"{len(missing)} missing keys ({_first(missing)})")
        if unexpected:
            problems.append(f"{len(unexpected)} unexpected keys ({_first(unexpected)})")
        if mismatched:
            shapes = [f"{key}: file {list(got)} vs model {list(want)}" for key, got, want in mismatched]
            problems.append(f"{len(mismatched)} shape mismatches ({_first(shapes)})")
        super().__init__(
            f"checkpoint '{path}' does not fit model '{model_name}': {'; '.join(problems)}. "
            "Check that the model name matches the checkpoint."
        )


def _first(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN_KEYS])
    return shown if len(items) <= _SHOWN_KEYS else f"{shown}, ... and {len(items) - _SHOWN_KEYS} more"


def _read(path: Path) -> object:
    if not path.is_file():
        raise FileNotFoundError(f"cannot load weights '{path}': no such file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except OSError:
        raise
    except Exception as exc:  # the unpickler fails on foreign bytes with many exception types
        raise CheckpointError(
            f"cannot load weights '{path}': not a PyTorch checkpoint of tensors and plain data "
            f"({type(exc).__name__}: {exc})"
        ) from exc


def _state_dict_of(content: object, path: Path) -> tuple[dict[str, Tensor], dict]:
    """(state dict without a ``module.`` prefix, meta) from a loaded checkpoint object."""
    meta: dict = {}
    state = content
    if isinstance(content, Mapping) and "state_dict" in content:
        state = content["state_dict"]
        meta = dict(content.get("meta") or {})
    if not (isinstance(state, Mapping) and state and all(isinstance(v, Tensor) for v in state.values())):
        raise CheckpointError(
            f"cannot load weights '{path}': expected a state dict of tensors, or a dict with one under "
            f"'state_dict'; found {type(content).__name__}"
        )
    if all(key.startswith(_DATA_PARALLEL_PREFIX) for key in state):
        state = {key.removeprefix(_DATA_PARALLEL_PREFIX): value for key, value in state.items()}
    return dict(state), meta


def load_weights(model: nn.Module, path: str | os.PathLike[str]) -> dict:
    """Load a checkpoint into ``model`` strictly and return the file's ``meta`` dict (empty if none).

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: not a readable checkpoint of tensors.
        CheckpointMismatchError: the tensors do not fit the model (names the keys). The model is left
            unchanged.
    """
    path = Path(path)
    state, meta = _state_dict_of(_read(path), path)
    expected = model.state_dict()
    missing = [key for key in expected if key not in state and not key.endswith("num_batches_tracked")]
    unexpected = [key for key in state if key not in expected]
    mismatched = [
        (key, tuple(state[key].shape), tuple(value.shape))
        for key, value in expected.items()
        if key in state and state[key].shape != value.shape
    ]
    model_name = getattr(getattr(model, "spec", None), "name", type(model).__name__)
    if missing or unexpected or mismatched:
        raise CheckpointMismatchError(path, missing, unexpected, mismatched, model_name)
    if meta.get("model", model_name) != model_name:
        logger.warning("checkpoint '%s' is from '%s', loading into '%s'", path, meta["model"], model_name)
    model.load_state_dict(state, strict=True)
    return meta


def read_checkpoint_meta(path: str | os.PathLike[str]) -> dict:
    """The ``meta`` dict a checkpoint records (model, input size, keypoint set...; empty if none).

    Raises the same errors as :func:`load_weights` for a missing or unusable file.
    """
    path = Path(path)
    return _state_dict_of(_read(path), path)[1]


def save_checkpoint(model: nn.Module, path: str | os.PathLike[str], meta: Mapping | None = None) -> Path:
    """Write ``{'state_dict', 'meta'}`` (the mmcv layout) atomically; return the path.

    ``meta`` records the model name, input and heatmap sizes (h, w) and keypoint count from
    ``model.spec``, updated with ``meta`` (plain Python data only, so that ``weights_only`` loading
    reads it back).
    """
    path = Path(path)
    spec = model.spec
    record = {
        "model": spec.name,
        "input_size": list(spec.input_size),
        "heatmap_size": list(spec.heatmap_size),
        "num_keypoints": spec.num_keypoints,
        **(meta or {}),
    }
    state = {key: value.detach().cpu() for key, value in model.state_dict().items()}
    return save_atomically({"state_dict": state, "meta": record}, path)


def save_atomically(content: Mapping, path: str | os.PathLike[str]) -> Path:
    """``torch.save`` of ``content`` to ``path``, whole or not at all (:mod:`pose.atomic_files`)."""
    return write_atomically(path, lambda partial: torch.save(content, partial))


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes (recorded with results, and in asset manifests)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
