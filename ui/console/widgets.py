"""The console's smaller widgets: a 1-3-5 timer bar, an incident card and list, the status strip, and
the "daemon disconnected" overlay. Each draws a piece of the view-model and keeps no state of its own."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ui.console.style import set_prop
from ui.console.text import camera_state_label, kind_label, notice_label, state_label, target_label, translate
from ui.console.views import ConsoleView, IncidentView, TimerView, duration_text
from ui.console.vision import CameraLineView

__all__ = [
    "DisconnectedOverlay",
    "IncidentList",
    "StatusStrip",
    "TimerBar",
    "camera_text",
    "target_caption",
    "timer_text",
]


def target_caption(timer: TimerView) -> str:
    minutes = timer.target_s / 60
    if minutes == int(minutes):
        span = translate("Console", "%1 min").replace("%1", str(int(minutes)))
    else:
        span = translate("Console", "%1 s").replace("%1", str(int(timer.target_s)))
    return f"{target_label(timer.name)} · {span}"


def timer_text(timer: TimerView) -> str:
    if timer.status == "met":
        return translate("Console", "done in %1").replace("%1", duration_text(timer.used_s))
    if timer.status == "late":
        return translate("Console", "late by %1").replace("%1", duration_text(-timer.remaining_s))
    if timer.status == "red":
        return translate("Console", "%1 over").replace("%1", duration_text(-timer.remaining_s))
    return translate("Console", "%1 left").replace("%1", duration_text(timer.remaining_s))


def camera_text(line: CameraLineView) -> str:
    """ "Cameras 2/3 online", then the ones that are down by name, or how many are still starting."""
    text = translate("Console", "Cameras %1/%2 online").replace("%1", str(line.online)).replace("%2", str(line.total))
    if line.down:
        pattern = translate("Console", "%1 (%2)")
        names = translate("Console", ", ").join(
            pattern.replace("%1", c.name).replace("%2", camera_state_label(c.state)) for c in line.down
        )
        text += " · " + translate("Console", "offline: %1").replace("%1", names)
    elif line.starting:
        text += " " + translate("Console", "(%1 starting)").replace("%1", str(line.starting))
    return text


def _label(name: str, text: str = "") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    return label


class TimerBar(QFrame):
    """One 1-3-5 target: its name and span, a bar that fills with the time used, and the time left or over."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timer")
        self.status = ""
        self.name = _label("timerName")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.text = _label("timerText")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 10, 14, 10)
        lay.addWidget(self.name)
        lay.addWidget(self.bar)
        lay.addWidget(self.text)

    def show_timer(self, timer: TimerView) -> None:
        self.status = timer.status
        set_prop(self, "status", timer.status, deep=True)
        self.name.setText(target_caption(timer))
        self.bar.setValue(int(timer.fraction * 1000))
        self.text.setText(timer_text(timer))


class IncidentCard(QFrame):
    """An open incident in the list: site, point, state, elapsed time and three coloured target pills."""

    clicked = Signal(str)

    def __init__(self, iid: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.iid = iid
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.site = _label("cardSite")
        self.point = _label("cardPoint")
        self.state = _label("cardState")
        self.elapsed = _label("cardElapsed")
        self.pills = [_label("pill") for _ in range(3)]
        self.site.setWordWrap(True)
        self.point.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.state, 1)
        row.addWidget(self.elapsed)
        pills = QHBoxLayout()
        for pill in self.pills:
            pill.setAlignment(Qt.AlignmentFlag.AlignCenter)
            pills.addWidget(pill, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 10, 14, 10)
        lay.setSpacing(4)
        lay.addWidget(self.site)
        lay.addWidget(self.point)
        lay.addLayout(row)
        lay.addLayout(pills)

    def show_incident(self, view: IncidentView, focused: bool) -> None:
        set_prop(self, "focused", "true" if focused else "false")
        set_prop(self, "alert", "true" if view.alerting else "false")
        self.site.setText(view.site)
        self.point.setText(f"{kind_label(view.kind)} · {view.point}")
        self.state.setText(state_label(view.state))
        self.elapsed.setText(view.elapsed)
        for pill, timer in zip(self.pills, view.timers):
            set_prop(pill, "status", timer.status)
            pill.setText(target_label(timer.name))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.clicked.emit(self.iid)
        super().mousePressEvent(event)


class IncidentList(QScrollArea):
    """Every open incident, newest alarm on top; a click puts one in focus."""

    selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.cards: dict[str, IncidentCard] = {}
        inner = QWidget()
        self._lay = QVBoxLayout(inner)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self._lay.setSpacing(10)
        self.title = _label("listTitle")
        self._lay.addWidget(self.title)
        self._lay.addStretch(1)
        self.setWidget(inner)

    def show_incidents(self, views: tuple[IncidentView, ...], focus_id: str | None) -> None:
        self.title.setText(translate("Console", "Open incidents: %1").replace("%1", str(len(views))))
        wanted = [v.id for v in views]
        for iid in set(self.cards) - set(wanted):
            card = self.cards.pop(iid)
            self._lay.removeWidget(card)
            card.deleteLater()
        for pos, view in enumerate(views):
            card = self.cards.get(view.id) or self._new_card(view.id)
            if self._lay.indexOf(card) != pos + 1:
                self._lay.insertWidget(pos + 1, card)
            card.show_incident(view, view.id == focus_id)

    def _new_card(self, iid: str) -> IncidentCard:
        card = self.cards[iid] = IncidentCard(iid)
        card.clicked.connect(self.selected)
        return card

    def order(self) -> list[str]:
        """The incident ids as shown, top to bottom."""
        items = (self._lay.itemAt(i) for i in range(self._lay.count()))
        return [w.iid for w in (item.widget() for item in items if item is not None) if isinstance(w, IncidentCard)]


class StatusStrip(QFrame):
    """Schools whose alarm link is lost, device and service faults, the console's own notices."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("strip")
        self._lay = QHBoxLayout(self)
        self._lay.setContentsMargins(16, 8, 16, 8)
        self._lay.setSpacing(10)
        self.chips: list[QLabel] = []
        self._lay.addStretch(1)

    def show_status(self, view: ConsoleView) -> None:
        chips: list[tuple[str, str]] = []
        for link in view.lost_links:
            text = translate("Console", "LINK LOST: %1").replace("%1", link.site)
            if link.since_clock:
                text += " " + translate("Console", "since %1").replace("%1", link.since_clock)
            chips.append(("lost", text))
        for fault in view.faults:
            chips.append(
                (
                    fault.severity if fault.severity in {"error", "warning"} else "error",
                    translate("Console", "FAULT: %1").replace("%1", fault.message or fault.code),
                )
            )
        for notice in view.notices:
            chips.append(("warning", notice_label(notice)))
        cameras = view.vision.cameras
        if cameras is not None and cameras.total:
            chips.insert(0, (cameras.level, camera_text(cameras)))
        if not view.lost_links and view.links_total:
            chips.insert(0, ("ok", translate("Console", "All %1 school links OK").replace("%1", str(view.links_total))))
        if not chips:
            chips.append(("ok", translate("Console", "No faults")))
        while len(self.chips) < len(chips):
            chip = _label("chip")
            self._lay.insertWidget(len(self.chips), chip)
            self.chips.append(chip)
        for chip, (level, text) in zip(self.chips, chips):
            set_prop(chip, "level", level)
            chip.setText(text)
            chip.show()
        for chip in self.chips[len(chips) :]:
            chip.hide()

    def texts(self) -> list[str]:
        return [c.text() for c in self.chips if not c.isHidden()]


class DisconnectedOverlay(QWidget):
    """Covers its parent while the station service is away; the link reconnects by itself."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.title = _label("overlayTitle")
        self.sub = _label("overlaySub")
        for label in (self.title, self.sub):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        lay.addWidget(self.title)
        lay.addWidget(self.sub)
        lay.addStretch(1)
        parent.installEventFilter(self)
        self.setGeometry(parent.rect())

    def show_state(self, view: ConsoleView) -> None:
        self.setVisible(not view.connected)
        if view.connected:
            return
        self.title.setText(translate("Console", "Station service not connected"))
        sub = translate("Console", "Alarms cannot reach this console. Reconnecting by itself…")
        if view.disconnected_for:
            sub += "\n" + translate("Console", "Disconnected for %1").replace("%1", view.disconnected_for)
        self.sub.setText(sub)
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.parent():
            parent = self.parentWidget()
            if parent is not None:
                self.setGeometry(parent.rect())
        return False
