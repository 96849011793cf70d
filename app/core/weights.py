"""The weights shipped in ``assets/weights``, found through its ``MANIFEST.json``.

The manifest lists one entry per file: ``{"file", "model", "sha256", ...}`` (the rest is the model card:
teacher, data, steps, input size, held-out AP, licence). :func:`resolve_weights` is what the app,
``main.py run`` and ``main.py eval`` call: the given file, else the shipped one, and the network input size
the file was trained at (recorded in our checkpoints' meta), so they work offline and at the right size.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pose.evaluation.score_thresholds import ScoreThresholds

WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "assets" / "weights"
MANIFEST_NAME = "MANIFEST.json"

log = logging.getLogger(__name__)


class WeightsManifestError(ValueError):
    """The manifest is malformed, or a file it lists is missing or does not match its SHA-256."""


def read_manifest(weights_dir: Path = WEIGHTS_DIR) -> list[dict[str, Any]]:
    """The manifest's entries (empty when there is no manifest).

    Raises:
        WeightsManifestError: invalid JSON, or an entry without ``file``, ``model`` and ``sha256``.
    """
    path = weights_dir / MANIFEST_NAME
    if not path.is_file():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8")).get("weights", [])
    except (json.JSONDecodeError, AttributeError) as error:
        raise WeightsManifestError(f"'{path}' is not a JSON object with a 'weights' list: {error}") from None
    for entry in entries:
        if not isinstance(entry, dict) or not {"file", "model", "sha256"} <= entry.keys():
            raise WeightsManifestError(
                f"'{path}': every entry needs 'file', 'model' and 'sha256', got {entry!r}"
            )
    return entries


def default_weights(model_name: str, weights_dir: Path = WEIGHTS_DIR) -> Path | None:
    """The shipped weights file for ``model_name``, or None if none ships.

    Raises:
        WeightsManifestError: the listed file is missing or its SHA-256 differs from the manifest's (a
            damaged or partial checkout: restore ``assets/weights``, e.g. ``git checkout assets/weights``).
    """
    from pose.models.checkpoint import file_sha256

    for entry in read_manifest(weights_dir):
        if entry["model"] != model_name:
            continue
        path = weights_dir / entry["file"]
        if not path.is_file():
            raise WeightsManifestError(f"shipped weights '{path}' are listed in {MANIFEST_NAME} but missing")
        if file_sha256(path) != entry["sha256"]:
            raise WeightsManifestError(
                f"shipped weights '{path}' do not match the SHA-256 in {MANIFEST_NAME}: "
                "restore assets/weights (git checkout assets/weights)"
            )
        log.info("using the shipped weights %s for %s", path.name, model_name)
        return path
    return None


def checkpoint_input_size(path: str | Path) -> tuple[int, int] | None:
    """The ``(height, width)`` input size recorded in a checkpoint's meta (ours; official mmpose files
    record none, and then the model's default applies)."""
    from pose.models import read_checkpoint_meta

    size = read_checkpoint_meta(path).get("input_size")
    if isinstance(size, list | tuple) and len(size) == 2:
        return int(size[0]), int(size[1])
    return None


def resolve_weights(model_name: str, weights: str | None) -> tuple[str | None, tuple[int, int] | None]:
    """``(weights file, input size)`` to build ``model_name`` with: ``weights`` if given, else the shipped
    file (None if none ships), and the input size recorded in that file (None: the model's default).

    Raises:
        WeightsManifestError: the shipped file is damaged (see :func:`default_weights`).
    """
    path = weights if weights else default_weights(model_name)
    if path is None:
        return None, None
    try:
        return str(path), checkpoint_input_size(path)
    except (OSError, RuntimeError, ValueError, AttributeError):  # unreadable: create_model says why
        return str(path), None


def calibrated_score_thresholds(path: str | os.PathLike[str] | None) -> ScoreThresholds | None:
    """The keypoint-score thresholds measured for the weights file when it was shipped (see
    :mod:`pose.evaluation.score_thresholds`), or None: no file, an unreadable one, or none recorded."""
    from pose.evaluation.score_thresholds import ScoreThresholds
    from pose.models import read_checkpoint_meta

    if path is None:
        return None
    try:
        recorded = read_checkpoint_meta(path).get(SCORE_THRESHOLDS_KEY)
        return ScoreThresholds.from_dict(recorded) if isinstance(recorded, dict) else None
    except (OSError, RuntimeError, ValueError, AttributeError):
        log.warning("cannot read the score thresholds of '%s': the defaults apply", path)
        return None


SHIPPED_META_KEYS = ("model", "input_size", "heatmap_size", "num_keypoints", "skeleton", "epoch", "iteration")
SCORE_THRESHOLDS_KEY = "score_thresholds"
"""Checkpoint meta (and manifest) key of the keypoint-score thresholds measured for the weights."""


class WeightsRegressionError(ValueError):
    """New weights score lower than the shipped file they would replace, on a set both were scored on."""


@dataclass(frozen=True)
class ScoreChange:
    """The AP of the shipped weights and of the weights that replace them, on one scored set of the card."""

    scored_set: str
    before: float
    after: float

    def __str__(self) -> str:
        return f"{self.scored_set} AP {self.before:.4f} -> {self.after:.4f}"


def score_changes(shipped: Mapping[str, Any] | None, card: Mapping[str, Any]) -> list[ScoreChange]:
    """The AP changes on the sets that both ``card`` and the ``shipped`` manifest entry were scored on.

    A scored set is a card value with an ``AP`` and the ``command`` that measured it; sets measured by other
    commands (another annotation file or image folder) are not comparable and are left out, as is
    everything when nothing is shipped under that name yet (``shipped`` None).
    """
    if shipped is None:
        return []
    changes = []
    for name, scores in card.items():
        before = shipped.get(name)
        if (isinstance(scores, Mapping) and isinstance(before, Mapping) and "AP" in scores and "AP" in before
                and scores.get("command") == before.get("command")):
            changes.append(ScoreChange(name, float(before["AP"]), float(scores["AP"])))
    return changes


def weights_origin(initial_weights: Path, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The model card of the weights a run started from: their file name and SHA-256 and, where the manifest
    ``entries`` list a file with that hash, its epochs in all, its AP on each scored set and its own origin
    (so a card traces its weights back to the first run); for a file not listed, the epochs in all it
    records, if any."""
    from pose.models.checkpoint import EPOCHS_IN_ALL_KEY, file_sha256, read_checkpoint_meta

    if not initial_weights.is_file():
        return {"file": str(initial_weights), "sha256": None}
    sha256 = file_sha256(initial_weights)
    listed = next((item for item in entries if item["sha256"] == sha256), None)
    if listed is None:
        recorded = read_checkpoint_meta(initial_weights).get(EPOCHS_IN_ALL_KEY)
        known = {EPOCHS_IN_ALL_KEY: recorded} if isinstance(recorded, int) else {}
        return {"file": initial_weights.name, "sha256": sha256, **known}
    scores = {f"{name} AP": value["AP"] for name, value in listed.items()
              if isinstance(value, Mapping) and "AP" in value}
    carried = {key: listed[key] for key in (EPOCHS_IN_ALL_KEY, "initialised_from") if key in listed}
    return {"file": listed["file"], "sha256": sha256, **scores, **carried}


def ship_weights(
    checkpoint: Path,
    file_name: str,
    card: dict[str, Any],
    score_thresholds: ScoreThresholds,
    weights_dir: Path = WEIGHTS_DIR,
    even_if_worse: bool = False,
    initial_weights: Path | None = None,
) -> tuple[dict[str, Any], list[ScoreChange]]:
    """Copy a training checkpoint into ``weights_dir`` as ``file_name`` and list it in the manifest.

    Only the state dict and the model's facts (:data:`SHIPPED_META_KEYS`) are kept, not the training config
    with its local paths, plus the ``score_thresholds`` measured for these weights, which the app reads back
    (:func:`calibrated_score_thresholds`). The manifest entry is ``file``, ``model``, ``sha256``,
    ``input_size``, ``steps``, ``score_thresholds`` and then ``card`` (teacher, data, held-out AP,
    licence...); an entry for the same file is replaced, but only by weights that score no lower on any set
    both were scored on (:func:`score_changes`), unless ``even_if_worse``. With ``initial_weights`` (what the
    run started from) the entry adds ``initialised_from`` (:func:`weights_origin`). ``epochs_in_all``, in
    the entry and the shipped file, is what the checkpoint records, else the origin's epochs in all plus
    ``epochs`` where those are known; a run from scratch has ``epochs_in_all`` = ``epochs``.

    Returns:
        The manifest entry, and the AP changes against the file it replaced.

    Raises:
        WeightsRegressionError: lower on a set than the shipped file; nothing was written.
    """
    import torch

    from pose.atomic_files import write_text_atomically
    from pose.models.checkpoint import EPOCHS_IN_ALL_KEY, file_sha256, save_atomically

    entries = read_manifest(weights_dir)
    shipped = next((item for item in entries if item["file"] == file_name), None)
    changes = score_changes(shipped, card)
    worse = [change for change in changes if change.after < change.before]
    if worse and not even_if_worse:
        raise WeightsRegressionError(
            f"not shipped: {', '.join(map(str, worse))} against the shipped '{weights_dir / file_name}'"
        )
    origin = weights_origin(initial_weights, entries) if initial_weights is not None else None
    content = torch.load(checkpoint, map_location="cpu", weights_only=True)
    meta = {key: value for key, value in content["meta"].items() if key in SHIPPED_META_KEYS}
    epochs_in_all = content["meta"].get(EPOCHS_IN_ALL_KEY)
    epochs_before = 0 if origin is None else origin.get(EPOCHS_IN_ALL_KEY)
    if epochs_in_all is None and epochs_before is not None and meta.get("epoch") is not None:
        epochs_in_all = epochs_before + meta["epoch"]
    if epochs_in_all is not None:
        meta[EPOCHS_IN_ALL_KEY] = epochs_in_all
    meta[SCORE_THRESHOLDS_KEY] = score_thresholds.to_dict()
    target = save_atomically({"state_dict": content["state_dict"], "meta": meta}, weights_dir / file_name)
    entry = {
        "file": file_name,
        "model": meta["model"],
        "sha256": file_sha256(target),
        "size_bytes": target.stat().st_size,
        "input_size": meta["input_size"],
        "steps": meta.get("iteration"),
        "epochs": meta.get("epoch"),
        SCORE_THRESHOLDS_KEY: meta[SCORE_THRESHOLDS_KEY],
        **card,
    }
    if epochs_in_all is not None:
        entry[EPOCHS_IN_ALL_KEY] = epochs_in_all
    if origin is not None:
        entry["initialised_from"] = origin
    entries = [item for item in entries if item["file"] != file_name] + [entry]
    write_text_atomically(weights_dir / MANIFEST_NAME, json.dumps({"weights": entries}, indent=2) + "\n")
    return entry, changes
