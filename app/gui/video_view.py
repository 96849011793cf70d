"""The video view: paints the annotated frame letterboxed, highlights the locked person, reports clicks."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.core.types import FrameResult

PLACEHOLDER = "Open a video (File > Open, or drop it here) or a camera (File > Open camera)"
HIGHLIGHT = QColor(255, 215, 0)
BACKGROUND = QColor(24, 24, 24)


class VideoView(QWidget):
    """Shows the newest :class:`DisplayFrame` image; a click on the picture emits image-pixel coordinates.

    The person whose track is locked (:meth:`set_locked_track`) is outlined; when they are out of view a
    note says so.
    """

    clicked = Signal(float, float)  # x, y in image pixels

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._image: QImage | None = None
        self._result: FrameResult | None = None
        self._locked: int | None = None
        self.frames_shown = 0

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(960, 600)

    # -- state ---------------------------------------------------------------------------------------------
    @property
    def result(self) -> FrameResult | None:
        """The result of the frame on screen."""
        return self._result

    @property
    def locked_track(self) -> int | None:
        return self._locked

    def show_frame(self, image: QImage, result: FrameResult) -> None:
        self._image, self._result = image, result
        self.frames_shown += 1
        self.update()

    def set_locked_track(self, track_id: int | None) -> None:
        self._locked = track_id
        self.update()

    def clear(self) -> None:
        self._image = self._result = self._locked = None
        self.update()

    # -- painting ------------------------------------------------------------------------------------------
    def image_rect(self) -> QRectF:
        """Where the picture is drawn: as large as fits, centred, aspect kept (empty without a picture)."""
        if self._image is None:
            return QRectF()
        size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        left, top = (self.width() - size.width()) / 2, (self.height() - size.height()) / 2
        return QRectF(left, top, size.width(), size.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._image is None:
            painter.setPen(QColor(200, 200, 200))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(self.rect(), flags, PLACEHOLDER)
            return
        target = self.image_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, self._image)
        if self._locked is not None:
            self._paint_lock(painter, target)

    def _paint_lock(self, painter: QPainter, target: QRectF) -> None:
        rows = np.flatnonzero(self._result.track_ids == self._locked) if self._result is not None else []
        painter.setPen(QPen(HIGHLIGHT, 3))
        if not len(rows):
            painter.drawText(target.adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignTop,
                             f"person #{self._locked} is out of view")
            return
        scale = target.width() / self._image.width()
        x1, y1, x2, y2 = (float(value) for value in self._result.boxes[rows[0]])
        box = QRectF(target.left() + x1 * scale, target.top() + y1 * scale,
                     (x2 - x1) * scale, (y2 - y1) * scale)
        painter.drawRect(box)
        painter.drawText(box.bottomLeft() + QPointF(2, 16), f"#{self._locked} locked")

    # -- input ---------------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        target = self.image_rect()
        position = event.position()
        if event.button() != Qt.MouseButton.LeftButton or not target.contains(position):
            super().mousePressEvent(event)
            return
        scale = self._image.width() / target.width()
        self.clicked.emit((position.x() - target.left()) * scale, (position.y() - target.top()) * scale)
