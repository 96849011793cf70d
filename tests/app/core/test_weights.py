"""Shipped weights: the manifest lookup, its integrity check, and the input size read from a checkpoint."""

import json

import pytest
import torch
from evil_pickle import write_evil_pickle
from support import REPO_ROOT

from app.core.weights import (
    WeightsManifestError,
    calibrated_score_thresholds,
    checkpoint_input_size,
    default_weights,
    read_manifest,
    resolve_weights,
)
from pose.evaluation.score_thresholds import ScoreThresholds
from pose.models.checkpoint import file_sha256, read_checkpoint_meta, save_checkpoint
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
    thresholds = ScoreThresholds(redetect=0.23, min_pose=0.17, people=500)
    entry, changes = ship_weights(run, "tiny.pth", {"teacher": "fake", "licence": "test"}, thresholds,
                                  shipped_dir)
    assert changes == []  # nothing shipped under that name before
    assert (entry["model"], entry["steps"], entry["input_size"], entry["teacher"]) == (
        "edite_hrnet_tiny", 42, [128, 96], "fake")
    assert entry["score_thresholds"] == {"redetect": 0.23, "min_pose": 0.17, "people": 500}
    assert default_weights("edite_hrnet_tiny", shipped_dir) == shipped_dir / "tiny.pth"
    assert "config" not in torch.load(shipped_dir / "tiny.pth", weights_only=True)["meta"]
    assert calibrated_score_thresholds(shipped_dir / "tiny.pth") == thresholds  # the file carries them
    ship_weights(run, "tiny.pth", {"teacher": "again"}, thresholds, shipped_dir)
    assert [item["teacher"] for item in read_manifest(shipped_dir)] == ["again"]


def test_weights_that_score_lower_do_not_replace_the_shipped_file(tmp_path):
    from app.core.weights import ScoreChange, WeightsRegressionError, ship_weights

    run = save_checkpoint(create_model("edite_hrnet_tiny"), tmp_path / "best.pt")
    shipped_dir, thresholds = tmp_path / "weights", ScoreThresholds(redetect=0.3, min_pose=0.2, people=5)

    def card(validation_ap: float, coco_ap: float, coco_command: str = "eval coco") -> dict:
        return {"validation": {"AP": validation_ap, "command": "eval val"},
                "calibration_set": {"AP": coco_ap, "command": coco_command}, "teacher": f"{coco_ap}"}

    ship_weights(run, "tiny.pth", card(0.20, 0.12), thresholds, shipped_dir)
    with pytest.raises(WeightsRegressionError, match=r"calibration_set AP 0.1200 -> 0.1100"):
        ship_weights(run, "tiny.pth", card(0.25, 0.11), thresholds, shipped_dir)
    assert [item["teacher"] for item in read_manifest(shipped_dir)] == ["0.12"]  # untouched
    _, changes = ship_weights(run, "tiny.pth", card(0.21, 0.12), thresholds, shipped_dir)
    assert changes == [ScoreChange("validation", 0.20, 0.21), ScoreChange("calibration_set", 0.12, 0.12)]
    _, changes = ship_weights(run, "tiny.pth", card(0.22, 0.01, "eval other set"), thresholds, shipped_dir)
    assert changes == [ScoreChange("validation", 0.21, 0.22)]  # another set's AP is not comparable
    ship_weights(run, "tiny.pth", card(0.10, 0.01, "eval other set"), thresholds, shipped_dir,
                 even_if_worse=True)
    assert read_manifest(shipped_dir)[0]["validation"]["AP"] == 0.10


def test_the_card_traces_the_weights_back_through_the_runs_they_started_from(tmp_path):
    from app.core.weights import ship_weights

    model = create_model("edite_hrnet_tiny")
    shipped_dir, thresholds = tmp_path / "weights", ScoreThresholds(redetect=0.3, min_pose=0.2, people=5)
    scratch = save_checkpoint(model, tmp_path / "scratch.pt", {"epoch": 60})
    entry, _ = ship_weights(scratch, "a.pth", {"validation": {"AP": 0.19, "command": "c"}}, thresholds,
                            shipped_dir)
    assert entry["epochs_in_all"] == 60 and "initialised_from" not in entry
    first_sha256 = entry["sha256"]

    continued = save_checkpoint(model, tmp_path / "continued.pt", {"epoch": 11})
    entry, _ = ship_weights(continued, "a.pth", {"validation": {"AP": 0.20, "command": "c"}}, thresholds,
                            shipped_dir, initial_weights=shipped_dir / "a.pth")  # from the file it replaces
    assert entry["epochs_in_all"] == 71
    assert entry["initialised_from"] == {"file": "a.pth", "sha256": first_sha256, "validation AP": 0.19,
                                         "epochs_in_all": 60}
    again = save_checkpoint(model, tmp_path / "again.pt", {"epoch": 2})
    entry, _ = ship_weights(again, "b.pth", {}, thresholds, shipped_dir,
                            initial_weights=shipped_dir / "a.pth")
    assert entry["epochs_in_all"] == 73
    assert entry["initialised_from"]["initialised_from"]["sha256"] == first_sha256  # the whole chain

    elsewhere = save_checkpoint(create_model("edite_hrnet_tiny"), tmp_path / "elsewhere.pth")
    entry, _ = ship_weights(again, "c.pth", {}, thresholds, shipped_dir, initial_weights=elsewhere)
    assert set(entry["initialised_from"]) == {"file", "sha256"} and "epochs_in_all" not in entry  # unknown
    assert "epochs_in_all" not in read_checkpoint_meta(shipped_dir / "c.pth")


def test_epochs_in_all_recorded_by_training_survive_an_unshipped_starting_file(tmp_path):
    """A run from a candidate never shipped still knows its epochs in all: training writes them into each
    checkpoint, and shipping keeps them in the file and its manifest entry."""
    from app.core.weights import ship_weights

    model = create_model("edite_hrnet_tiny")
    shipped_dir, thresholds = tmp_path / "weights", ScoreThresholds(redetect=0.3, min_pose=0.2, people=5)
    candidate = save_checkpoint(model, tmp_path / "candidate.pt", {"epoch": 13, "epochs_in_all": 102})
    continued = save_checkpoint(model, tmp_path / "continued.pt", {"epoch": 5, "epochs_in_all": 107})
    entry, _ = ship_weights(continued, "d.pth", {}, thresholds, shipped_dir, initial_weights=candidate)
    assert entry["initialised_from"]["epochs_in_all"] == 102 and entry["epochs_in_all"] == 107
    assert read_checkpoint_meta(shipped_dir / "d.pth")["epochs_in_all"] == 107
    candidate.unlink()  # the starting file is gone: the checkpoint's own record still counts
    entry, _ = ship_weights(continued, "d.pth", {}, thresholds, shipped_dir, initial_weights=candidate)
    assert entry["initialised_from"]["sha256"] is None and entry["epochs_in_all"] == 107
    entry, _ = ship_weights(save_checkpoint(model, tmp_path / "next.pt", {"epoch": 2}), "e.pth", {},
                            thresholds, shipped_dir, initial_weights=shipped_dir / "d.pth")
    assert entry["epochs_in_all"] == 109  # a checkpoint that records none: its origin's plus its own


def test_weights_without_recorded_thresholds_or_no_file_have_none(tmp_path):
    plain = save_checkpoint(create_model("edite_hrnet_tiny"), tmp_path / "plain.pth")
    assert calibrated_score_thresholds(plain) is None
    assert calibrated_score_thresholds(None) is None
    broken = save_checkpoint(create_model("edite_hrnet_tiny"), tmp_path / "broken.pth",
                             {"score_thresholds": {"redetect": 2.0, "min_pose": 0.1, "people": 3}})
    assert calibrated_score_thresholds(broken) is None  # out of range: the defaults apply


# -- no weights path of run, eval, bench or the GUI's session runs a stranger's pickle ----------------------


@pytest.fixture
def evil(tmp_path):
    """(write_to, marker): writes a pickle that would create ``marker`` when loaded."""
    marker = tmp_path / "pwned"

    def write_to(name):
        return str(write_evil_pickle(tmp_path / name, marker))

    return write_to, marker


SAMPLE = str(REPO_ROOT / "assets" / "samples" / "pedestrians.mp4")


def test_run_refuses_malicious_detector_weights_and_names_the_flag(evil, capsys):
    import main

    write_to, marker = evil
    weights = write_to("yolo11n.pt")
    code = main.main(["run", SAMPLE, "--model", "edite_hrnet_tiny", "--detector-weights", weights,
                      "--max-frames", "1"])
    err = capsys.readouterr().err
    assert code != 0 and "not an official ultralytics release" in err and "--trust-weights" in err
    assert not marker.exists()


@pytest.mark.parametrize("command", ["run", "eval", "bench", "gui"])
def test_no_pose_weights_path_unpickles_code(command, evil, tmp_path):
    """Pose weights are read with torch.load(weights_only=True) everywhere: the pickle is refused."""
    import main

    write_to, marker = evil
    weights = write_to("pose.pth")
    if command == "gui":  # the GUI's weights field goes through the same pipeline, in its session
        from app.core.config import ModelConfig, PipelineConfig
        from app.core.errors import AppError
        from app.core.session import RunSession

        with pytest.raises(AppError):
            RunSession().configure(PipelineConfig(model=ModelConfig(name="edite_hrnet_s", weights=weights)))
    elif command == "bench":  # bench exits with the loader's one-line error
        argv = ["bench", "--quick", "--no-others", "--detector", "none", "--people", "1", "--models",
                "edite_hrnet_s", "--weights", f"edite_hrnet_s={weights}"]
        with pytest.raises(SystemExit, match=r"edite-pose bench: .*not a PyTorch checkpoint"):
            main.main(argv)
    else:
        argv = {
            "run": ["run", SAMPLE, "--weights", weights, "--max-frames", "1", "--detector", "none"],
            "eval": ["eval", "--ann", str(tmp_path / "a.json"), "--images", str(tmp_path), "--model",
                     "edite_hrnet_s", "--weights", weights],
        }[command]
        assert main.main(argv) != 0
    assert not marker.exists()
