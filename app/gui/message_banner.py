"""A dismissible message strip above the video: errors in red, notices in blue. Never modal."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from app.gui.messages import elide_words

_COLOURS = {"error": ("#5c1a1a", "#ffdede"), "notice": ("#1a3a5c", "#deeeff")}  # background, text


class MessageBanner(QFrame):
    """Shows one message at a time; the close button (or :meth:`dismiss`) hides it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(wordWrap=True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton(text="✕", autoRaise=True, toolTip="Dismiss", clicked=self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.kind: str | None = None
        self.hide()

    def show_error(self, text: str) -> None:
        self._show("error", text)

    def show_notice(self, text: str) -> None:
        self._show("notice", text)

    def _show(self, kind: str, text: str) -> None:
        self.kind = kind
        background, text_colour = _COLOURS[kind]
        self.setStyleSheet(f"MessageBanner {{ background: {background}; border-radius: 4px; }} "
                           f"QLabel {{ color: {text_colour}; }}")
        self.label.setText(elide_words(text))  # long paths elided: the banner never widens the window
        self.label.setToolTip(text)
        self.show()

    def dismiss(self) -> None:
        self.kind = None
        self.label.clear()
        self.hide()

    def text(self) -> str:
        return self.label.text()
