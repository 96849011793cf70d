"""Start the application: the QApplication, the main window, and an optional source to open."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from app.gui.main_window import MainWindow
from app.gui.settings import APPLICATION, ORGANISATION, AppSettings


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
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    window = create_window(source, settings_path)  # noqa: F841 (kept alive while the app runs)
    return app.exec()
