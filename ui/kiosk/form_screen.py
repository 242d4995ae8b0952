"""A service's form, built from its catalogue entry: fields, per-field errors, card tap, keyboard."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.catalogue import FieldSpec, ServiceSpec
from ui.kiosk.i18n import translate
from ui.kiosk.keyboard import OnScreenKeyboard
from ui.kiosk.widgets import PersonalLineEdit, Screen, button, label

__all__ = ["FormScreen", "offered_dates"]

_WEEKDAYS_ZH = "一二三四五六日"
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def offered_dates(spec: FieldSpec, today: date, *, limit: int = 6) -> list[date]:
    """Weekdays between min_days and max_days from today (the counters are closed at weekends)."""
    out: list[date] = []
    d = today + timedelta(days=spec.min_days)
    while d <= today + timedelta(days=spec.max_days) and len(out) < limit:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


class FormScreen(Screen):
    submit = Signal()
    cancel = Signal()

    def __init__(
        self,
        service: ServiceSpec,
        *,
        lang: str,
        keyboard: OnScreenKeyboard,
        has_reader: bool,
        today: date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.lang = lang
        self.keyboard = keyboard
        self.today = today or date.today()
        self.edits: dict[str, QLineEdit | QPlainTextEdit] = {}
        self.groups: dict[str, QButtonGroup] = {}
        self.errors: dict[str, QLabel] = {}
        self.labels: dict[str, QLabel] = {}
        self.choice_buttons: dict[str, list[QPushButton]] = {}
        self.from_card = False
        self.title = label(name="Title")
        self.layout_.addWidget(self.title)
        self.card_hint = label(name="Subtitle")
        self.card_hint.setVisible(has_reader and any(f.card for f in service.fields))
        self.layout_.addWidget(self.card_hint)
        panel = QFrame()
        panel.setObjectName("Panel")
        grid = QGridLayout(panel)
        grid.setContentsMargins(24, 16, 24, 16)
        for row, spec in enumerate(service.fields):
            self._add_field(grid, row, spec)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(panel)
        scroll.setMinimumHeight(160)
        scroll.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)  # leftover space only
        self.layout_.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        self.back_button = button()
        self.send_button = button()
        self.back_button.clicked.connect(self.cancel.emit)
        self.send_button.clicked.connect(self._send)
        self.status = label(name="Subtitle")
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.send_button)
        self.layout_.addLayout(buttons)
        self.current = ""
        first = next((f.name for f in service.fields if f.name in self.edits), "")
        if first:
            self.select(first)
        self.retranslate()

    # ---- building --------------------------------------------------------------------------------
    def _add_field(self, grid: QGridLayout, row: int, spec: FieldSpec) -> None:
        lbl = label(name="FieldLabel", wrap=False)
        self.labels[spec.name] = lbl
        err = label(name="Error")
        err.hide()
        self.errors[spec.name] = err
        box = QVBoxLayout()
        if spec.kind in ("choice", "date"):
            line = QHBoxLayout()
            group = QButtonGroup(self)
            group.setExclusive(True)
            values = (
                [(c.value, c.label.get(self.lang)) for c in spec.choices]
                if spec.kind == "choice"
                else [(d.isoformat(), self._day_label(d)) for d in offered_dates(spec, self.today)]
            )
            buttons = []
            for value, text in values:
                b = button(text)
                b.setCheckable(True)
                b.setProperty("value", value)
                group.addButton(b)
                line.addWidget(b)
                buttons.append(b)
            line.addStretch(1)
            self.groups[spec.name] = group
            self.choice_buttons[spec.name] = buttons
            box.addLayout(line)
        else:
            edit: QLineEdit | QPlainTextEdit
            if spec.kind == "multiline":
                edit = QPlainTextEdit()
                edit.setMaximumHeight(140)
            elif spec.personal:
                edit = PersonalLineEdit(spec.kind)
            else:
                edit = QLineEdit()
            if isinstance(edit, QLineEdit):
                edit.setMaxLength(spec.max_length + 8)
            edit.installEventFilter(self)
            edit.setProperty("field", spec.name)
            self.edits[spec.name] = edit
            box.addWidget(edit)
        box.addWidget(err)
        grid.addWidget(lbl, row, 0)
        grid.addLayout(box, row, 1)

    def _day_label(self, d: date) -> str:
        if self.lang == "en":
            return f"{_WEEKDAYS_EN[d.weekday()]} {d.month}/{d.day}"
        return f"{d.month}月{d.day}日 周{_WEEKDAYS_ZH[d.weekday()]}"

    def retranslate(self) -> None:
        self.title.setText(self.service.title.get(self.lang))
        self.card_hint.setText(translate("Kiosk", "Put your ID card on the reader to fill in your details."))
        self.back_button.setText(translate("Kiosk", "Back"))
        self.send_button.setText(translate("Kiosk", "Submit"))
        for spec in self.service.fields:
            text = spec.label.get(self.lang)
            self.labels[spec.name].setText(text)

    # ---- interaction -----------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress:
            name = obj.property("field")
            if isinstance(name, str):
                self.select(name)
        return super().eventFilter(obj, event)

    def select(self, name: str) -> None:
        """Make a field the keyboard's target (and show its value unmasked while it is edited)."""
        old = self.edits.get(self.current)
        if isinstance(old, PersonalLineEdit):
            old.end_edit()
        self.current = name
        edit = self.edits[name]
        if isinstance(edit, PersonalLineEdit):
            edit.begin_edit()
        kind = self.service.field(name).kind
        mode = kind if kind in ("plate", "id_number") else "digits" if kind == "phone" else "pinyin"
        edit.setFocus()
        self.keyboard.set_target(edit, mode)

    def set_field(self, name: str, value: str) -> None:
        edit = self.edits.get(name)
        if isinstance(edit, PersonalLineEdit):
            edit.set_value(value)
        elif isinstance(edit, QLineEdit):
            edit.setText(value)
        elif isinstance(edit, QPlainTextEdit):
            edit.setPlainText(value)
        elif name in self.groups:
            for b in self.choice_buttons[name]:
                b.setChecked(b.property("value") == value)

    def apply_card(self, card: dict[str, Any]) -> dict[str, str]:
        """Fill the fields a card provides; returns form field -> value of what it filled."""
        filled = {}
        for spec in self.service.fields:
            value = str(card.get(spec.card, "")) if spec.card else ""
            if value:
                self.set_field(spec.name, value)
                filled[spec.name] = value
        if filled:
            self.from_card = True
            self.status.setText(translate("Kiosk", "Your ID card was read."))
        return filled

    def values(self) -> dict[str, str]:
        self._end_edits()
        out: dict[str, str] = {}
        for name, edit in self.edits.items():
            if isinstance(edit, PersonalLineEdit):
                out[name] = edit.value()
            elif isinstance(edit, QLineEdit):
                out[name] = edit.text()
            else:
                out[name] = edit.toPlainText()
        for name, group in self.groups.items():
            checked = group.checkedButton()
            out[name] = str(checked.property("value")) if checked is not None else ""
        return out

    def _end_edits(self) -> None:
        edit = self.edits.get(self.current)
        if isinstance(edit, PersonalLineEdit):
            edit.end_edit()
            edit.begin_edit()  # still the keyboard's target

    def _send(self) -> None:
        self.submit.emit()

    def show_errors(self, errors: list[dict[str, Any]]) -> None:
        for lbl in self.errors.values():
            lbl.hide()
        for e in errors:
            shown = self.errors.get(str(e.get("field")))
            if shown is not None:
                shown.setText(str(e.get("en" if self.lang == "en" else "zh", "")))
                shown.show()
        self.status.setText(translate("Kiosk", "Please correct the fields marked in red."))

    def set_busy(self, busy: bool) -> None:
        self.send_button.setEnabled(not busy)
        if busy:
            self.status.setText(translate("Kiosk", "Sending..."))

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def wipe(self) -> None:
        """Clear every value typed or read (before the screen is discarded)."""
        for edit in self.edits.values():
            if isinstance(edit, PersonalLineEdit):
                edit.wipe()
            else:
                edit.clear()
        for name, buttons in self.choice_buttons.items():
            self.groups[name].setExclusive(False)
            for b in buttons:
                b.setChecked(False)
            self.groups[name].setExclusive(True)
        for lbl in self.errors.values():
            lbl.clear()
        self.status.clear()
