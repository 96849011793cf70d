"""Opening sources: bad files, drag and drop, recent files, the camera dialog; stepping, seeking, locking."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from gui_support import CLIP_FRAMES, READY_TIMEOUT_MS, open_paused
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog

from app.gui.camera_dialog import CameraDialog
from app.gui.cameras import CameraFound


def test_a_bad_file_shows_an_error_and_the_app_keeps_working(qtbot, window, clip, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_text("this is not a video")
    with qtbot.waitSignal(window.controller.error, timeout=READY_TIMEOUT_MS):
        window.open_source(str(broken))
    assert window.banner.isVisible() and window.banner.kind == "error"
    assert "broken.mp4" in window.banner.text()
    with qtbot.waitSignal(window.controller.error, timeout=READY_TIMEOUT_MS):
        window.open_source(str(tmp_path / "missing.mp4"))
    assert "no such file" in window.banner.text()

    with qtbot.waitSignal(window.controller.ended, timeout=READY_TIMEOUT_MS):
        window.open_source(str(clip))
    assert window.banner.isHidden()
    assert window.view.result.frame_index == CLIP_FRAMES - 1


@pytest.mark.parametrize("photos", [False, True])
def test_a_folder_opens_as_video_frames_or_as_separate_photos(qtbot, window, tmp_path, monkeypatch, photos):
    for index in range(2):
        cv2.imwrite(str(tmp_path / f"image{index}.png"), np.full((96, 128, 3), 60 * index, np.uint8))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(tmp_path))
    with qtbot.waitSignal(window.controller.source_opened, timeout=READY_TIMEOUT_MS) as opened:
        window.open_folder_dialog(photos=photos)
    assert opened.args[0].spec == str(tmp_path) and opened.args[0].frame_count == 2
    assert window.controller.worker.session.source.photos is photos


def test_dropping_a_file_opens_it_and_remembers_it(qtbot, window, clip):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(clip))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.controller.source_opened, timeout=READY_TIMEOUT_MS) as opened:
        window.dropEvent(drop)
    assert opened.args[0].spec == str(clip)
    assert [action.text() for action in window.recent_menu.actions()] == [str(clip)]


def test_step_and_seek_show_the_asked_frame(qtbot, window, clip):
    open_paused(qtbot, window, str(clip))
    assert window.view.result.frame_index == 0
    with qtbot.waitSignal(window.controller.frame_ready, timeout=READY_TIMEOUT_MS):
        window.transport.step_button.click()
    assert window.view.result.frame_index == 1
    with qtbot.waitSignal(window.controller.frame_ready, timeout=READY_TIMEOUT_MS):
        window.transport.slider.setValue(5)  # like a click on the slider's groove
    assert window.view.result.frame_index == 5
    assert window.transport.time_label.text() == "0:00.5 / 0:00.8"
    with qtbot.waitSignal(window.controller.frame_ready, timeout=READY_TIMEOUT_MS):
        window.transport.slider.setValue(2)  # backwards: the file is reopened
    assert window.view.result.frame_index == 2


def test_clicking_a_person_locks_their_track(qtbot, window, clip):
    open_paused(qtbot, window, str(clip))
    track_id = int(window.view.result.track_ids[0])
    box = window.view.result.boxes[0]
    target = window.view.image_rect()
    scale = target.width() / window.view.result.image_hw[1]
    centre = QPoint(round(target.left() + (box[0] + box[2]) / 2 * scale),
                    round(target.top() + (box[1] + box[3]) / 2 * scale))
    qtbot.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=centre)
    assert window.view.locked_track == track_id
    qtbot.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=centre)
    assert window.view.locked_track is None


def test_camera_dialog_lists_the_cameras_that_answer(qtbot):
    dialog = CameraDialog(probe=lambda: [CameraFound(0, (640, 480)), CameraFound(2, (1280, 720))])
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.probe_finished, timeout=READY_TIMEOUT_MS):
        dialog.show()
    assert [dialog.list.item(i).text() for i in range(dialog.list.count())] == [
        "Camera 0 (640x480)", "Camera 2 (1280x720)"]
    dialog.list.setCurrentRow(1)
    assert dialog.selected_index() == 2


def test_camera_dialog_without_cameras_lets_the_user_type_an_index(qtbot):
    dialog = CameraDialog(probe=list)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.probe_finished, timeout=READY_TIMEOUT_MS):
        dialog.show()
    assert dialog.list.count() == 0 and "No camera" in dialog.status_label.text()
    dialog.index_spin.setValue(3)
    assert dialog.selected_index() == 3


def test_a_camera_that_does_not_open_is_a_visible_error(qtbot, window):
    with qtbot.waitSignal(window.controller.error, timeout=READY_TIMEOUT_MS):
        window.open_source("57")
    assert "camera 57" in window.banner.text()
