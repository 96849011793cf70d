"""YOLO `.pt` weights exported to OpenVINO, for the CPU: the export is made once and cached.

On the CPU, OpenVINO runs ultralytics' models several times faster than torch eager: YOLO11n-pose at 1280 px
on a 1280x720 frame takes 35.6 ms in OpenVINO and 95.2 ms in torch (median of 10, AMD EPYC, 2 threads,
`python tests/benchmarks/detectors_cost.py --threads 2 --detectors yolo`). ultralytics' own exporter writes
the model (``format="openvino"``, dynamic input shape, so any ``imgsz`` and frame aspect run without
re-exporting); the result is kept in the export directory under a name made of the weights' SHA-256 and the
ultralytics and OpenVINO versions, so a new file or a library upgrade exports again (the newest
:data:`KEEP_EXPORTS` stay). An OpenVINO model is XML and raw
tensors, with no code in it: it loads without the hash check that `.pt` pickles get, and the `.pt` is
exported only once `detectors.trusted_weights` allowed it.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import importlib.util
import logging
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

from detectors.trusted_weights import load_yolo, sha256_of

logger = logging.getLogger(__name__)

EXPORT_SUFFIX = "_openvino_model"
"""ultralytics recognises an OpenVINO model folder by this ending."""
EXPORT_LIBRARIES = ("ultralytics", "openvino")
"""An export is made again when one of these packages changes version."""
KEEP_EXPORTS = 4
"""Exports kept in an export directory (about 12 MB each); older ones are deleted after a new export."""


@contextlib.contextmanager
def quiet_ultralytics() -> Iterator[None]:
    """ultralytics' info lines (its exporter's report, "Loading ... for OpenVINO inference") held back: they
    go to stdout, which belongs to the app's own output."""
    ultralytics_logger = logging.getLogger("ultralytics")
    level = ultralytics_logger.level
    ultralytics_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        ultralytics_logger.setLevel(level)


def openvino_installed() -> bool:
    """Whether the `openvino` package can be imported (checked without importing it)."""
    return importlib.util.find_spec("openvino") is not None


def export_name(weights: Path) -> str:
    """Folder name of the export of `weights`: stem, SHA-256 prefix, ultralytics and OpenVINO versions."""
    versions = "-".join(f"{package}{importlib.metadata.version(package)}" for package in EXPORT_LIBRARIES)
    name = f"{weights.stem}-{sha256_of(weights)[:16]}-{versions}"
    return re.sub(r"[^A-Za-z0-9-]", "_", name) + EXPORT_SUFFIX


@functools.cache
def _process_export_dir() -> tempfile.TemporaryDirectory:
    """A folder for the exports of this process only, removed when it exits."""
    return tempfile.TemporaryDirectory(prefix="yolo-openvino-")


def openvino_export(weights: Path, export_dir: Path | None = None, *, trust: bool = False) -> Path:
    """The OpenVINO model folder for the `.pt` file `weights`, exported into `export_dir` on first use
    (None: a temporary folder of this process, so each run exports again).

    The export is written to a scratch folder beside its final place and moved there in one rename, so a
    crash or a second process never leaves a half-written model that looks finished.

    Raises:
        UntrustedWeightsError: `weights` is no official release and `trust` is False.
        OSError, RuntimeError, ValueError: the export failed (the message is ultralytics' or OpenVINO's).
    """
    export_dir = export_dir or Path(_process_export_dir().name)
    target = export_dir / export_name(weights)
    if target.is_dir():
        return target
    export_dir.mkdir(parents=True, exist_ok=True)
    logger.info("exporting %s to OpenVINO (once per weights file; kept in %s)", weights.name, export_dir)
    with tempfile.TemporaryDirectory(dir=export_dir, prefix=".export-") as scratch:
        copy = Path(scratch) / weights.name  # ultralytics writes the export beside the weights it reads
        shutil.copyfile(weights, copy)
        with quiet_ultralytics(), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch's note that its tracer, used here, is old
            exported = Path(load_yolo(copy, trust=trust).export(format="openvino", dynamic=True))
        try:
            os.replace(exported, target)
        except OSError:
            if not target.is_dir():  # another process finished first: theirs is as good
                raise
    prune_exports(export_dir)
    return target


def prune_exports(export_dir: Path, keep: int = KEEP_EXPORTS) -> None:
    """Delete all but the `keep` most recently written exports in `export_dir` (nothing else in it)."""
    exports = sorted(export_dir.glob(f"*{EXPORT_SUFFIX}"), key=lambda path: path.stat().st_mtime)
    for stale in exports[:-keep]:
        shutil.rmtree(stale, ignore_errors=True)
