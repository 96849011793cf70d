"""Overlay controls: skeleton, boxes, IDs, trails, raw vs smoothed keypoints, the keypoint score shown."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QVBoxLayout,
    QWidget,
)

from app.core.config import RenderConfig

KEYPOINT_SETS = (("smooth", "Smoothed"), ("raw", "Raw"), ("both", "Both (raw thin)"))


class OverlayPanel(QWidget):
    """Maps its widgets to a :class:`RenderConfig`; emits ``render_changed`` after each edit."""

    render_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = RenderConfig()
        self.skeleton_check = QCheckBox("Skeleton (keypoints coloured by confidence)")
        self.boxes_check = QCheckBox("Boxes")
        self.ids_check = QCheckBox("IDs")
        self.trails_check = QCheckBox("Trails")
        self.keypoints_combo = QComboBox(toolTip="Which keypoints to draw")
        for value, label in KEYPOINT_SETS:
            self.keypoints_combo.addItem(label, value)
        self.min_score_spin = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, decimals=2,
                                             keyboardTracking=False,
                                             toolTip="Keypoints scoring lower are not drawn")
        form = QFormLayout()
        for check in (self.skeleton_check, self.boxes_check, self.ids_check, self.trails_check):
            form.addRow(check)
            check.toggled.connect(self._edited)
        form.addRow("Keypoints", self.keypoints_combo)
        form.addRow("Min keypoint score", self.min_score_spin)
        self.keypoints_combo.currentIndexChanged.connect(self._edited)
        self.min_score_spin.valueChanged.connect(self._edited)
        group = QGroupBox("Overlay")
        group.setLayout(form)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(group)

    def set_render_config(self, config: RenderConfig) -> None:
        """Show ``config`` (no ``render_changed``)."""
        self._base = config
        self.blockSignals(True)
        try:
            self.skeleton_check.setChecked(config.skeleton)
            self.boxes_check.setChecked(config.boxes)
            self.ids_check.setChecked(config.ids)
            self.trails_check.setChecked(config.trails)
            self.keypoints_combo.setCurrentIndex(max(self.keypoints_combo.findData(config.keypoints), 0))
            self.min_score_spin.setValue(config.min_score)
        finally:
            self.blockSignals(False)

    def render_config(self) -> RenderConfig:
        return replace(
            self._base, skeleton=self.skeleton_check.isChecked(), boxes=self.boxes_check.isChecked(),
            ids=self.ids_check.isChecked(), trails=self.trails_check.isChecked(),
            keypoints=self.keypoints_combo.currentData(), min_score=self.min_score_spin.value(),
        )

    def _edited(self, *_: object) -> None:
        if not self.signalsBlocked():
            self.render_changed.emit()
