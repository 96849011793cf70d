"""``main.py run`` end to end on the committed clip, and one test per kind of bad input (issue 5, item 7).

Runs in-process (``main.main``) to avoid re-importing torch per test. The tiny model keeps it fast; it has
random weights, so ``--min-pose-score 0`` keeps its (meaningless) poses in the CSV to check the schema.
``--threads 1``: on a busy 2-core machine more threads are far slower.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil

import av
import cv2
import numpy as np
import pytest
from support import REPO_ROOT

import main
from app.core.sinks import COLUMNS, metadata_path

CLIP = REPO_ROOT / "assets" / "samples" / "pedestrians.mp4"
CLIP_FRAMES = 50
FAST = ["--model", "edite_hrnet_tiny", "--no-flip", "--threads", "1"]


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main.main(["run", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _video(path) -> tuple[int, float, tuple[int, int]]:
    capture, frames = cv2.VideoCapture(str(path)), 0
    while capture.read()[0]:
        frames += 1
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    return frames, capture.get(cv2.CAP_PROP_FPS), size


def _csv_rows(path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def _assert_one_error_line(code: int, err: str, *fragments: str) -> str:
    assert code != 0
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in errors[0]
    return errors[0]


def test_end_to_end_with_the_offline_detector(tmp_path, capsys):
    out_csv, out_video = tmp_path / "poses.csv", tmp_path / "poses.mp4"
    code, out, err = _run(capsys, str(CLIP), "--detector", "hog", *FAST, "--min-pose-score", "0",
                          "--max-frames", "6", "--csv", str(out_csv), "--record", str(out_video))
    assert code == 0, err
    assert "detector: HOG" in out and "[offline fallback]" in out
    assert "frames: 6 |" in out and "ms per frame: read" in out
    assert f"wrote {out_csv} and {metadata_path(out_csv)} (6 frames)" in out
    assert f"wrote {out_video} (H.264, libx264, 640x480, 6 frames)" in out

    header, rows = _csv_rows(out_csv)
    assert header == list(COLUMNS)
    assert rows and len(rows) % 17 == 0
    assert {int(row[0]) for row in rows} <= set(range(6))
    for row in rows:
        assert len(row) == len(COLUMNS)
        assert int(row[2]) >= 1
        assert all(float(value) == float(value) for value in row[4:])  # numbers, none NaN

    meta = json.loads(metadata_path(out_csv).read_text())
    assert meta["pipeline"]["detector"] == "hog" and meta["pipeline"]["detector_is_fallback"] is True
    assert meta["pipeline"]["model"] == "edite_hrnet_tiny" and meta["run"]["frames"] == 6
    assert meta["source"]["nominal_fps"] == pytest.approx(10.0)
    assert meta["outcome"] == {"ended": "finished", "frames": 6, "signal": None, "error": None}
    assert meta["outputs"]["recording"] == str(out_video)

    assert _video(out_video) == (6, pytest.approx(10.0), (640, 480))


def test_recording_has_one_frame_per_source_frame(tmp_path, capsys):
    out_video = tmp_path / "all.mp4"
    code, out, err = _run(capsys, str(CLIP), "--detector", "none", *FAST, "--record", str(out_video))
    assert code == 0, err
    assert f"frames: {CLIP_FRAMES} |" in out
    assert _video(out_video) == (CLIP_FRAMES, pytest.approx(10.0), (640, 480))


# -- bad input: one clear error line, a non-zero exit, and what was written stays valid -------------------
def test_missing_file(tmp_path, capsys):
    code, _, err = _run(capsys, str(tmp_path / "absent.mp4"))
    _assert_one_error_line(code, err, "absent.mp4", "no such file")


def test_file_that_is_not_a_video(tmp_path, capsys):
    notes = tmp_path / "notes.mp4"
    notes.write_text("hello\n" * 50)
    code, _, err = _run(capsys, str(notes))
    _assert_one_error_line(code, err, "notes.mp4", "not a video file")


def test_photos_of_a_video_are_refused(capsys):
    code, _, err = _run(capsys, str(CLIP), "--photos")
    _assert_one_error_line(code, err, "pedestrians.mp4", "only an image or a folder of images")


def test_truncated_video_keeps_what_was_written(tmp_path, capsys):
    cut = tmp_path / "cut.mp4"
    data = CLIP.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    out_csv, out_video = tmp_path / "cut.csv", tmp_path / "cut_annotated.mp4"
    code, _, err = _run(capsys, str(cut), "--detector", "none", *FAST, "--min-pose-score", "0",
                        "--csv", str(out_csv), "--record", str(out_video))
    _assert_one_error_line(code, err, "cut.mp4", "truncated")
    meta = json.loads(metadata_path(out_csv).read_text())
    processed = meta["run"]["frames"]
    assert 0 < processed < CLIP_FRAMES
    assert meta["outcome"]["ended"] == "failed" and "truncated" in meta["outcome"]["error"]
    header, rows = _csv_rows(out_csv)
    assert header == list(COLUMNS)
    assert sorted({int(row[0]) for row in rows}) == list(range(processed))  # one person per frame
    assert _video(out_video)[0] == processed


def test_camera_index_that_does_not_open(capsys):
    code, _, err = _run(capsys, "97")
    _assert_one_error_line(code, err, "cannot open camera 97")


@pytest.mark.parametrize("flag", ["--csv", "--record"])
def test_output_path_that_cannot_be_written(tmp_path, capsys, flag):
    target = tmp_path / "no" / "such" / "folder" / ("out.csv" if flag == "--csv" else "out.mp4")
    code, out, err = _run(capsys, str(CLIP), *FAST, flag, str(target))
    _assert_one_error_line(code, err, str(target), "does not exist")
    assert out == ""  # refused before any work
    assert not any(tmp_path.iterdir())


def test_recording_with_an_unknown_container(tmp_path, capsys):
    code, out, err = _run(capsys, str(CLIP), *FAST, "--max-frames", "1", "--csv", str(tmp_path / "ok.csv"),
                          "--record", str(tmp_path / "out.xyz"))
    _assert_one_error_line(code, err, "--record", "out.xyz", ".mp4")
    assert out == "" and not any(tmp_path.iterdir())  # refused before the model loaded; no CSV left behind


@pytest.mark.parametrize("content", [b"definitely not a checkpoint", None], ids=["garbage", "missing"])
def test_invalid_weights_file(tmp_path, capsys, content):
    weights = tmp_path / "weights.pth"
    if content is not None:
        weights.write_bytes(content)
    code, _, err = _run(capsys, str(CLIP), *FAST, "--weights", str(weights), "--csv", str(tmp_path / "x.csv"))
    _assert_one_error_line(code, err, "cannot load weights", "weights.pth")
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize(("flag", "value", "says"), [
    ("--detect-every", "0", "must be >= 1"), ("--background-lag", "-1", "must be >= 0"),
    ("--fps", "inf", "must be a finite number"), ("--fps", "nan", "must be a finite number"),
    ("--fps", "0", "must be > 0"), ("--fps", "-1", "must be > 0"),
    ("--threads", "100000", "must be in 1.."), ("--threads", "0", "must be in 1.."),
    ("--max-frames", "0", "must be >= 1"), ("--smooth-strength", "2", "must be in [0, 1]"),
    ("--min-pose-score", "-0.1", "must be in [0, 1]"), ("--detect-every", "two", "expected an integer"),
    ("--detector-size", "650", "must be a multiple of 32"), ("--detector-size", "64", "must be in 160..1920"),
])
def test_invalid_setting_is_refused_at_parse_time_naming_the_flag(capsys, flag, value, says):
    with pytest.raises(SystemExit) as stopped:
        main.main(["run", str(CLIP), flag, value])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert f"error: argument {flag}: {says}" in err and "Traceback" not in err


def test_show_without_a_display_warns_and_carries_on(capsys, monkeypatch):
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, out, err = _run(capsys, str(CLIP), "--detector", "none", *FAST, "--max-frames", "2", "--show")
    assert code == 0, err
    assert "--show needs a display" in err and "frames: 2 |" in out


def test_detection_flags_reach_the_pipeline_settings():
    from app.core.cli.run import config_from_args

    args = main.build_parser().parse_args(["run", str(CLIP), "--detect-every", "7", "--background-lag", "0",
                                           "--detector-size", "640", "--detector-runtime", "torch"])
    detector = config_from_args(args).detector
    assert (detector.detect_every, detector.background_lag, detector.image_size) == (7, 0, 640)
    assert detector.runtime == "torch"
    assert config_from_args(main.build_parser().parse_args(["run", str(CLIP)])).detector.runtime == "auto"


# -- output safety (issue 14): refused before any work, the input never touched -------------------------
def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("flag", "alias"), [("--record", "same"), ("--csv", "same"),
                                             ("--record", "hardlink"), ("--record", "symlink")])
def test_an_output_on_the_input_is_refused_and_the_input_kept(tmp_path, capsys, flag, alias):
    source = tmp_path / "in.mp4"
    shutil.copy(CLIP, source)
    before = _sha(source)
    target = source if alias == "same" else tmp_path / "alias.mp4"
    if alias == "hardlink":
        os.link(source, target)
    elif alias == "symlink":
        target.symlink_to(source)
    if flag == "--csv":
        target = tmp_path / "in.csv"
        target.symlink_to(source)
    code, out, err = _run(capsys, str(source), *FAST, flag, str(target))
    _assert_one_error_line(code, err, flag, "is the input", "in.mp4")
    assert out == "" and _sha(source) == before


def test_the_same_file_for_csv_and_recording_is_refused(tmp_path, capsys):
    out_csv = tmp_path / "x.csv"
    (tmp_path / "x.mp4").symlink_to(out_csv)
    record = tmp_path / "x.mp4"
    code, out, err = _run(capsys, str(CLIP), *FAST, "--csv", str(out_csv), "--record", str(record))
    _assert_one_error_line(code, err, "--record", "--csv writes the same file")
    assert out == "" and not out_csv.exists()


def test_an_earlier_good_output_survives_a_failed_run(tmp_path, capsys):
    out_csv = tmp_path / "keep.csv"
    out_csv.write_text("earlier results\n")
    code, _, err = _run(capsys, str(tmp_path / "absent.mp4"), *FAST, "--csv", str(out_csv))
    _assert_one_error_line(code, err, "absent.mp4")
    assert out_csv.read_text() == "earlier results\n" and [p.name for p in tmp_path.iterdir()] == ["keep.csv"]


@pytest.mark.parametrize(("flag", "folder", "cause"), [("--record", "/sys", "is not writable"),
                                                       ("--csv", "/proc", "does not take new files")])
def test_system_folders_name_the_real_cause(capsys, flag, folder, cause):
    name = "out.mp4" if flag == "--record" else "out.csv"
    code, out, err = _run(capsys, str(CLIP), *FAST, flag, f"{folder}/{name}")
    _assert_one_error_line(code, err, f"folder '{folder}' {cause}")
    assert out == ""


def test_a_300_character_file_name_is_one_line(tmp_path, capsys):
    code, _, err = _run(capsys, str(tmp_path / ("v" * 300 + ".mp4")), *FAST)
    _assert_one_error_line(code, err, "file name is too long")
    code, _, err = _run(capsys, str(CLIP), *FAST, "--csv", str(tmp_path / ("c" * 300 + ".csv")))
    _assert_one_error_line(code, err, "--csv", "file name is too long (304 characters")


def test_an_odd_sized_video_is_recorded_padded_and_said_once(tmp_path, capsys, caplog):
    clip = tmp_path / "odd.mkv"  # lossless FFV1 keeps 17x13 (OpenCV's writers round it down)
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("ffv1", rate=10)
        stream.width, stream.height, stream.pix_fmt = 17, 13, "bgr0"
        for value in range(0, 200, 40):
            image = np.full((13, 17, 3), value, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode())
    out_video = tmp_path / "odd.mp4"
    code, out, err = _run(capsys, str(clip), "--detector", "none", *FAST, "--record", str(out_video))
    assert code == 0, err
    padded = [message for message in caplog.messages if "padded" in message]
    assert padded == ["recording 17x13 padded to 18x14 (H.264 needs even sizes)"]
    assert "(H.264, libx264, 18x14, 5 frames)" in out
    with av.open(str(out_video)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 18, 14)
        assert sum(1 for _ in container.decode(stream)) == 5
