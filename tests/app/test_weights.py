"""Shipped weights: the manifest lookup, its integrity check, and the input size read from a checkpoint."""

import json

import pytest
import torch

from app.core.weights import (
    WeightsManifestError,
    checkpoint_input_size,
    default_weights,
    read_manifest,
    resolve_weights,
)
from pose.models.checkpoint import file_sha256, save_checkpoint
from pose.models.registry import create_model


@pytest.fixture
def shipped(tmp_path):
    model = create_model("edite_hrnet_tiny", input_size=(128, 96))
    path = save_checkpoint(model, tmp_path / "tiny.pth")
    manifest = {"weights": [{"file": "tiny.pth", "model": "edite_hrnet_tiny", "sha256": file_sha256(path)}]}
    (tmp_path / "MANIFEST.json").write_text(json.dumps(manifest))
    return tmp_path


def test_default_weights_finds_the_listed_file(shipped):
    assert default_weights("edite_hrnet_tiny", shipped) == shipped / "tiny.pth"
    assert default_weights("edite_hrnet_l", shipped) is None


def test_no_manifest_means_no_shipped_weights(tmp_path):
    assert read_manifest(tmp_path) == []
    assert default_weights("edite_hrnet_s", tmp_path) is None


def test_a_damaged_file_is_refused(shipped):
    (shipped / "tiny.pth").write_bytes(b"truncated")
    with pytest.raises(WeightsManifestError, match="SHA-256"):
        default_weights("edite_hrnet_tiny", shipped)


def test_a_missing_file_is_refused(shipped):
    (shipped / "tiny.pth").unlink()
    with pytest.raises(WeightsManifestError, match="missing"):
        default_weights("edite_hrnet_tiny", shipped)


def test_malformed_manifest_entries_are_named(tmp_path):
    (tmp_path / "MANIFEST.json").write_text(json.dumps({"weights": [{"file": "x.pth"}]}))
    with pytest.raises(WeightsManifestError, match="sha256"):
        read_manifest(tmp_path)


def test_the_input_size_comes_from_the_checkpoint(shipped):
    assert checkpoint_input_size(shipped / "tiny.pth") == (128, 96)


def test_resolve_prefers_the_given_file(shipped):
    other = save_checkpoint(create_model("edite_hrnet_tiny"), shipped / "other.pth")
    assert resolve_weights("edite_hrnet_tiny", str(other)) == (str(other), (256, 192))
    assert resolve_weights("edite_hrnet_lite_unknown", None)[0] is None


def test_ship_weights_keeps_only_model_facts_and_lists_the_file(tmp_path):
    from app.core.weights import ship_weights

    model = create_model("edite_hrnet_tiny", input_size=(128, 96))
    run = save_checkpoint(model, tmp_path / "run" / "best.pt",
                          {"iteration": 42, "epoch": 3, "config": {"data": {"root": "/local/path"}}})
    shipped_dir = tmp_path / "weights"
    entry = ship_weights(run, "tiny.pth", {"teacher": "fake", "licence": "test"}, shipped_dir)
    assert (entry["model"], entry["steps"], entry["input_size"], entry["teacher"]) == (
        "edite_hrnet_tiny", 42, [128, 96], "fake")
    assert default_weights("edite_hrnet_tiny", shipped_dir) == shipped_dir / "tiny.pth"
    assert "config" not in torch.load(shipped_dir / "tiny.pth", weights_only=True)["meta"]
    ship_weights(run, "tiny.pth", {"teacher": "again"}, shipped_dir)
    assert [item["teacher"] for item in read_manifest(shipped_dir)] == ["again"]
