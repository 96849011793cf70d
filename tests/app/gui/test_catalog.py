"""The GUI's model catalogue: shipped weights through the CLI's resolver (manifest + SHA-256), and the
settings a launch runs with (shipped weights filled in, --trust-weights from the command line only)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest

from app.core.config import DetectorConfig, ModelConfig, PipelineConfig
from app.gui.catalog import (
    Capabilities,
    ModelChoice,
    as_launched,
    model_choice,
    model_label,
    probe_capabilities,
)
from pose.models.checkpoint import file_sha256, save_checkpoint
from pose.models.registry import create_model

TINY = "edite_hrnet_tiny"


@pytest.fixture
def shipped(tmp_path):
    """A weights folder whose manifest lists tiny.pth for the tiny test model."""
    path = save_checkpoint(create_model(TINY, input_size=(128, 96)), tmp_path / "tiny.pth")
    manifest = {"weights": [{"file": "tiny.pth", "model": TINY, "sha256": file_sha256(path)}]}
    (tmp_path / "MANIFEST.json").write_text(json.dumps(manifest))
    return tmp_path


def test_model_labels():
    assert model_label("edite_hrnet_s") == "EDite-HRNet-S"
    assert model_label("dite_hrnet_30") == "Dite-HRNet-30"
    assert model_label("lite_hrnet_18") == "Lite-HRNet-18"
    assert model_label("something_else") == "something_else"


def test_the_listed_file_is_offered(shipped):
    choice = model_choice(TINY, shipped)
    assert choice.trained and choice.default_weights == shipped / "tiny.pth"
    assert choice.hint == str(shipped / "tiny.pth") and choice.problem is None


def test_a_file_that_is_not_in_the_manifest_is_not_offered(shipped):
    """The old lookup took any file whose name started with the model's name, and never checked its hash."""
    save_checkpoint(create_model("edite_hrnet_s"), shipped / "edite_hrnet_s_mine.pth")
    (shipped / "edite_hrnet_s.pth").write_bytes(b"")
    choice = model_choice("edite_hrnet_s", shipped)
    assert not choice.trained and choice.problem is None
    assert choice.hint == "random weights: choose a file"


@pytest.mark.parametrize("damage", [b"", b"truncated"])
def test_a_damaged_listed_file_is_not_offered_and_says_why(shipped, caplog, damage):
    (shipped / "tiny.pth").write_bytes(damage)
    with caplog.at_level(logging.WARNING, logger="app.gui.catalog"):
        choice = model_choice(TINY, shipped)
    assert not choice.trained
    assert "do not match the SHA-256" in choice.problem and "restore assets/weights" in choice.problem
    assert choice.hint == choice.problem and caplog.messages == [choice.problem]


def test_a_missing_listed_file_says_so(shipped):
    (shipped / "tiny.pth").unlink()
    assert "listed in MANIFEST.json but missing" in model_choice(TINY, shipped).problem


def test_the_probe_lists_every_model_with_its_shipped_weights_and_the_launch_trust(shipped):
    capabilities = probe_capabilities(shipped, trust_weights=True)
    by_name = {choice.name: choice for choice in capabilities.models}
    assert by_name[TINY].default_weights == shipped / "tiny.pth"
    assert not by_name["edite_hrnet_s"].trained  # not listed in this folder's manifest
    assert capabilities.trust_weights and not probe_capabilities(shipped).trust_weights


def test_as_launched_fills_the_shipped_weights_and_keeps_a_chosen_file(shipped):
    capabilities = Capabilities((ModelChoice(TINY, "tiny", shipped / "tiny.pth"),), cuda_available=False)
    config = PipelineConfig(model=ModelConfig(name=TINY))
    assert as_launched(config, capabilities).model.weights == str(shipped / "tiny.pth")
    chosen = replace(config, model=replace(config.model, weights="mine.pth"))
    assert as_launched(chosen, capabilities) == chosen
    assert as_launched(config, None) == config


def test_trust_comes_from_the_launch_never_from_saved_settings():
    saved = PipelineConfig(detector=DetectorConfig(trust_weights=True))  # e.g. left by an earlier launch
    plain = Capabilities((), cuda_available=False)
    assert not as_launched(saved, plain).detector.trust_weights
    trusting = replace(plain, trust_weights=True)
    assert as_launched(PipelineConfig(), trusting).detector.trust_weights
