"""``main.py train``: options, clear errors, and a two-step run that resumes."""

from __future__ import annotations

import pytest
from support import REPO_ROOT

import main

TINY = REPO_ROOT / "tests" / "data" / "coco_tiny"


def _config(tmp_path, text: str = ""):
    path = tmp_path / "tiny.toml"
    path.write_text(
        f"""
[data]
root = "{TINY.as_posix()}"
train_annotations = "person_keypoints.json"
train_images = "."
val_annotations = "person_keypoints.json"
val_images = "."

[model]
name = "edite_hrnet_tiny"
input_size = [128, 96]

[train]
batch_size = 2
workers = 0
{text}
""",
        encoding="utf-8",
    )
    return path


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main.main(["train", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--config", "--resume", "--device", "--workers", "--out", "--max-steps", "--max-minutes",
                   "--set"):
        assert option in out


@pytest.mark.parametrize("minutes", ["0", "-1", "inf"])
def test_a_time_budget_must_be_a_positive_number(minutes, capsys):
    assert main.main(["train", "--config", "edite_hrnet_s_coco_256x192", "--max-minutes", minutes]) == 1
    assert "--max-minutes must be a number > 0" in capsys.readouterr().err


def test_missing_dataset_is_a_clear_error(tmp_path, capsys):
    code = main.main([
        "train", "--config", "edite_hrnet_s_coco_256x192", "--data-root", str(tmp_path / "coco"),
        "--out", str(tmp_path / "run"), "--device", "cpu",
    ])
    assert code == 1
    err = capsys.readouterr().err
    assert "person_keypoints_train2017.json' not found" in err and "train_annotations" in err


def test_unknown_config_and_key_are_clear_errors(tmp_path, capsys):
    assert main.main(["train", "--config", "edite_hrnet_xl", "--device", "cpu"]) == 1
    assert "edite_hrnet_s_coco_256x192" in capsys.readouterr().err
    config = str(_config(tmp_path))
    assert main.main(["train", "--config", config, "--set", "train.batchsize=4", "--device", "cpu"]) == 1
    assert "unknown key 'batchsize'" in capsys.readouterr().err


def test_cuda_without_a_gpu_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert main.main(["train", "--config", str(_config(tmp_path)), "--device", "cuda"]) == 1
    assert "no CUDA GPU" in capsys.readouterr().err


def test_smoke_run_then_resume(tmp_path, capsys):
    config = str(_config(tmp_path, "log_interval = 1"))
    common = ["train", "--config", config, "--out", str(tmp_path / "run"), "--device", "cpu", "--no-progress"]
    assert main.main([*common, "--max-steps", "1"]) == 0
    assert "trained 0 epochs, 1 iterations" in capsys.readouterr().out
    assert main.main([*common, "--max-steps", "2", "--resume", "--workers", "0"]) == 0
    out = capsys.readouterr().out
    assert "trained 1 epochs, 2 iterations" in out
    assert "last validation: AP" in out
    assert (tmp_path / "run" / "best.pt").is_file()


def test_a_run_resumes_from_its_saved_config_in_its_own_folder(tmp_path, capsys):
    run = tmp_path / "run"
    started = ["train", "--config", str(_config(tmp_path)), "--out", str(run), "--device", "cpu"]
    assert main.main([*started, "--no-progress", "--max-steps", "1"]) == 0
    capsys.readouterr()
    resumed = ["train", "--config", str(run / "config.json"), "--resume", "--device", "cpu", "--no-progress"]
    assert main.main([*resumed, "--max-steps", "2"]) == 0
    assert f"2 iterations: {run}" in capsys.readouterr().out
