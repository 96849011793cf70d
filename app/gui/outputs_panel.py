"""Outputs: where the keypoint CSV (with its metadata JSON) and the annotated video go."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.gui.session import Outputs

HINT = ("Files: written in 'Process whole file' mode (every frame, like 'main.py run').\n"
        "Cameras: written while playing.")


class OutputsPanel(QWidget):
    """Two path fields with browse buttons; an empty field means that output is off."""

    outputs_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.csv_edit = QLineEdit(placeholderText="no CSV", clearButtonEnabled=True)
        self.video_edit = QLineEdit(placeholderText="no recording", clearButtonEnabled=True)
        form = QFormLayout()
        for label, edit, caption, pattern in (
            ("Export CSV", self.csv_edit, "Export keypoints to CSV", "CSV (*.csv)"),
            ("Record video", self.video_edit, "Record the annotated video", "Video (*.mp4 *.avi *.mov)"),
        ):
            button = QToolButton(text="…", toolTip=caption)
            button.clicked.connect(lambda _=False, e=edit, c=caption, p=pattern: self._browse(e, c, p))
            edit.editingFinished.connect(self.outputs_changed)
            edit.textChanged.connect(lambda text: None if text else self.outputs_changed.emit())  # cleared
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(button)
            form.addRow(label, row)
        form.addRow(QLabel(HINT, wordWrap=True))
        group = QGroupBox("Outputs")
        group.setLayout(form)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(group)

    def outputs(self) -> Outputs:
        csv, video = self.csv_edit.text().strip(), self.video_edit.text().strip()
        return Outputs(csv=Path(csv) if csv else None, video=Path(video) if video else None)

    def set_outputs(self, outputs: Outputs) -> None:
        """Show ``outputs`` and announce them."""
        self.csv_edit.setText(str(outputs.csv) if outputs.csv else "")
        self.video_edit.setText(str(outputs.video) if outputs.video else "")
        self.outputs_changed.emit()

    def _browse(self, edit: QLineEdit, caption: str, pattern: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, caption, edit.text(), pattern)
        if path:
            edit.setText(path)
            self.outputs_changed.emit()
