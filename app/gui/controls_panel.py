"""Pipeline controls: model, weights, device, flip test, detector, thresholds and smoothing.

The panel only maps widgets to a :class:`PipelineConfig` and back; it emits ``config_changed`` after each
edit and never builds anything itself.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.config import PipelineConfig
from app.core.types import PipelineInfo
from app.gui.catalog import Capabilities, model_label

DEVICES = (("auto", "Auto (CUDA if available)"), ("cpu", "CPU"), ("cuda", "CUDA"))
DETECTORS = (
    ("auto", "Auto: YOLO, else the offline fallback"),
    ("yolo", "YOLO"),
    ("hog", "Offline fallback (HOG)"),
    ("none", "None: the whole frame is one person"),
)
AUTO_DETECTOR_SIZE = 0
"""The detector-input combo's item for "the detector's own size" (``DetectorConfig.image_size`` None)."""
DETECTOR_SIZES = (
    (AUTO_DETECTOR_SIZE, "Auto (640; 1280 for the bundled YOLO11n-pose)"),
    (640, "640 px: fastest, people close to the camera"),
    (960, "960 px"),
    (1280, "1280 px: finds small people"),
)
STRENGTH_STEPS = 100
MEASURED_STEP = 0.05
MEASURED_TEXT = "measured"
"""What the minimum-pose-score box shows at its lowest step: the threshold measured for the weights."""
UNTRAINED = " (no trained weights)"


def _combo(items: tuple[tuple[object, str], ...]) -> QComboBox:
    combo = QComboBox()
    for value, label in items:
        combo.addItem(label, value)
    return combo


def _spin(low: float, high: float, step: float, tip: str) -> QDoubleSpinBox:
    return QDoubleSpinBox(minimum=low, maximum=high, singleStep=step, decimals=2, toolTip=tip,
                          keyboardTracking=False)


def _measured_or(score: float) -> float | None:
    """A score spin box's value; None where it shows :data:`MEASURED_TEXT` (below 0)."""
    return None if score < 0 else score


def _select(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


class ControlsPanel(QWidget):
    """Edits everything in :class:`PipelineConfig` except the overlay (see :mod:`app.gui.overlay_panel`)."""

    config_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = PipelineConfig()
        self.model_combo = QComboBox(toolTip="Pose model; models without trained weights find no real poses")
        self.weights_edit = QLineEdit(placeholderText="shipped weights (if any)", clearButtonEnabled=True)
        weights_button = QToolButton(text="…", toolTip="Choose a weights file", clicked=self._browse_weights)
        self.device_combo = _combo(DEVICES)
        self.active_device_label = QLabel("active: -")
        self.flip_check = QCheckBox("Flip test (more accurate; twice the crops to pose)")
        self.detector_combo = _combo(DETECTORS)
        self.detector_label = QLabel(wordWrap=True)
        self.detector_size_combo = _combo(DETECTOR_SIZES)
        self.detector_size_combo.setToolTip("YOLO's network input (longest side); smaller is faster and "
                                            "misses small people")
        self.confidence_spin = _spin(0.0, 1.0, 0.05, "Minimum detector score for a person box")
        self.detect_every_spin = QSpinBox(minimum=1, maximum=30, keyboardTracking=False,
                                          toolTip="Run the detector every k frames; follow people by their "
                                                  "keypoints in between")
        self.pose_score_spin = _spin(-MEASURED_STEP, 1.0, MEASURED_STEP,
                                     "People whose mean keypoint score is lower are dropped; lowest: the "
                                     "value measured for the weights")
        self.pose_score_spin.setSpecialValueText(MEASURED_TEXT)
        self.smooth_check = QCheckBox("Kalman smoothing")
        self.strength_slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=STRENGTH_STEPS,
                                       toolTip="0 follows the raw keypoints, 1 smooths most (more lag)")

        weights_row = QHBoxLayout()
        weights_row.addWidget(self.weights_edit, 1)
        weights_row.addWidget(weights_button)
        model_form = QFormLayout()
        model_form.addRow("Model", self.model_combo)
        model_form.addRow("Weights", weights_row)
        model_form.addRow("Device", self.device_combo)
        model_form.addRow("", self.active_device_label)
        model_form.addRow(self.flip_check)
        detector_form = QFormLayout()
        detector_form.addRow("Detector", self.detector_combo)
        detector_form.addRow(self.detector_label)
        detector_form.addRow("Detector input", self.detector_size_combo)
        detector_form.addRow("Person confidence", self.confidence_spin)
        detector_form.addRow("Detect every", self.detect_every_spin)
        detector_form.addRow("Min pose score", self.pose_score_spin)
        smoothing_form = QFormLayout()
        smoothing_form.addRow(self.smooth_check)
        smoothing_form.addRow("Strength", self.strength_slider)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for title, form in (("Pose model", model_form), ("Detection", detector_form),
                            ("Smoothing", smoothing_form)):
            group = QGroupBox(title)
            group.setLayout(form)
            layout.addWidget(group)

        for combo in (self.model_combo, self.device_combo, self.detector_combo, self.detector_size_combo):
            combo.currentIndexChanged.connect(self._edited)
        for spin in (self.confidence_spin, self.detect_every_spin, self.pose_score_spin):
            spin.valueChanged.connect(self._edited)
        for check in (self.flip_check, self.smooth_check):
            check.toggled.connect(self._edited)
        self.weights_edit.editingFinished.connect(self._edited)
        self.strength_slider.sliderReleased.connect(self._edited)
        self.strength_slider.valueChanged.connect(
            lambda _: None if self.strength_slider.isSliderDown() else self._edited())

    # -- config <-> widgets --------------------------------------------------------------------------------
    def set_config(self, config: PipelineConfig) -> None:
        """Show ``config`` (no ``config_changed``)."""
        self._base = config
        self.blockSignals(True)
        try:
            if self.model_combo.findData(config.model.name) < 0:
                self.model_combo.addItem(model_label(config.model.name), config.model.name)
            _select(self.model_combo, config.model.name)
            self.weights_edit.setText(config.model.weights or "")
            _select(self.device_combo, config.model.device)
            self.flip_check.setChecked(config.model.flip)
            _select(self.detector_combo, config.detector.name)
            size = config.detector.image_size or AUTO_DETECTOR_SIZE
            if self.detector_size_combo.findData(size) < 0:  # a size set on the command line or by hand
                self.detector_size_combo.addItem(f"{size} px", size)
            _select(self.detector_size_combo, size)
            self.confidence_spin.setValue(config.detector.confidence)
            self.detect_every_spin.setValue(config.detector.detect_every)
            score = config.detector.min_pose_score
            self.pose_score_spin.setValue(-MEASURED_STEP if score is None else score)
            self.smooth_check.setChecked(config.smoother.enabled)
            self.strength_slider.setValue(round(config.smoother.strength * STRENGTH_STEPS))
        finally:
            self.blockSignals(False)

    def config(self) -> PipelineConfig:
        """The settings on screen; what the panel does not show is kept from the last ``set_config``."""
        base = self._base
        return replace(
            base,
            model=replace(base.model, name=self.model_combo.currentData(),
                          weights=self.weights_edit.text().strip() or None,
                          device=self.device_combo.currentData(), flip=self.flip_check.isChecked()),
            detector=replace(base.detector, name=self.detector_combo.currentData(),
                             image_size=self.detector_size_combo.currentData() or None,
                             confidence=self.confidence_spin.value(),
                             detect_every=self.detect_every_spin.value(),
                             min_pose_score=_measured_or(self.pose_score_spin.value())),
            smoother=replace(base.smoother, enabled=self.smooth_check.isChecked(),
                             strength=self.strength_slider.value() / STRENGTH_STEPS),
        )

    # -- what the machine offers, and what is running ------------------------------------------------------
    def set_capabilities(self, capabilities: Capabilities) -> None:
        """List the models (marking those without trained weights); disable CUDA when there is none."""
        current = self.model_combo.currentData()
        self.blockSignals(True)
        try:
            self.model_combo.clear()
            for choice in capabilities.models:
                self.model_combo.addItem(choice.label + ("" if choice.trained else UNTRAINED), choice.name)
                self.model_combo.setItemData(self.model_combo.count() - 1, choice.hint,
                                             Qt.ItemDataRole.ToolTipRole)
            _select(self.model_combo, current)
            cuda = self.device_combo.model().item(self.device_combo.findData("cuda"))
            cuda.setEnabled(capabilities.cuda_available)
            cuda.setToolTip("" if capabilities.cuda_available else "no CUDA device found on this machine")
        finally:
            self.blockSignals(False)

    def show_pipeline(self, info: PipelineInfo) -> None:
        self.active_device_label.setText(f"active: {info.device}{' (fp16)' if info.half else ''}")
        fallback = " — offline fallback" if info.detector_is_fallback else ""
        self.detector_label.setText(f"active: {info.detector_description}{fallback}")
        self.detector_label.setToolTip(info.detector_notice or "")  # the status bar announces it too

    def device_enabled(self, device: str) -> bool:
        """Whether ``device`` can be chosen (CUDA is disabled on machines without it)."""
        model: QStandardItemModel = self.device_combo.model()
        return model.item(self.device_combo.findData(device)).isEnabled()

    # -- internals -----------------------------------------------------------------------------------------
    def _edited(self, *_: object) -> None:
        if not self.signalsBlocked():
            self.config_changed.emit()

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Pose model weights", self.weights_edit.text(),
                                              "PyTorch weights (*.pth *.pt);;All files (*)")
        if path:
            self.weights_edit.setText(path)
            self._edited()
