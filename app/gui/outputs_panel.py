"""Outputs: where the keypoint CSV (with its metadata JSON) and the annotated video go, checked as typed."""

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

from app.core.errors import SinkError
from app.core.sinks import Outputs
from app.gui.messages import elide_words

HINT = ("Files: written in 'Process whole file' mode (every frame, like 'main.py run').\n"
        "Cameras: written while playing.")


class OutputsPanel(QWidget):
    """Two path fields with browse buttons; an empty field means that output is off.

    Each change is checked as ``main.py run`` checks it (:meth:`~app.core.sinks.Outputs.check`) and a
    problem is shown under the fields, long paths elided; the full path is the field's tooltip.
    """

    outputs_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.csv_edit = QLineEdit(placeholderText="no CSV", clearButtonEnabled=True)
        self.video_edit = QLineEdit(placeholderText="no recording", clearButtonEnabled=True)
        form = QFormLayout()
        for label, edit, caption, pattern in (
            ("Export CSV", self.csv_edit, "Export keypoints to CSV", "CSV (*.csv)"),
            ("Record video", self.video_edit, "Record the annotated video", "Video (*.mp4 *.mov *.avi)"),
        ):
            button = QToolButton(text="…", toolTip=caption)
            button.clicked.connect(lambda _=False, e=edit, c=caption, p=pattern: self._browse(e, c, p))
            edit.editingFinished.connect(self.outputs_changed)
            edit.textChanged.connect(edit.setToolTip)
            edit.textChanged.connect(lambda text: None if text else self.outputs_changed.emit())  # cleared
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(button)
            form.addRow(label, row)
        self.problem_label = QLabel(wordWrap=True, styleSheet="color: #c0392b;")
        self.problem_label.hide()
        form.addRow(self.problem_label)
        form.addRow(QLabel(HINT, wordWrap=True))
        self.outputs_changed.connect(self.check)
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

    def check(self) -> str | None:
        """Show (and return) why the outputs cannot be written, or hide the message (None) when they can."""
        try:
            self.outputs().check()
        except SinkError as error:
            self.problem_label.setText(elide_words(str(error)))
            self.problem_label.setToolTip(str(error))
            self.problem_label.show()
            return str(error)
        self.problem_label.hide()
        return None

    def _browse(self, edit: QLineEdit, caption: str, pattern: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, caption, edit.text(), pattern)
        if path:
            edit.setText(path)
            self.outputs_changed.emit()
