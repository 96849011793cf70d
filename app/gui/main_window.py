"""The main window: lays out the widgets and wires them to the worker; no processing happens here."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMenu,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.core.config import PipelineConfig
from app.core.session import RunSession
from app.core.types import SourceInfo
from app.gui.camera_dialog import CameraDialog
from app.gui.controller import PipelineController
from app.gui.controls_panel import ControlsPanel
from app.gui.message_banner import MessageBanner
from app.gui.messages import RunReport
from app.gui.outputs_panel import OutputsPanel
from app.gui.overlay_panel import OverlayPanel
from app.gui.selection import track_at
from app.gui.settings import AppSettings
from app.gui.status_panel import StatusPanel
from app.gui.transport_bar import TransportBar
from app.gui.video_view import VideoView
from app.gui.worker import PipelineWorker

TITLE = "EDite-Pose"
FIRST_SIZE = (1400, 900)
"""Window size (pixels) on the first start; later starts restore the last one."""
VIDEO_FILTER = "Videos and images (*.mp4 *.avi *.mov *.mkv *.m4v *.webm *.jpg *.png *.bmp);;All files (*)"


class MainWindow(QMainWindow):
    """The application window.

    Args:
        settings: where settings persist (tests pass an isolated INI file).
        worker: the pipeline worker; by default one over a fresh :class:`RunSession`. It is moved to its own
            thread, which :meth:`closeEvent` ends after finalising any outputs.
    """

    def __init__(self, settings: AppSettings, worker: PipelineWorker | None = None) -> None:
        super().__init__()
        self.setWindowTitle(TITLE)
        self.setAcceptDrops(True)
        self.settings = settings
        self.controller = PipelineController(worker or PipelineWorker(RunSession()), self)
        self.banner = MessageBanner()
        self.view = VideoView()
        self.transport = TransportBar()
        self.controls = ControlsPanel()
        self.overlay = OverlayPanel()
        self.outputs_panel = OutputsPanel()
        self.status = StatusPanel()
        self.camera_dialog: CameraDialog | None = None
        self._lay_out()
        self._build_menus()
        self._wire()
        self._restore()

    # -- public actions (menus, drops, the command line and tests all come here) ---------------------------
    def open_source(self, spec: str, photos: bool = False) -> None:
        """Open a video, image, folder or camera index; a file starts playing in watch mode. ``photos``: the
        folder's images are separate photos, each posed on its own (no tracking across them)."""
        self.controller.open(spec, autoplay=self.transport.mode() == "watch", photos=photos)

    def open_file_dialog(self) -> None:
        recent = self.settings.recent_files()
        folder = str(Path(recent[0]).parent) if recent else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open video", folder, VIDEO_FILTER)
        if path:
            self.open_source(path)

    def open_folder_dialog(self, photos: bool) -> None:
        """Pick a folder of images: frames of one video (tracked), or separate ``photos``."""
        title = "Open folder of photos" if photos else "Open folder of video frames"
        folder = QFileDialog.getExistingDirectory(self, title)
        if folder:
            self.open_source(folder, photos=photos)

    def open_camera_dialog(self) -> None:
        """Non-modal for the rest of the app: the camera opens when the dialog is accepted."""
        dialog = self.camera_dialog = CameraDialog(self)
        dialog.accepted.connect(lambda: self.open_source(str(dialog.selected_index())))
        dialog.open()

    def config(self) -> PipelineConfig:
        """The settings the controls show."""
        return replace(self.controls.config(), render=self.overlay.render_config())

    # -- layout --------------------------------------------------------------------------------------------
    def _lay_out(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.transport)
        self.setCentralWidget(central)
        panels = QWidget()
        column = QVBoxLayout(panels)
        for panel in (self.controls, self.overlay, self.outputs_panel):
            column.addWidget(panel)
        column.addStretch(1)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(panels)
        dock = QDockWidget("Settings", self, objectName="settings-dock")
        dock.setWidget(scroll)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.setStatusBar(self.status)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(QAction("&Open video…", self, shortcut=QKeySequence.StandardKey.Open,
                                    triggered=self.open_file_dialog))
        file_menu.addAction(QAction("Open folder of video &frames…", self,
                                    triggered=lambda: self.open_folder_dialog(photos=False)))
        file_menu.addAction(QAction("Open folder of &photos…", self,
                                    triggered=lambda: self.open_folder_dialog(photos=True)))
        file_menu.addAction(QAction("Open &camera…", self, shortcut="Ctrl+K",
                                    triggered=self.open_camera_dialog))
        self.recent_menu = QMenu("Open &recent", self)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit,
                                    triggered=self.close))
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(QAction("&Release locked person", self, shortcut="Esc",
                                    triggered=lambda: self.view.set_locked_track(None)))

    def _show_recent(self, paths: list[str]) -> None:
        self.recent_menu.clear()
        for path in paths:
            self.recent_menu.addAction(path, lambda p=path: self.open_source(p))
        self.recent_menu.setEnabled(bool(paths))

    # -- wiring --------------------------------------------------------------------------------------------
    def _wire(self) -> None:
        controller, transport = self.controller, self.transport
        self.controls.config_changed.connect(self._config_edited)
        self.overlay.render_changed.connect(self._config_edited)
        self.outputs_panel.outputs_changed.connect(self._outputs_edited)
        transport.play_requested.connect(controller.play)
        transport.pause_requested.connect(controller.pause)
        transport.step_requested.connect(controller.step)
        transport.seek_requested.connect(controller.seek)
        transport.cancel_requested.connect(controller.cancel)
        transport.mode_changed.connect(self._mode_edited)
        self.view.clicked.connect(self._view_clicked)
        controller.capabilities_ready.connect(self.controls.set_capabilities)
        controller.pipeline_ready.connect(self.controls.show_pipeline)
        controller.pipeline_ready.connect(self.status.show_pipeline)
        controller.source_opened.connect(self._source_opened)
        controller.frame_ready.connect(self._frame_ready)
        controller.state_changed.connect(transport.set_state)
        controller.progress.connect(transport.set_progress)
        controller.run_finished.connect(self._run_finished)
        controller.busy.connect(self.status.show_busy)
        controller.notice.connect(self.banner.show_notice)
        controller.error.connect(self.banner.show_error)

    def _restore(self) -> None:
        settings = self.settings
        config = settings.pipeline_config()
        self.controls.set_config(config)
        self.overlay.set_render_config(config.render)
        self.transport.set_mode(settings.mode())
        self.controller.set_mode(self.transport.mode())
        self.outputs_panel.set_outputs(settings.outputs())
        self._show_recent(settings.recent_files())
        geometry = settings.geometry()
        if geometry is None:
            self.resize(*FIRST_SIZE)
        else:
            self.restoreGeometry(geometry)
        self.controller.start(config)

    # -- reactions -----------------------------------------------------------------------------------------
    def _config_edited(self) -> None:
        config = self.config()
        self.settings.set_pipeline_config(config)
        self.controller.configure(config)

    def _outputs_edited(self) -> None:
        outputs = self.outputs_panel.outputs()
        self.settings.set_outputs(outputs)
        self.controller.set_outputs(outputs)

    def _mode_edited(self, mode: str) -> None:
        self.settings.set_mode(mode)
        self.controller.set_mode(mode)

    def _source_opened(self, info: SourceInfo) -> None:
        if self.banner.kind == "error":
            self.banner.dismiss()
        self.view.clear()
        self.transport.set_source(info)
        self.status.show_source(info)
        self.setWindowTitle(f"{TITLE} — {info.spec}")
        if not info.is_live:
            self._show_recent(self.settings.add_recent(info.spec))

    def _frame_ready(self) -> None:
        display = self.controller.frames.take()
        if display is None:
            return
        self.view.show_frame(display.image, display.result)
        self.status.show_frame(display)
        self.transport.set_position(display.result.frame_index, display.result.timestamp_s)

    def _run_finished(self, report: RunReport) -> None:
        verb = "cancelled after" if report.cancelled else "processed"
        written = ", ".join(path.name for path in report.paths) or "nothing written"
        self.banner.show_notice(f"{verb} {report.frames} frames: {written}")

    def _view_clicked(self, x: float, y: float) -> None:
        result = self.view.result
        track_id = track_at(result, x, y) if result is not None else None
        self.view.set_locked_track(None if track_id == self.view.locked_track else track_id)

    # -- Qt events -----------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt's name)
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt's name)
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_source(files[0])

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Save the settings, then let the worker finish its frame and finalise the outputs before closing."""
        self.settings.set_geometry(self.saveGeometry())
        self.settings.sync()
        self.controller.shutdown()
        event.accept()
