"""The crew console's widgets and their places (like a Qt Designer `Ui_` class): built once, no behaviour.

`ConsoleWindow` builds a `ConsoleLayout` on itself, then connects the widgets' signals to its own slots.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui.console.call_banner import CallBanner
from ui.console.crew_panel import CrewBar, HistoryPage, ManualAlarmPanel
from ui.console.focus import FocusPanel
from ui.console.vehicle_panel import HitCard, VehicleHitPanel
from ui.console.widgets import DisconnectedOverlay, IncidentList, StatusStrip

__all__ = ["ConsoleLayout"]


class ConsoleLayout:
    """Header, status strip, officer calls, vehicle warnings, the page stack (idle, incidents, history, manual alarm),
    messages and the crew bar, laid out in `window`."""

    def __init__(self, window: QMainWindow) -> None:
        window.setWindowTitle("police-kiosk console")
        header = QWidget()
        header.setObjectName("header")
        self.title = QLabel()
        self.title.setObjectName("title")
        self.conn = QLabel()
        self.conn.setObjectName("conn")
        self.clock_label = QLabel()
        self.clock_label.setObjectName("clock")
        self.lang_button = QPushButton()
        self.lang_button.setObjectName("lang")
        self.lang_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        top = QHBoxLayout(header)
        top.setContentsMargins(20, 10, 20, 10)
        top.addWidget(self.title, 1)
        top.addWidget(self.conn)
        top.addSpacing(24)
        top.addWidget(self.clock_label)
        top.addSpacing(16)
        top.addWidget(self.lang_button)
        self.strip = StatusStrip()
        self.calls = CallBanner()  # officer calls no incident stands for, until noted
        self.hits = VehicleHitPanel()
        self.hits.hide()
        self.idle = QLabel()
        self.idle.setObjectName("idle")
        self.idle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.idle_sub = QLabel()
        self.idle_sub.setObjectName("idleSub")
        self.idle_sub.setAlignment(Qt.AlignmentFlag.AlignCenter)
        idle_page = QWidget()
        idle_lay = QVBoxLayout(idle_page)
        idle_lay.addStretch(1)
        idle_lay.addWidget(self.idle)
        idle_lay.addWidget(self.idle_sub)
        idle_lay.addStretch(1)
        self.focus = FocusPanel()
        self.list = IncidentList()
        self.side_hit = HitCard(compact=True)  # a vehicle warning while an incident is on screen
        self.side_hit.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.side_hit.hide()
        self.side = QWidget()
        self.side.setMinimumWidth(420)
        self.side.setMaximumWidth(560)
        side = QVBoxLayout(self.side)
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(12)
        side.addWidget(self.side_hit)
        side.addWidget(self.list, 1)
        side.addStretch(0)  # keeps the card at the top while the list is hidden
        incidents_page = QWidget()
        body = QHBoxLayout(incidents_page)
        body.setContentsMargins(16, 16, 16, 16)
        body.setSpacing(16)
        body.addWidget(self.focus, 3)
        body.addWidget(self.side, 1)
        self.history = HistoryPage()
        self.manual = ManualAlarmPanel()
        self.stack = QStackedWidget()
        self.pages: tuple[QWidget, ...] = (idle_page, incidents_page, self.history, self.manual)
        for page in self.pages:
            self.stack.addWidget(page)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.hide()
        self.crew = CrewBar()
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(header)
        lay.addWidget(self.strip)
        lay.addWidget(self.calls)
        lay.addWidget(self.hits)
        lay.addWidget(self.stack, 1)
        lay.addWidget(self.message)
        lay.addWidget(self.crew)
        window.setCentralWidget(central)
        self.overlay = DisconnectedOverlay(central)
