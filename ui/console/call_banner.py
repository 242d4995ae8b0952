"""The officer-call banner: an amber strip under the status line, one row per call not yet noted.

It shows the calls `CallBoard` keeps (a resident pressed "call the officer on duty" and no alarm engine
took the call as an incident): "呼叫值班民警 / Officer call", the station and where the kiosk stands, the
time, and a "Noted" button per call that emits `noted(key)` (the window decides). It pulses amber, never
the red takeover, and takes no room from the incident page beyond its rows.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.console.calls import CallView
from ui.console.style import set_prop
from ui.console.text import action_label, kind_label, translate

__all__ = ["MAX_ROWS", "CallBanner"]

MAX_ROWS = 3  # rows on show; more calls are counted on the last one


class _CallRow(QWidget):
    def __init__(self, banner: CallBanner) -> None:
        super().__init__()
        self.key = ""
        self.caption = QLabel()
        self.caption.setObjectName("callCaption")
        self.where = QLabel()
        self.where.setObjectName("callWhere")
        self.noted = QPushButton()
        self.noted.setObjectName("noted")
        self.noted.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.noted.clicked.connect(lambda: banner.noted.emit(self.key))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.caption)
        lay.addSpacing(12)
        lay.addWidget(self.where, 1)
        lay.addWidget(self.noted)

    def show_call(self, call: CallView, more: int) -> None:
        self.key = call.key
        self.caption.setText(kind_label("officer_call"))
        parts = [call.station, call.location, call.location_other, call.clock]
        if more:
            parts.append(translate("Console", "%1 more").replace("%1", str(more)))
        self.where.setText(" · ".join(p for p in parts if p))
        self.noted.setText(action_label("noted"))


class CallBanner(QFrame):
    noted = Signal(str)  # the call's key

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("calls")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._phase = False
        self.rows = [_CallRow(self) for _ in range(MAX_ROWS)]
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 8, 16, 8)
        lay.setSpacing(6)
        for row in self.rows:
            lay.addWidget(row)
        self.hide()

    def show_calls(self, calls: tuple[CallView, ...]) -> None:
        for i, row in enumerate(self.rows):
            if i < len(calls):
                more = len(calls) - MAX_ROWS if i == MAX_ROWS - 1 and len(calls) > MAX_ROWS else 0
                row.show_call(calls[i], more)
            row.setVisible(i < len(calls))
        self.setVisible(bool(calls))
        set_prop(self, "alert", ("b" if self._phase else "a") if calls else "off")

    def pulse(self) -> None:
        self._phase = not self._phase
        if self.isVisible():
            set_prop(self, "alert", "b" if self._phase else "a")
