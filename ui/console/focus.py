"""The incident in focus, full size: the alarm takeover view.

While the incident alerts, the panel pulses red (`pulse()` flips it, the window's timer calls it). It
shows the kind, the school and the button (both languages when the daemon sent both), when it was
raised and a live elapsed counter, the three 1-3-5 timers, the last steps of its timeline, and the big
buttons for the next step. Closing asks for the outcome inline (real / false alarm / test), never in a
modal dialog. Buttons emit `action(incident_id, action, argument)`; the window makes the call.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from ui.console.calls import CALL_KINDS
from ui.console.style import set_prop
from ui.console.text import action_label, kind_label, reason_label, source_label, state_label, step_label, translate
from ui.console.views import IncidentView
from ui.console.widgets import TimerBar

__all__ = ["FocusPanel"]

OUTCOMES = ("real", "false_alarm", "test")


def _label(name: str, *, wrap: bool = False) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(wrap)
    return label


def _button(name: str, prop: str = "") -> QPushButton:
    button = QPushButton()
    button.setObjectName(name)
    button.setProperty("action", prop)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


class FocusPanel(QFrame):
    action = Signal(str, str, str)  # incident id, ack|dispatch|arrive|close, unit or outcome
    silence = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("focus")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.view: IncidentView | None = None
        self._phase = False
        self._closing = False
        self.kind = _label("kind")
        self.reason = _label("reason")
        self.state = _label("badge")
        self.escalated = _label("badge")
        self.presses = _label("badge")
        self.restored = _label("badge")
        self.site = _label("site", wrap=True)
        self.site_other = _label("siteOther")
        self.point = _label("point", wrap=True)
        self.point_other = _label("pointOther")
        self.raised_at = _label("raisedAt")
        self.elapsed = _label("elapsed")
        self.elapsed_caption = _label("caption")
        self.timers = [TimerBar() for _ in range(3)]
        self.timeline = _label("timeline")
        self.sound_note = _label("soundNote")
        self.buttons = {name: _button("bigButton", name) for name in ("ack", "dispatch", "arrive", "close")}
        self.outcomes = {name: _button("outcome", name) for name in (*OUTCOMES, "cancel")}
        self.silence_button = _button("silence")
        self.unit = QLineEdit()
        self.unit.setMaximumWidth(260)
        self._build()
        for name, button in self.buttons.items():
            button.clicked.connect(lambda _=False, n=name: self._pressed(n))
        for name, button in self.outcomes.items():
            button.clicked.connect(lambda _=False, n=name: self._outcome(n))
        self.silence_button.clicked.connect(self._silence)

    def _build(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.kind)
        top.addSpacing(16)
        top.addWidget(self.reason, 1)
        top.addWidget(self.sound_note)
        top.addWidget(self.silence_button)
        for badge in (self.escalated, self.presses, self.restored, self.state):
            top.addWidget(badge)
        when = QVBoxLayout()
        when.setSpacing(4)
        when.addWidget(self.raised_at)
        when.addWidget(self.point_other)
        when.addWidget(self.timeline)
        when.addStretch(1)
        counter = QVBoxLayout()
        counter.addWidget(self.elapsed_caption, 0, Qt.AlignmentFlag.AlignRight)
        counter.addWidget(self.elapsed, 0, Qt.AlignmentFlag.AlignRight)
        middle = QHBoxLayout()
        middle.addLayout(when, 1)
        middle.addLayout(counter)
        timers = QHBoxLayout()
        for bar in self.timers:
            timers.addWidget(bar, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.buttons["ack"], 1)
        actions.addWidget(self.buttons["dispatch"], 1)
        actions.addWidget(self.unit)
        actions.addWidget(self.buttons["arrive"], 1)
        actions.addWidget(self.buttons["close"], 1)
        self.outcome_row = QWidget()
        outcome = QHBoxLayout(self.outcome_row)
        outcome.setContentsMargins(0, 0, 0, 0)
        for button in self.outcomes.values():
            outcome.addWidget(button, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        lay.setSpacing(8)
        lay.addLayout(top)
        lay.addWidget(self.site)
        lay.addWidget(self.site_other)
        lay.addWidget(self.point)
        lay.addLayout(middle)
        lay.addLayout(timers)
        lay.addStretch(1)
        lay.addLayout(actions)
        lay.addWidget(self.outcome_row)

    # ---- drawing -------------------------------------------------------------------------------
    def show_incident(self, view: IncidentView, *, sound_note: str = "") -> None:
        if self.view is None or self.view.id != view.id:
            self._closing = False
            self.unit.clear()
        self.view = view
        self.kind.setText(kind_label(view.kind))
        set_prop(self.kind, "call", "true" if view.kind in CALL_KINDS else "false")  # amber, not alarm red
        self.reason.setText("  ".join(reason_label(r) for r in view.alert_reasons))
        self.state.setText(state_label(view.state) + (f" · {view.unit}" if view.unit else ""))
        self.escalated.setText(translate("Console", "Escalated ×%1").replace("%1", str(view.escalations)))
        self.escalated.setVisible(view.escalations > 0)
        self.presses.setText(translate("Console", "Pressed ×%1").replace("%1", str(view.presses)))
        self.presses.setVisible(view.presses > 1)
        self.restored.setText(translate("Console", "Button restored"))
        self.restored.setVisible(view.restored)
        self.site.setText(view.site)
        self.site_other.setText(view.site_other)
        self.site_other.setVisible(bool(view.site_other))
        self.point.setText(view.point)
        detail = [view.point_other, source_label(view.source_kind)]
        if view.account:
            detail.append(translate("Console", "account %1").replace("%1", view.account))
        if view.zone:  # a button or a kiosk has no zone (0)
            detail.append(translate("Console", "zone %1").replace("%1", str(view.zone)))
        self.point_other.setText(" · ".join(d for d in detail if d))
        self.raised_at.setText(translate("Console", "Raised at %1").replace("%1", view.raised_clock))
        self.elapsed_caption.setText(translate("Console", "Elapsed"))
        self.elapsed.setText(view.elapsed)
        for bar, timer in zip(self.timers, view.timers):
            bar.show_timer(timer)
        self.timeline.setText(
            "\n".join(
                f"{s.clock}  {step_label(s.what)}"
                + (f" · {s.by}" if s.by else "")
                + (f" · {s.detail}" if s.detail else "")
                for s in view.timeline[-3:]
            )
        )
        self.sound_note.setText(sound_note)
        self.sound_note.setVisible(bool(sound_note) and view.alerting)
        self.silence_button.setText(action_label("silence"))
        self.silence_button.setVisible(view.alerting and view.state != "raised")
        self.unit.setPlaceholderText(translate("Console", "Unit (optional)"))
        for name, button in self.buttons.items():
            button.setText(action_label(name))
            button.setEnabled(name in view.actions and not view.pending and not self._closing)
            set_prop(button, "primary", "true" if view.actions[:1] == (name,) else "false")
        self.unit.setEnabled("dispatch" in view.actions and not view.pending)
        if "close" not in view.actions:
            self._closing = False
        for name, button in self.outcomes.items():
            button.setText(action_label(name))
            button.setEnabled(not view.pending)
        self.outcome_row.setVisible(self._closing)
        self._paint_alert()

    def pulse(self) -> None:
        self._phase = not self._phase
        self._paint_alert()

    def _paint_alert(self) -> None:
        alerting = self.view is not None and self.view.alerting
        set_prop(self, "alert", ("b" if self._phase else "a") if alerting else "off")

    # ---- input ---------------------------------------------------------------------------------
    def _pressed(self, name: str) -> None:
        if self.view is None:
            return
        if name == "close":
            self._closing = True
            self.show_incident(self.view, sound_note=self.sound_note.text())
            return
        arg = self.unit.text().strip() if name == "dispatch" else ""
        self.action.emit(self.view.id, name, arg)

    def _outcome(self, name: str) -> None:
        if self.view is None:
            return
        self._closing = False
        if name != "cancel":
            self.action.emit(self.view.id, "close", name)
        self.show_incident(self.view, sound_note=self.sound_note.text())

    def _silence(self) -> None:
        if self.view is not None:
            self.silence.emit(self.view.id)
