"""Start the application: the QApplication, the main window, and an optional source to open."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app.gui.main_window import MainWindow
from app.gui.settings import APPLICATION, ORGANISATION, AppSettings

OPENCV_QT_VARIABLES = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")


def forget_opencv_qt() -> None:
    """Undo what importing opencv-python (the GUI wheel) does to the environment.

    It points Qt's plugin and font paths at the Qt build bundled inside cv2; PySide6 then fails to start
    with "Could not load the Qt platform plugin 'xcb'". Variables pointing elsewhere are left alone.
    """
    for name in OPENCV_QT_VARIABLES:
        if "cv2" in Path(os.environ.get(name, "")).parts:
            del os.environ[name]


def create_window(source: str | None = None, settings_path: str | None = None) -> MainWindow:
    """The main window (shown), with ``source`` opening; needs a QApplication."""
    settings = AppSettings.at(settings_path) if settings_path else AppSettings()
    window = MainWindow(settings)
    window.show()
    if source:
        window.open_source(source)
    return window


def run_app(source: str | None = None, settings_path: str | None = None) -> int:
    """Run the desktop app until its window closes; returns the exit code."""
    forget_opencv_qt()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    window = create_window(source, settings_path)  # noqa: F841 (kept alive while the app runs)
    return app.exec()
