"""Switch model and device, change settings while paused, and keep them between runs."""

from __future__ import annotations

import torch
from gui_support import READY_TIMEOUT_MS, open_paused

from app.core.config import DetectorConfig, PipelineConfig
from app.core.types import PipelineInfo
from app.gui.controls_panel import MEASURED_TEXT, UNTRAINED, ControlsPanel
from app.gui.main_window import MainWindow
from app.gui.settings import AppSettings


def select(combo, value) -> None:
    """Pick the item whose data is ``value``, as a user's click would (emits currentIndexChanged)."""
    index = combo.findData(value)
    assert index >= 0, f"{value!r} is not offered"
    combo.setCurrentIndex(index)


def test_model_list_marks_models_without_trained_weights(window):
    combo = window.controls.model_combo
    names = [combo.itemData(i) for i in range(combo.count())]
    assert names[:4] == ["edite_hrnet_s", "edite_hrnet_l", "dite_hrnet_18", "dite_hrnet_30"]
    assert "edite_hrnet_tiny" in names
    labels = {combo.itemData(i): combo.itemText(i) for i in range(combo.count())}
    assert labels["edite_hrnet_tiny"] == "EDite-HRNet-tiny" + UNTRAINED
    assert labels["dite_hrnet_18"].startswith("Dite-HRNet-18")
    assert combo.currentData() == "edite_hrnet_tiny"


def test_switch_model_and_device_rebuilds_in_the_worker(qtbot, window):
    controller = window.controller
    with qtbot.waitSignal(controller.pipeline_ready, timeout=READY_TIMEOUT_MS,
                          check_params_cb=lambda info: info.model == "lite_hrnet_18") as ready:
        select(window.controls.model_combo, "lite_hrnet_18")
    assert ready.args[0].device == "cpu"
    assert "lite_hrnet_18 on cpu" in window.status.device_label.text()

    assert window.controls.device_enabled("cuda") == torch.cuda.is_available()
    if torch.cuda.is_available():
        with qtbot.waitSignal(controller.pipeline_ready, timeout=READY_TIMEOUT_MS) as ready:
            select(window.controls.device_combo, "cuda")
        assert ready.args[0].device.startswith("cuda")
    else:  # chosen anyway (e.g. from old settings): a visible error, and the CPU pipeline stays
        with qtbot.waitSignal(controller.error, timeout=READY_TIMEOUT_MS):
            select(window.controls.device_combo, "cuda")
        assert window.banner.isVisible() and window.banner.kind == "error"
        assert "cuda" in window.banner.text().lower()
        assert "lite_hrnet_18 on cpu" in window.status.device_label.text()

    with qtbot.waitSignal(controller.pipeline_ready, timeout=READY_TIMEOUT_MS,
                          check_params_cb=lambda info: info.model == "edite_hrnet_tiny"):
        select(window.controls.device_combo, "auto")
        select(window.controls.model_combo, "edite_hrnet_tiny")
    assert window.controls.active_device_label.text() == "active: " + ("cuda:0" if torch.cuda.is_available()
                                                                       else "cpu")


def test_bad_weights_file_shows_an_error_and_the_old_model_keeps_running(qtbot, window, clip, tmp_path):
    bad = tmp_path / "weights.pth"
    bad.write_bytes(b"not a checkpoint")
    open_paused(qtbot, window, str(clip))
    with qtbot.waitSignal(window.controller.error, timeout=READY_TIMEOUT_MS):
        window.controls.weights_edit.setText(str(bad))
        window.controls.weights_edit.editingFinished.emit()
    assert "weights.pth" in window.banner.text()
    shown = window.view.frames_shown
    window.transport.step_button.click()
    qtbot.waitUntil(lambda: window.view.frames_shown > shown, timeout=READY_TIMEOUT_MS)
    assert window.view.result.frame_index == 1


def test_overlay_change_while_paused_redraws_the_frame(qtbot, window, clip):
    open_paused(qtbot, window, str(clip))
    before = window.view.frames_shown
    frame_index = window.view.result.frame_index
    window.overlay.keypoints_combo.setCurrentIndex(window.overlay.keypoints_combo.findData("raw"))
    qtbot.waitUntil(lambda: window.view.frames_shown > before, timeout=READY_TIMEOUT_MS)
    assert window.view.result.frame_index == frame_index  # the same frame, drawn again


def test_settings_persist_between_runs(qtbot, window, clip, settings_path):
    open_paused(qtbot, window, str(clip))
    window.controls.strength_slider.setValue(80)
    select(window.controls.detector_combo, "hog")
    select(window.controls.detector_size_combo, 640)
    window.overlay.trails_check.setChecked(True)
    window.close()

    saved = AppSettings.at(settings_path)
    assert saved.pipeline_config().smoother.strength == 0.8
    assert saved.pipeline_config().detector.image_size == 640
    assert saved.recent_files() == [str(clip)]
    assert saved.mode() == "process"
    again = MainWindow(saved)
    qtbot.addWidget(again)
    assert again.controls.strength_slider.value() == 80
    assert again.controls.detector_combo.currentData() == "hog"
    assert again.controls.detector_size_combo.currentData() == 640
    assert again.overlay.trails_check.isChecked()
    assert again.transport.mode() == "process"
    assert [action.text() for action in again.recent_menu.actions()] == [str(clip)]


def test_a_detector_size_set_outside_the_list_is_shown_and_kept(qtbot):
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    config = PipelineConfig(detector=DetectorConfig(image_size=800))
    panel.set_config(config)
    assert panel.detector_size_combo.currentText() == "800 px"
    assert panel.config().detector.image_size == 800
    panel.set_config(PipelineConfig())
    assert panel.config().detector.image_size is None


def test_the_min_pose_score_box_offers_the_weights_measured_value_and_a_set_one(qtbot):
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.set_config(PipelineConfig())  # by default: the value measured for the weights
    assert panel.pose_score_spin.text() == MEASURED_TEXT
    assert panel.config().detector.min_pose_score is None
    panel.pose_score_spin.stepUp()
    assert panel.config().detector.min_pose_score == 0.0  # keep everybody, a real setting
    panel.set_config(PipelineConfig(detector=DetectorConfig(min_pose_score=0.3)))
    assert panel.config().detector.min_pose_score == 0.3
    panel.pose_score_spin.setValue(panel.pose_score_spin.minimum())
    assert panel.config().detector.min_pose_score is None


def test_the_detector_line_names_the_detector_and_keeps_the_fallback_story_in_its_tooltip(qtbot):
    controls = ControlsPanel()
    qtbot.addWidget(controls)
    notice = "YOLO weights 'yolo11n.pt' are not on this machine ... -> using YOLO yolo11n-pose.pt ..."
    info = PipelineInfo(
        model="edite_hrnet_s", weights=None, weights_sha256=None, device="cpu", flip=True, half=False,
        runtime="onnx", runtime_ms_per_crop=None, runtime_tuning=False, detector="yolo",
        detector_description="YOLO yolo11n-pose.pt person boxes at 1280 px (cpu)", detector_is_fallback=False,
        detector_notice=notice, detect_every=10, redetect_score=0.35, min_pose_score=0.2,
        scores_from_weights=False,
    )
    controls.show_pipeline(info)
    assert controls.detector_label.text() == "active: YOLO yolo11n-pose.pt person boxes at 1280 px (cpu)"
    assert controls.detector_label.toolTip() == notice
