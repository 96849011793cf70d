"""The fastest accurate CPU runtime for a pose model on this machine, timed once and cached.

The winner depends on the CPU (README "Per-machine runtime choice": OpenVINO in bfloat16 wins by far on an
Intel Xeon with AMX, by little on an AMD EPYC), so
:func:`autotune` times every available runtime (:func:`candidate_runtimes`) on real crops and keeps the
fastest that passes the accuracy guard. The result is cached in ``runtime-choice.json`` beside the ONNX
exports, keyed by the CPU model, the thread count, the library versions, the weights' hash, the input size
and the export graph's version (:func:`machine_key`); any change runs the trials again.

Timing: each runtime runs the calibration batch (the people of ``tests/data/coco_tiny`` and their mirror
images, as the estimator's flip does) and its first two crops (one person with flip); the score is the
median milliseconds of both batches together divided by their crops. ONNX Runtime's INT8 quantisation is
not a candidate: OpenVINO bfloat16 beat it on both CPUs measured, and it needs calibration data per weights.

Accuracy guard (:data:`TOLERANCE`): keypoints decoded from each runtime's heatmaps are compared with those
of the float32 torch model on the same crops; a runtime is rejected when more than 5 % of the keypoints
that the float32 model is confident about (score >= 0.2) move by more than 0.5 heatmap pixel. Without any
confident keypoint (random weights), the heatmaps must agree within 5 % of their largest value.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import statistics
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from pose.codecs import decode_heatmaps
from pose.models.fold import EXPORT_GRAPH_VERSION
from pose.runtime import Forward, build_forward, cache_dir, onnx_available, weights_digest
from pose.runtime_openvino import openvino_available
from pose.transforms import PADDING, box_to_center_size, crop_matrices, normalize_crops, warp_crops

logger = logging.getLogger(__name__)

CALIBRATION_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "coco_tiny"
"""COCO-format folder (``person_keypoints.json`` + images) whose person boxes give the calibration crops."""
CACHE_NAME = "runtime-choice.json"
CACHE_KEEP = 16
"""Choices kept in the cache file (the most recent)."""
REPEATS = 5
_clock = time.perf_counter  # tests inject a fake clock
GIVE_UP_FACTOR = 3.0
"""A runtime whose first timed call is this many times slower per crop than the best so far is not timed
further (torch on the CPU, typically)."""


@dataclass(frozen=True)
class Tolerance:
    """The accuracy guard: see the module docstring."""

    moved_px: float = 0.5
    max_moved_share: float = 0.05
    min_score: float = 0.2
    heatmap_relative: float = 0.05


TOLERANCE = Tolerance()
Builder = Callable[[nn.Module, str], Forward]
"""(model, runtime name) -> forward pass on ``(B, 3, H, W)`` float32 crops."""


@dataclass(frozen=True)
class Trial:
    """One runtime's result: ``ms_per_crop`` (None: could not be built or timed), the accuracy guard's
    ``error`` (share of confident keypoints moved, or relative heatmap difference) and verdict."""

    runtime: str
    ms_per_crop: float | None
    error: float | None
    accepted: bool
    note: str = ""


@dataclass(frozen=True)
class Choice:
    """The runtime picked for this machine, its ms per crop, every trial, and whether it was cached."""

    runtime: str
    ms_per_crop: float
    trials: tuple[Trial, ...]
    cached: bool


def candidate_runtimes() -> list[str]:
    """CPU runtimes installed here, the most likely winners first."""
    names = ["onnx"] if onnx_available() else []
    if openvino_available():
        names += ["openvino-bf16", "openvino"]
    return [*names, "torch"]


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else the platform's processor or machine name."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for package in ("torch", "onnxruntime", "openvino"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def machine_key(model: nn.Module) -> dict[str, object]:
    """Everything a cached choice depends on: CPU, threads, library versions, weights, input size, graph."""
    height, width = model.spec.input_size
    return {
        "cpu": cpu_name(),
        "threads": torch.get_num_threads(),
        "versions": _versions(),
        "model": model.spec.name,
        "weights": weights_digest(model),
        "input": f"{height}x{width}",
        "graph": EXPORT_GRAPH_VERSION,
    }


def key_digest(key: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]


def pick(trials: list[Trial] | tuple[Trial, ...]) -> Trial:
    """The fastest accepted trial; a ValueError naming every rejection when none was accepted."""
    accepted = [trial for trial in trials if trial.accepted and trial.ms_per_crop is not None]
    if not accepted:
        reasons = "; ".join(f"{trial.runtime}: {trial.note}" for trial in trials)
        raise ValueError(f"no pose runtime passed the trials ({reasons}); force one with --runtime")
    return min(accepted, key=lambda trial: trial.ms_per_crop)


def read_choice(path: Path, digest: str) -> Choice | None:
    """The cached choice for ``digest`` in ``path``, or None (no file, no entry, or an unreadable file)."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))["choices"][digest]
        trials = tuple(Trial(**trial) for trial in entry["trials"])
        return Choice(entry["runtime"], float(entry["ms_per_crop"]), trials, cached=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_choice(path: Path, digest: str, key: dict[str, object], choice: Choice) -> None:
    """Store ``choice`` under ``digest`` (with its readable ``key``); the newest :data:`CACHE_KEEP` stay."""
    try:
        choices = json.loads(path.read_text(encoding="utf-8"))["choices"]
    except (OSError, ValueError, KeyError):
        choices = {}
    choices.pop(digest, None)
    choices[digest] = {"key": key, "runtime": choice.runtime, "ms_per_crop": choice.ms_per_crop,
                       "trials": [asdict(trial) for trial in choice.trials], "written": time.time()}
    newest = dict(list(choices.items())[-CACHE_KEEP:])
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"choices": newest}, indent=1), encoding="utf-8")
    temporary.replace(path)


def calibration_crops(spec, folder: Path = CALIBRATION_SET) -> np.ndarray:
    """``(2N, 3, H, W)`` float32 network inputs: the N annotated people of ``folder`` cropped as the estimator
    crops them, then their mirror images. A ValueError when the folder has no person boxes."""
    annotations_file = folder / "person_keypoints.json"
    try:
        data = json.loads(annotations_file.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"cannot read the calibration set {annotations_file}: {error.strerror}") from error
    files = {image["id"]: folder / image["file_name"] for image in data["images"]}
    crops = []
    for annotation in data["annotations"]:
        image = cv2.imread(str(files[annotation["image_id"]]))
        if image is None:
            raise ValueError(f"cannot read calibration image {files[annotation['image_id']]}")
        x, y, w, h = annotation["bbox"]
        centers, sizes = box_to_center_size(np.array([[x, y, x + w, y + h]]), spec.aspect_ratio, PADDING)
        crops.append(warp_crops(image, crop_matrices(centers, sizes, spec.input_size), spec.input_size)[0])
    if not crops:
        raise ValueError(f"the calibration set {annotations_file} has no person boxes")
    people = np.stack(crops)
    return normalize_crops(np.concatenate([people, people[:, :, ::-1]]), spec.mean, spec.std)


def guard_error(reference: np.ndarray, heatmaps: np.ndarray, tolerance: Tolerance = TOLERANCE) -> float:
    """The accuracy guard's measure, ``<= 1`` to pass: the share of confident keypoints moved by more than
    ``moved_px`` over ``max_moved_share``; without confident keypoints, the largest heatmap difference
    relative to the largest reference value over ``heatmap_relative``. (N, K, h, w) heatmaps in."""
    coords, scores = decode_heatmaps(reference)
    confident = scores >= tolerance.min_score
    if not confident.any():
        scale = max(float(np.abs(reference).max()), 1e-12)
        return float(np.abs(heatmaps - reference).max()) / scale / tolerance.heatmap_relative
    moved = np.linalg.norm(decode_heatmaps(heatmaps)[0] - coords, axis=-1)[confident] > tolerance.moved_px
    return float(moved.mean()) / tolerance.max_moved_share


def _median_ms(forward: Forward, batch: np.ndarray, repeats: int) -> float:
    seconds = []
    for _ in range(repeats):
        start = _clock()
        forward(batch)
        seconds.append(_clock() - start)
    return statistics.median(seconds) * 1000.0


def run_trial(
    model: nn.Module, runtime: str, crops: np.ndarray, reference: np.ndarray, build: Builder,
    best_ms: float | None = None, repeats: int = REPEATS, tolerance: Tolerance = TOLERANCE,
) -> Trial:
    """Build ``runtime``, check its heatmaps on ``crops`` against ``reference``, time it (module doc); the
    runtime is closed afterwards."""
    try:
        with closing(build(model, runtime)) as forward:
            batches = [crops[:2], crops]
            for batch in batches:
                forward.prepare(len(batch))
            forward(batches[0])  # first-call costs
            first = _median_ms(forward, batches[0], 1) / len(batches[0])
            if best_ms is not None and first > GIVE_UP_FACTOR * best_ms:
                return Trial(runtime, first, None, False,
                             f"not timed further: over {GIVE_UP_FACTOR:g}x the best")
            error = guard_error(reference, forward(crops), tolerance)
            total_crops = sum(len(batch) for batch in batches)
            ms = sum(_median_ms(forward, batch, repeats) for batch in batches) / total_crops
    except Exception as error:  # a runtime that fails here is skipped, not fatal: the next one may work
        logger.warning("pose runtime %s failed its trial: %s", runtime, error)
        return Trial(runtime, None, None, False, f"failed: {error}")
    verdict = "" if error <= 1.0 else "rejected by the accuracy guard"
    return Trial(runtime, ms, error, error <= 1.0, verdict)


def _cpu_float32(model: nn.Module, runtime: str) -> Forward:
    return build_forward(model, runtime, torch.device("cpu"), torch.float32)


def _reference_heatmaps(model: nn.Module, crops: np.ndarray, build: Builder = _cpu_float32) -> np.ndarray:
    """The float32 torch runtime's heatmaps of ``crops``: what the accuracy guard compares with."""
    with torch.inference_mode(), closing(build(model, "torch")) as forward:
        return forward(crops)


def time_runtime(model: nn.Module, runtime: str, repeats: int = REPEATS) -> Trial:
    """One forced runtime's trial on the calibration crops (its accuracy guard against float32 torch)."""
    crops = calibration_crops(model.spec)
    return run_trial(model, runtime, crops, _reference_heatmaps(model, crops), _cpu_float32, repeats=repeats)


def cached_choice(model: nn.Module, cache: Path | None = None) -> Choice | None:
    """The choice :func:`autotune` made earlier for ``model`` on this machine, or None (no trial is run)."""
    return read_choice((cache or cache_dir()) / CACHE_NAME, key_digest(machine_key(model)))


class TuningCancelledError(Exception):
    """The trials were stopped before their end (the app is closing); nothing was cached."""


def autotune(
    model: nn.Module,
    cache: Path | None = None,
    candidates: list[str] | None = None,
    build: Builder = _cpu_float32,
    crops: np.ndarray | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Choice:
    """The fastest accurate runtime for ``model`` on this machine: from the cache, else by trials (cached).

    Args:
        model: eval-mode float32 CPU pose model with ``spec``; not modified.
        cache: folder of ``runtime-choice.json`` (default: the ONNX exports' :func:`pose.runtime.cache_dir`).
        candidates: runtimes to try (default :func:`candidate_runtimes`).
        build: makes a runtime's forward pass (tests inject fakes).
        crops: ``(B, 3, H, W)`` calibration inputs (default :func:`calibration_crops`).
        cancelled: asked before each trial; True stops the trials there.

    Raises:
        TuningCancelledError: ``cancelled`` said so before the last trial.
        ValueError: no runtime passed its trial.
    """
    key = machine_key(model)
    digest = key_digest(key)
    path = (cache or cache_dir()) / CACHE_NAME
    cached = read_choice(path, digest)
    if cached is not None:
        return cached
    crops = calibration_crops(model.spec) if crops is None else crops
    logger.info("timing pose runtimes for %s on %s (once per machine and weights)", model.spec.name,
                key["cpu"])
    reference = _reference_heatmaps(model, crops, build)
    trials: list[Trial] = []
    runtimes = candidates or candidate_runtimes()
    for runtime in runtimes:
        if cancelled():
            raise TuningCancelledError(f"stopped after {len(trials)} of {len(runtimes)} runtime trials")
        accepted = [trial.ms_per_crop for trial in trials if trial.accepted and trial.ms_per_crop is not None]
        trials.append(run_trial(model, runtime, crops, reference, build, min(accepted, default=None)))
        logger.info("pose runtime trial: %s", trials[-1])
    best = pick(trials)
    choice = Choice(best.runtime, best.ms_per_crop, tuple(trials), cached=False)
    write_choice(path, digest, key, choice)
    return choice
