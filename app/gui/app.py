"""Start the application: the QApplication, the main window, and an optional source to open."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app.core.session import RunSession
from app.gui.catalog import probe_capabilities
from app.gui.main_window import MainWindow
from app.gui.settings import APPLICATION, ORGANISATION, AppSettings
from app.gui.worker import PipelineWorker

OPENCV_QT_VARIABLES = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")


def forget_opencv_qt() -> None:
    """Undo what importing opencv-python (the GUI wheel) does to the environment.

    It points Qt's plugin and font paths at the Qt build bundled inside cv2; PySide6 then fails to start
    with "Could not load the Qt platform plugin 'xcb'". Variables pointing elsewhere are left alone.
    """
    for name in OPENCV_QT_VARIABLES:
        if "cv2" in Path(os.environ.get(name, "")).parts:
            del os.environ[name]


def create_window(
    source: str | None = None, settings_path: str | None = None, trust_weights: bool = False
) -> MainWindow:
    """The main window (shown), with ``source`` opening; needs a QApplication. ``trust_weights``: the
    command line's ``--trust-weights`` (see :func:`app.gui.catalog.as_launched`)."""
    settings = AppSettings.at(settings_path) if settings_path else AppSettings()
    probe = functools.partial(probe_capabilities, trust_weights=trust_weights)
    window = MainWindow(settings, PipelineWorker(RunSession(), probe=probe))
    window.show()
    if source:
        window.open_source(source)
    return window


def run_app(source: str | None = None, settings_path: str | None = None, trust_weights: bool = False) -> int:
    """Run the desktop app until its window closes; returns the exit code."""
    forget_opencv_qt()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    window = create_window(source, settings_path, trust_weights)  # noqa: F841 (kept alive while the app runs)
    return app.exec()
