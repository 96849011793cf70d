"""GUI start-up: no display, or a Qt platform plugin that cannot load, is one line saying what to do (before
Qt starts), --trust-weights reaches the pipeline, and the detector chain's notice is announced once in the
status bar."""

from __future__ import annotations

from dataclasses import replace

import pytest
from gui_support import READY_TIMEOUT_MS

import main
from app.core.types import PipelineInfo
from app.gui import app as gui_app
from app.gui import qt_platform
from app.gui.qt_platform import (
    XCB_LIBRARIES,
    missing_display,
    missing_xcb_libraries,
    platform_problem,
    uses_xcb,
    xcb_problem,
)
from app.gui.status_panel import StatusPanel

FRESH_DEBIAN = ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1")
"""What a fresh Debian/Ubuntu desktop lacks (issue 16)."""


def loader_without(*missing: str):
    """A stand-in for ctypes.CDLL: every library loads except `missing`."""

    def load(soname: str) -> object:
        if soname in missing:
            raise OSError(f"{soname}: cannot open shared object file: No such file or directory")
        return object()

    return load


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"DISPLAY": ":0"}, True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb:nograb"}, True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, True),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, False),  # Qt may pick Wayland
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, False),
        ({"QT_QPA_PLATFORM": "xcb"}, False),  # no X display: Qt fails for another reason
        ({}, False),
    ],
)
def test_xcb_is_checked_only_where_qt_would_use_it(environ, expected):
    assert uses_xcb(environ) is expected


def test_the_message_names_the_missing_libraries_their_packages_and_the_fix():
    problem = xcb_problem({"DISPLAY": ":0"}, loader_without(*FRESH_DEBIAN))
    assert problem == (
        "Qt's X11 (xcb) platform plugin cannot load: missing system libraries libxcb-cursor.so.0, "
        "libxcb-icccm.so.4, libxcb-keysyms.so.1; install them with: sudo apt-get install libxcb-cursor0 "
        "libxcb-icccm4 libxcb-keysyms1 (Debian/Ubuntu), or run without a display with "
        "QT_QPA_PLATFORM=offscreen"
    )


def test_only_what_is_missing_is_named():
    problem = xcb_problem({"DISPLAY": ":0"}, loader_without("libxkbcommon-x11.so.0"))
    assert "missing system libraries libxkbcommon-x11.so.0;" in problem
    assert "apt-get install libxkbcommon-x11-0 (Debian" in problem


def test_nothing_is_said_when_everything_loads_or_xcb_is_not_used():
    assert xcb_problem({"DISPLAY": ":0"}, loader_without()) is None
    headless = {"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}
    assert xcb_problem(headless, loader_without(*FRESH_DEBIAN)) is None


def test_every_library_is_tried():
    assert missing_xcb_libraries(loader_without(*XCB_LIBRARIES)) == list(XCB_LIBRARIES)
    assert missing_xcb_libraries(loader_without()) == []


def test_main_gui_prints_one_line_and_exits_1_before_qt_starts(monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(qt_platform.ctypes, "CDLL", loader_without("libxcb-cursor.so.0"))

    def must_not_start(*args, **kwargs):
        raise AssertionError("Qt was started")

    monkeypatch.setattr(gui_app, "run_app", must_not_start)
    assert main.main(["gui"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("edite-pose gui: Qt's X11 (xcb) platform plugin cannot load")
    assert "apt-get install libxcb-cursor0 (Debian/Ubuntu)" in err and "QT_QPA_PLATFORM=offscreen" in err


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, ("DISPLAY", "WAYLAND_DISPLAY")),
        ({"QT_QPA_PLATFORM": "xcb"}, ("DISPLAY",)),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, ("DISPLAY",)),
        ({"QT_QPA_PLATFORM": "wayland"}, ("WAYLAND_DISPLAY",)),
        ({"DISPLAY": ":0"}, ()),
        ({"WAYLAND_DISPLAY": "wayland-0"}, ()),
        ({"QT_QPA_PLATFORM": "offscreen"}, ()),
        ({"QT_QPA_PLATFORM": "minimal"}, ()),
    ],
)
def test_no_display_is_seen_where_qt_would_need_one(monkeypatch, environ, missing):
    monkeypatch.setattr(qt_platform.sys, "platform", "linux")
    assert missing_display(environ) == missing


def test_no_display_is_said_before_the_libraries_are_tried(monkeypatch):
    monkeypatch.setattr(qt_platform.sys, "platform", "linux")
    problem = platform_problem({}, loader_without(*FRESH_DEBIAN))
    assert problem.startswith("no display to open a window on (DISPLAY and WAYLAND_DISPLAY not set)")
    assert "'main.py run'" in problem and "QT_QPA_PLATFORM=offscreen" in problem
    assert platform_problem({"DISPLAY": ":0"}, loader_without()) is None


def test_main_gui_without_a_display_exits_1_before_qt_starts(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(qt_platform.sys, "platform", "linux")
    monkeypatch.setattr(gui_app, "run_app", lambda *args, **kwargs: pytest.fail("Qt was started"))
    assert main.main(["gui"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("edite-pose gui: no display to open a window on")


@pytest.mark.parametrize("flag", [[], ["--trust-weights"]])
def test_gui_passes_trust_weights_to_the_app(monkeypatch, flag):
    started = []
    monkeypatch.setattr(gui_app, "run_app", lambda *args, **kwargs: started.append(kwargs) or 0)
    assert main.main(["gui", *flag]) == 0
    assert started == [{"trust_weights": bool(flag)}]


@pytest.mark.parametrize("trust", [False, True])
def test_the_launch_trust_reaches_the_pipeline(qtbot, settings_path, trust):
    window = gui_app.create_window(settings_path=str(settings_path), trust_weights=trust)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.status.device_label.text() != "", timeout=READY_TIMEOUT_MS)
    assert window.controller.worker.session.pipeline.config.detector.trust_weights is trust


def _info(notice: str | None) -> PipelineInfo:
    return PipelineInfo(
        model="edite_hrnet_s", weights=None, weights_sha256=None, device="cpu", flip=True, half=False,
        runtime="onnx", runtime_ms_per_crop=None, runtime_tuning=True,
        detector="yolo", detector_description="YOLO yolo11n-pose.pt person boxes at 1280 px (cpu)",
        detector_is_fallback=False, detector_notice=notice, detect_every=10,
        redetect_score=0.35, min_pose_score=0.2, scores_from_weights=False,
    )


def test_the_detector_chain_notice_is_announced_once_in_the_status_bar(qtbot):
    status = StatusPanel()
    qtbot.addWidget(status)
    notice = "YOLO weights 'yolo11n.pt' are not on this machine ... -> using YOLO yolo11n-pose.pt ..."
    status.show_pipeline(_info(notice))
    assert status.currentMessage() == notice
    assert notice in status.detector_label.toolTip()
    assert "re-detect below 0.35, drop people below 0.2 (defaults)" in status.detector_label.toolTip()
    status.clearMessage()
    status.show_pipeline(_info(notice))  # another settings change, same detector chain
    assert status.currentMessage() == ""
    status.show_pipeline(_info(None))
    status.show_pipeline(_info(notice))  # the chain changed back: said again
    assert status.currentMessage() == notice


def test_the_status_bar_shows_the_pose_runtime_and_its_ms_per_crop_once_timed(qtbot):
    status = StatusPanel()
    qtbot.addWidget(status)
    status.show_pipeline(_info(None))
    assert status.device_label.text() == "edite_hrnet_s on cpu, onnx, timing runtimes"
    assert "in the background" in status.device_label.toolTip()
    status.show_pipeline(replace(_info(None), runtime="openvino-bf16", runtime_ms_per_crop=4.46,
                                 runtime_tuning=False))
    assert status.device_label.text() == "edite_hrnet_s on cpu, openvino-bf16 4.5 ms/crop"
    tip = "pose runtime: openvino-bf16, 4.5 ms per crop (the fastest on this CPU)"
    assert status.device_label.toolTip() == tip
    status.show_pipeline(replace(_info(None), runtime="torch", runtime_tuning=False))  # forced: not timed
    assert status.device_label.text() == "edite_hrnet_s on cpu, torch"
