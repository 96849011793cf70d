"""Transport: play/pause, step, seek slider with time, the file mode, and progress with cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QToolButton,
    QWidget,
)

from app.core.types import SourceInfo

MODES = (("watch", "Watch (real time)"), ("process", "Process whole file"))
PROGRESS_TEXT_MARGIN_PX = 24
"""Room beside the progress text for the bar's frame and chunk padding."""


def format_time(seconds: float) -> str:
    """``83.25`` -> ``"1:23.2"`` (minutes:seconds.tenths)."""
    minutes, rest = divmod(max(seconds, 0.0), 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


class TransportBar(QWidget):
    """Requests playback actions; shows where playback is and how a whole-file run progresses.

    Play starts watching in watch mode, and starts processing the whole file (into the chosen outputs)
    in process mode. Live sources have no slider, no step and no process mode.
    """

    play_requested = Signal()
    pause_requested = Signal()
    step_requested = Signal()
    seek_requested = Signal(int)  # frame index
    mode_changed = Signal(str)  # "watch" | "process"
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = QPushButton("Play", clicked=self._play_or_pause)
        self.step_button = QToolButton(text="Step", toolTip="Show the next frame")
        self.step_button.clicked.connect(self.step_requested)
        self.slider = QSlider(Qt.Orientation.Horizontal, tracking=True)
        self.slider.valueChanged.connect(self._slider_moved)
        self.slider.sliderReleased.connect(lambda: self.seek_requested.emit(self.slider.value()))
        self.time_label = QLabel(format_time(0) + " / " + format_time(0))
        self.mode_combo = QComboBox(toolTip="Watch: real time, frames may be skipped to keep up.\n"
                                            "Process whole file: every frame, as fast as possible, "
                                            "into the chosen CSV / video.")
        for mode, label in MODES:
            self.mode_combo.addItem(label, mode)
        self.mode_combo.currentIndexChanged.connect(lambda _: self.mode_changed.emit(self.mode()))
        self.progress = QProgressBar(textVisible=True, format="%v / %m frames")
        widest = self.progress.fontMetrics().horizontalAdvance("000000 / 000000 frames")
        self.progress.setMinimumWidth(widest + PROGRESS_TEXT_MARGIN_PX)  # the text never wraps
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for widget in (self.play_button, self.step_button):
            layout.addWidget(widget)
        layout.addWidget(self.slider, 1)
        for widget in (self.time_label, self.mode_combo, self.progress, self.cancel_button):
            layout.addWidget(widget)
        self._fps: float | None = None
        self._state = "idle"
        self._live = False
        self.set_source(None)

    # -- inputs from the worker ----------------------------------------------------------------------------
    def mode(self) -> str:
        return self.mode_combo.currentData()

    def set_mode(self, mode: str) -> None:
        index = self.mode_combo.findData(mode)
        if index >= 0:
            self.mode_combo.setCurrentIndex(index)

    def set_source(self, info: SourceInfo | None) -> None:
        """A new source: the slider spans its frames (files) or disappears (cameras, nothing open)."""
        self._fps = info.fps if info is not None else None
        self._live = info is not None and info.is_live
        frames = info.frame_count if info is not None and not info.is_live else None
        self.slider.blockSignals(True)
        self.slider.setRange(0, max((frames or 1) - 1, 0))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.slider.setVisible(frames is not None)
        self._total_s = (frames / self._fps) if frames and self._fps else None
        self.time_label.setText(self._time_text(0.0))
        self._update_enabled()

    def set_position(self, frame_index: int, timestamp_s: float) -> None:
        """The frame on screen (the slider moves without asking to seek)."""
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(frame_index)
            self.slider.blockSignals(False)
        self.time_label.setText(self._time_text(timestamp_s))

    def set_state(self, state: str) -> None:
        """``idle``, ``paused``, ``playing`` or ``processing`` (from the worker)."""
        self._state = state
        self.play_button.setText("Pause" if state == "playing" else "Play")
        self._update_enabled()

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(done)

    # -- internals -----------------------------------------------------------------------------------------
    def _update_enabled(self) -> None:
        processing, has_source = self._state == "processing", self._state != "idle"
        self.play_button.setEnabled(has_source and not processing)
        self.step_button.setEnabled(has_source and not processing and not self._live)
        self.slider.setEnabled(has_source and not processing)
        self.mode_combo.setEnabled(not processing and not self._live)
        self.progress.setVisible(processing)
        self.cancel_button.setVisible(processing)

    def _play_or_pause(self) -> None:
        (self.pause_requested if self._state == "playing" else self.play_requested).emit()

    def _slider_moved(self, value: int) -> None:
        if self._fps:
            self.time_label.setText(self._time_text(value / self._fps))
        if not self.slider.isSliderDown():  # keyboard, wheel, page clicks: seek at once; drags on release
            self.seek_requested.emit(value)

    def _time_text(self, position_s: float) -> str:
        total = format_time(self._total_s) if self._total_s is not None else "live" if self._live else "-"
        return f"{format_time(position_s)} / {total}"
