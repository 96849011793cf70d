"""Choose a camera: probes the usual indices in a pool thread, lists those that answer, or take any index."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.gui.cameras import CameraFound, probe_cameras

MAX_INDEX = 63


class _ProbeResults(QObject):
    """Carries the probe's answer from the pool thread to the GUI thread (a queued signal)."""

    done = Signal(object)  # list[CameraFound]


class CameraDialog(QDialog):
    """Lists the cameras found; ``selected_index()`` is the chosen one (or the index typed by hand)."""

    probe_finished = Signal(list)

    def __init__(
        self, parent: QWidget | None = None, probe: Callable[[], list[CameraFound]] = probe_cameras
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open camera")
        self._probe = probe
        self.status_label = QLabel()
        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._row_chosen)
        self.list.itemDoubleClicked.connect(lambda _: self.accept())
        self.index_spin = QSpinBox(minimum=0, maximum=MAX_INDEX)
        self.rescan_button = QPushButton("Rescan", clicked=self.rescan)
        choices = QDialogButtonBox.StandardButton
        buttons = QDialogButtonBox(choices.Open | choices.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        manual = QHBoxLayout()
        manual.addWidget(QLabel("Camera index"))
        manual.addWidget(self.index_spin)
        manual.addStretch(1)
        manual.addWidget(self.rescan_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addWidget(self.list)
        layout.addLayout(manual)
        layout.addWidget(buttons)
        self.rescan()

    def selected_index(self) -> int:
        return self.index_spin.value()

    def rescan(self) -> None:
        """Probe again, off the GUI thread."""
        self.list.clear()
        self.rescan_button.setEnabled(False)
        self.status_label.setText("Looking for cameras…")
        # The carrier has no parent: the closure keeps it alive even if the dialog closes meanwhile.
        results, probe = _ProbeResults(), self._probe
        results.done.connect(self._show_found)
        QThreadPool.globalInstance().start(lambda: results.done.emit(probe()))

    def _show_found(self, found: list[CameraFound]) -> None:
        self.rescan_button.setEnabled(True)
        for camera in found:
            item = QListWidgetItem(f"Camera {camera.index} ({camera.size[0]}x{camera.size[1]})")
            item.setData(Qt.ItemDataRole.UserRole, camera.index)
            self.list.addItem(item)
        if found:
            self.status_label.setText(f"{len(found)} camera(s) found")
            self.list.setCurrentRow(0)
        else:
            self.status_label.setText("No camera answered; type an index to try another one.")
        self.probe_finished.emit(found)

    def _row_chosen(self, row: int) -> None:
        if row >= 0:
            self.index_spin.setValue(self.list.item(row).data(Qt.ItemDataRole.UserRole))
