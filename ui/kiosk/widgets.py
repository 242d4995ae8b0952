"""Small widgets of the touchscreen: large buttons and tiles, and a line edit that masks personal data."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from kiosk.receipts import mask_value

__all__ = ["PersonalLineEdit", "Screen", "button", "label"]


class Screen(QWidget):
    """Base of the full-screen pages: `retranslate()` redraws their wording in the current language."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Screen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(30, 20, 30, 20)
        self.layout_.setSpacing(12)

    def retranslate(self) -> None:
        return None


def button(text: str = "", *, name: str = "", parent: QWidget | None = None) -> QPushButton:
    b = QPushButton(text, parent)
    if name:
        b.setObjectName(name)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # taps never steal the keyboard's target
    b.setCursor(Qt.CursorShape.PointingHandCursor)
    return b


def label(text: str = "", *, name: str = "", wrap: bool = True, parent: QWidget | None = None) -> QLabel:
    lbl = QLabel(text, parent)
    if name:
        lbl.setObjectName(name)
    lbl.setWordWrap(wrap)
    lbl.setTextFormat(Qt.TextFormat.PlainText)  # resident text is never interpreted as rich text
    return lbl


class PersonalLineEdit(QLineEdit):
    """Shows its value while the resident edits it, masked otherwise (`138****8000`, `张**`)."""

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self._value = ""
        self._editing = False

    def value(self) -> str:
        return self.text() if self._editing else self._value

    def set_value(self, value: str) -> None:
        self._value = value
        self.setText(value if self._editing else mask_value(self.kind, value))

    def begin_edit(self) -> None:
        if not self._editing:
            self._editing = True
            self.setText(self._value)

    def end_edit(self) -> None:
        if self._editing:
            self._value = self.text()
            self._editing = False
            self.setText(mask_value(self.kind, self._value))

    def wipe(self) -> None:
        self._value = ""
        self._editing = False
        self.clear()
