"""The idle warning: "are you still there?" with a countdown and a large "continue" button."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from ui.kiosk.i18n import translate
from ui.kiosk.widgets import button, label

__all__ = ["TimeoutOverlay"]


class TimeoutOverlay(QFrame):
    keep = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("Warn")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        box = QVBoxLayout(self)
        box.setContentsMargins(40, 30, 40, 30)
        self.title = label(name="Title")
        self.body = label(name="Subtitle")
        self.keep_button = button()
        self.keep_button.clicked.connect(self.keep.emit)
        box.addWidget(self.title)
        box.addWidget(self.body)
        box.addWidget(self.keep_button)
        self.seconds = 0
        self.hide()

    def show_countdown(self, seconds: float) -> None:
        self.seconds = math.ceil(seconds)
        self.retranslate()
        parent = self.parentWidget()
        if parent is not None:
            w, h = parent.width(), parent.height()
            self.setGeometry(w // 8, h // 3, w * 3 // 4, max(260, h // 3))
        self.show()
        self.raise_()

    def retranslate(self) -> None:
        self.title.setText(translate("Kiosk", "Are you still there?"))
        self.body.setText(
            translate("Kiosk", "In %1 seconds everything you entered will be cleared.").replace("%1", str(self.seconds))
        )
        self.keep_button.setText(translate("Kiosk", "Continue"))
