"""Process a whole file into a CSV and a recording, cancel by closing, and write from a live camera."""

from __future__ import annotations

import csv
import json
import threading

import cv2
import numpy as np
from gui_support import CLIP_FRAMES, CLIP_SIZE, READY_TIMEOUT_MS, open_paused
from PySide6.QtCore import Qt

from app.core.config import PipelineConfig
from app.core.pipeline import Pipeline
from app.core.runner import run
from app.core.session import RunSession
from app.core.sinks import COLUMNS, Outputs, metadata_path
from app.core.sources import CameraSource, make_source
from app.gui.worker import PipelineWorker

KEYPOINTS = 17


def type_path(qtbot, edit, path) -> None:
    """Type a path into a line edit and press Enter, as a user would."""
    edit.clear()
    qtbot.keyClicks(edit, str(path))
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def read_csv(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def video_frame_count(path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def test_process_whole_file_writes_csv_and_recording_like_main_run(qtbot, window, clip, tmp_path,
                                                                   fast_config):
    csv_path, video_path = tmp_path / "walk.csv", tmp_path / "walk.mp4"
    type_path(qtbot, window.outputs_panel.csv_edit, csv_path)
    type_path(qtbot, window.outputs_panel.video_edit, video_path)
    open_paused(qtbot, window, str(clip))
    assert window.transport.progress.isHidden()
    with qtbot.waitSignal(window.controller.run_finished, timeout=READY_TIMEOUT_MS) as finished:
        qtbot.mouseClick(window.transport.play_button, Qt.MouseButton.LeftButton)
    report = finished.args[0]
    assert not report.cancelled and report.frames == CLIP_FRAMES
    assert {path.name for path in report.paths} == {"walk.csv", "walk.meta.json", "walk.mp4"}
    assert "processed 8 frames" in window.banner.text()

    rows = read_csv(csv_path)
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) - 1 == CLIP_FRAMES * KEYPOINTS  # one person per frame, every frame
    assert sorted({int(row[0]) for row in rows[1:]}) == list(range(CLIP_FRAMES))
    assert video_frame_count(video_path) == CLIP_FRAMES

    # The same files as 'main.py run' makes: run the core's loop with the core's sink and compare.
    reference = tmp_path / "reference.csv"
    session = RunSession(Pipeline(fast_config))
    session.open(str(clip), Outputs(csv=reference))
    run(session)
    assert read_csv(reference)[0] == rows[0]
    ours, theirs = (json.loads(metadata_path(p).read_text()) for p in (csv_path, reference))
    assert ours.keys() == theirs.keys()
    assert ours["settings"] == theirs["settings"] == PipelineConfig.to_dict(fast_config)
    assert ours["run"]["frames"] == theirs["run"]["frames"] == CLIP_FRAMES
    assert ours["outcome"]["ended"] == theirs["outcome"]["ended"] == "finished"
    assert ours["pipeline"]["model"] == "edite_hrnet_tiny"


def test_closing_during_processing_leaves_valid_files(qtbot, window, long_clip, tmp_path):
    csv_path, video_path = tmp_path / "long.csv", tmp_path / "long.avi"
    type_path(qtbot, window.outputs_panel.csv_edit, csv_path)
    type_path(qtbot, window.outputs_panel.video_edit, video_path)
    open_paused(qtbot, window, str(long_clip))
    window.transport.play_button.click()
    qtbot.waitUntil(lambda: window.transport.progress.value() >= 3, timeout=READY_TIMEOUT_MS)
    assert window.transport.cancel_button.isVisible()
    window.close()

    assert not window.controller.running
    rows = read_csv(csv_path)
    frames = {int(row[0]) for row in rows[1:]}
    assert tuple(rows[0]) == COLUMNS and all(len(row) == len(COLUMNS) for row in rows)
    assert 3 <= len(frames) < 60 and len(rows) - 1 == len(frames) * KEYPOINTS
    metadata = json.loads(metadata_path(csv_path).read_text())
    assert metadata["outcome"] == {"ended": "interrupted", "frames": len(frames), "signal": None,
                                   "error": None}
    assert metadata["run"]["frames"] == len(frames)
    assert video_frame_count(video_path) == len(frames)


class FakeCapture:
    """A camera that delivers a new frame every 5 ms (200 fps): faster than the pipeline, so it drops."""

    FPS = 200.0

    def __init__(self, index: int) -> None:
        self._tick = threading.Event()
        self._image = np.full((*CLIP_SIZE[::-1], 3), 90, np.uint8)

    def isOpened(self) -> bool:
        return True

    def read(self) -> tuple[bool, np.ndarray]:
        self._tick.wait(1.0 / self.FPS)  # the device's frame interval
        return True, self._image.copy()

    def get(self, prop: int) -> float:
        return self.FPS if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        pass


def fake_camera_session() -> RunSession:
    def source_for(spec: str, photos: bool = False):
        if spec.isdigit():
            return CameraSource(int(spec), capture_factory=FakeCapture)
        return make_source(spec, photos=photos)

    return RunSession(source_factory=source_for)


def test_live_camera_counts_drops_and_writes_outputs_while_playing(qtbot, make_window, tmp_path):
    window = make_window(PipelineWorker(fake_camera_session()))
    csv_path = tmp_path / "camera.csv"
    type_path(qtbot, window.outputs_panel.csv_edit, csv_path)
    with qtbot.waitSignal(window.controller.source_opened, timeout=READY_TIMEOUT_MS):
        window.open_source("0")
    qtbot.waitUntil(lambda: window.view.frames_shown >= 3, timeout=READY_TIMEOUT_MS)
    qtbot.waitUntil(lambda: "dropped" in window.status.drops_label.text(), timeout=READY_TIMEOUT_MS)
    assert window.status.source_label.text() == "camera 0"
    assert window.transport.time_label.text().endswith("/ live")
    assert not window.transport.step_button.isEnabled() and not window.transport.mode_combo.isEnabled()
    assert window.transport.play_button.text() == "Pause"
    with qtbot.waitSignal(window.controller.run_finished, timeout=READY_TIMEOUT_MS) as finished:
        window.transport.play_button.click()
    assert finished.args[0].frames >= 3
    assert window.transport.play_button.text() == "Play"
    rows = read_csv(csv_path)
    metadata = json.loads(metadata_path(csv_path).read_text())
    assert metadata["source"]["is_live"] and metadata["run"]["dropped_frames"] > 0
    assert len(rows) - 1 == metadata["run"]["frames"] * KEYPOINTS
