"""``main.py run`` stopped by a signal (issue 14): INT, TERM and HUP stop cleanly; SIGKILL loses little.

Each test starts the real command on a long synthetic clip, waits (on the file system, no sleeps as asserts)
until frames are on disk, sends the signal and checks the exit code, the one line, the CSV, the metadata and
the recording (read back with PyAV).
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from support import REPO_ROOT

from app.core.sinks import COLUMNS

FRAMES, FPS, SIZE = 3000, 10.0, (64, 48)
WAIT_S = 120.0


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "long.mp4"
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    for index in range(FRAMES):
        writer.write(np.full((SIZE[1], SIZE[0], 3), index % 250, np.uint8))
    writer.release()
    return path


def _start(clip: Path, folder: Path) -> subprocess.Popen:
    command = [sys.executable, str(REPO_ROOT / "main.py"), "run", str(clip), "--detector", "none",
               "--model", "edite_hrnet_tiny", "--no-flip", "--threads", "1", "--min-pose-score", "0",
               "--csv", str(folder / "out.csv"), "--record", str(folder / "out.mp4")]
    return subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_rows(folder: Path, frames: int, process: subprocess.Popen) -> Path:
    """The partial CSV once it holds ``frames`` frames (17 rows each)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline and process.poll() is None:
        for partial in folder.glob("out.partial-*.csv"):
            if partial.read_text().count("\n") > frames * 17:
                return partial
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"no {frames} frames written in {WAIT_S} s: {process.communicate()}")


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        header, *rows = list(csv.reader(handle))
    assert tuple(header) == COLUMNS
    assert all(len(row) == len(COLUMNS) for row in rows)
    return rows


def _decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        return sum(1 for _ in container.decode(video=0))


@pytest.mark.parametrize(("name", "code"), [("SIGTERM", 143), ("SIGHUP", 129), ("SIGINT", 130)])
def test_a_stop_signal_finishes_and_closes_every_output(long_clip, tmp_path, name, code):
    process = _start(long_clip, tmp_path)
    _wait_for_rows(tmp_path, 5, process)
    process.send_signal(getattr(signal, name))
    _, err = process.communicate(timeout=WAIT_S)
    assert process.returncode == code, err
    said = [line for line in err.splitlines() if line.startswith("interrupted")]
    assert len(said) == 1 and f"by {name}" in said[0] and "Traceback" not in err

    frames = {int(row[0]) for row in _rows(tmp_path / "out.csv")}
    meta = json.loads((tmp_path / "out.meta.json").read_text())
    assert meta["outcome"] == {"ended": "interrupted", "frames": len(frames), "signal": name, "error": None}
    assert 5 <= len(frames) < FRAMES and frames == set(range(len(frames)))
    assert _decoded_frames(tmp_path / "out.mp4") == len(frames)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.meta.json", "out.mp4"]


def test_after_sigkill_the_csv_is_whole_and_the_recording_plays(long_clip, tmp_path):
    process = _start(long_clip, tmp_path)
    partial_csv = _wait_for_rows(tmp_path, 60, process)  # 6 s of video: past two 2 s keyframe intervals
    process.kill()
    process.communicate(timeout=WAIT_S)
    assert not (tmp_path / "out.csv").exists()  # never a half-written file under the final name
    text = partial_csv.read_text()
    assert text.endswith("\n")  # whole up to its last line
    rows = _rows(partial_csv)
    assert len(rows) % 17 == 0
    (partial_video,) = tmp_path.glob("out.partial-*.mp4")
    assert _decoded_frames(partial_video) >= 20  # at least the first fragment (2 s at 10 fps)
    scratch = json.loads(next(tmp_path.glob("out.meta.partial-*.json")).read_text())
    assert scratch["outcome"]["ended"] is None  # the run never said it ended
