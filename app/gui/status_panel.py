"""Status bar: source, resolution, fps in/out, per-stage milliseconds, device and pose runtime, drops, active
detector."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.core.types import PipelineInfo, SourceInfo
from app.gui.messages import DisplayFrame, elide_words

STAGES_SHOWN = ("detect", "pose", "track", "smooth", "render")
FALLBACK_STYLE = "color: #e0a000; font-weight: bold;"
NOTICE_MS = 20_000
"""How long the detector chain's notice (which step is used, and why) stays in the status bar."""


def _runtime_short(info: PipelineInfo) -> str:
    """``"onnx, timing runtimes"`` while the trials run, ``"openvino-bf16 4.5 ms/crop"`` once timed."""
    if info.runtime_tuning:
        return f"{info.runtime}, timing runtimes"
    if info.runtime_ms_per_crop is not None:
        return f"{info.runtime} {info.runtime_ms_per_crop:.1f} ms/crop"
    return info.runtime


def _fps(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


class StatusPanel(QStatusBar):
    """Permanent fields on the right; transient messages (what is loading) on the left."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source_label = QLabel("no source")
        self.resolution_label = QLabel()
        self.fps_label = QLabel(toolTip="frames per second delivered by the source -> processed and shown")
        self.stages_label = QLabel(toolTip="milliseconds per frame in each pipeline stage")
        self.drops_label = QLabel()
        self.device_label = QLabel()
        self.detector_label = QLabel()
        for label in (self.source_label, self.resolution_label, self.fps_label, self.stages_label,
                      self.drops_label, self.device_label, self.detector_label):
            self.addPermanentWidget(label)
        self._announced: str | None = None

    def show_source(self, info: SourceInfo | None) -> None:
        if info is None:
            self.source_label.setText("no source")
            self.resolution_label.clear()
            return
        kind = f"camera {info.spec}" if info.is_live else info.spec.rsplit("/", 1)[-1]
        self.source_label.setText(elide_words(kind, 40))
        self.source_label.setToolTip(info.spec)
        nominal = f" @ {info.fps:.3g} fps" if info.fps else ""
        self.resolution_label.setText(f"{info.size[0]}x{info.size[1]}{nominal}")
        self.drops_label.clear()

    def show_pipeline(self, info: PipelineInfo) -> None:
        self.device_label.setText(f"{info.model} on {info.device}{' fp16' if info.half else ''}, "
                                  f"{_runtime_short(info)}")
        self.device_label.setToolTip(f"pose runtime: {info.runtime_text}")
        fallback = " (offline fallback)" if info.detector_is_fallback else ""
        self.detector_label.setText(f"detector: {info.detector}{fallback}")
        self.detector_label.setStyleSheet(FALLBACK_STYLE if info.detector_is_fallback else "")
        scores = f"keypoint scores: {info.score_thresholds_text}"
        lines = [info.detector_description, scores, info.detector_notice]
        self.detector_label.setToolTip("\n".join(line for line in lines if line))
        if info.detector_notice and info.detector_notice != self._announced:  # once per detector chain
            self.showMessage(info.detector_notice, NOTICE_MS)
        self._announced = info.detector_notice

    def show_frame(self, display: DisplayFrame) -> None:
        stats, timings = display.stats, display.result.timings_ms
        self.fps_label.setText(f"fps in {_fps(stats.fps_in)} → out {_fps(stats.fps_out)}")
        stages = " ".join(f"{stage} {timings[stage]:.0f}" for stage in STAGES_SHOWN)
        self.stages_label.setText(f"ms: {stages} | total {timings['total']:.0f}")
        losses = []
        if stats.dropped:
            losses.append(f"dropped {stats.dropped}")
        if stats.skipped:
            losses.append(f"skipped {stats.skipped}")
        self.drops_label.setText(", ".join(losses) or "no frames lost")

    def show_busy(self, text: str) -> None:
        """What slow thing is happening (empty: nothing)."""
        if text:
            self.showMessage(text + "…")
        else:
            self.clearMessage()
