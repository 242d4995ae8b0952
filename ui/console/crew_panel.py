"""The crew's own controls on screen (they draw `ui/console/crew.py`'s views and keep no state of their own):

- `CrewBar` along the bottom: "Manual alarm", "History", and the siren switch (its state as the daemon
  last said, "On" / "Off" buttons, a clear line when manual control is disabled at this station);
- `ManualAlarmPanel`, in the place of the incident page while the crew raises an alarm by hand: kind, site,
  point, then a separate confirmation row (a stray tap never raises an alarm); no modal dialog;
- `HistoryPage`: recently closed incidents with their outcome and the 1-3-5 response times.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.console.crew import MANUAL_KINDS, HistoryRowView, ManualAlarmView, ResponseView, SirenView
from ui.console.style import set_prop
from ui.console.text import action_label, crew_label, kind_label, outcome_label, translate
from ui.console.views import duration_text

__all__ = ["CrewBar", "HistoryPage", "ManualAlarmPanel", "response_text", "siren_text"]

CELL_COLOURS = {"met": "#8fe0a9", "late": "#ff8a8a", "skipped": "#93a4b4", "outcome:real": "#ffb020"}


def _label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    return label


def _button(name: str, prop: str = "") -> QPushButton:
    button = QPushButton()
    button.setObjectName(name)
    button.setProperty("action", prop)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


def siren_text(view: SirenView) -> str:
    if view.refused:
        return translate("Console", "Manual siren control is disabled at this station")
    state = {True: translate("Console", "on"), False: translate("Console", "off")}.get(
        view.on,  # type: ignore[arg-type]  # None is a key too
        translate("Console", "not known"),
    )
    text = translate("Console", "Siren and strobe: %1").replace("%1", state)
    if view.pending:
        text += " …"
    if view.error:
        text += " · " + translate("Console", "switching failed: %1").replace("%1", view.error)
    return text


def response_text(r: ResponseView) -> str:
    if r.used_s is None:
        return "—"
    target = duration_text(r.target_s)
    return f"{duration_text(r.used_s)} / {target}"


class CrewBar(QFrame):
    manualClicked = Signal()
    historyClicked = Signal()
    sirenSwitched = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crewBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.manual = _button("crewButton", "manual")
        self.history = _button("crewButton", "history")
        self.siren_state = _label("sirenState")
        self.siren_on = _button("sirenButton", "on")
        self.siren_off = _button("sirenButton", "off")
        self.manual.clicked.connect(self.manualClicked)
        self.history.clicked.connect(self.historyClicked)
        self.siren_on.clicked.connect(lambda: self.sirenSwitched.emit(True))
        self.siren_off.clicked.connect(lambda: self.sirenSwitched.emit(False))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 2, 16, 2)  # the alarm page keeps its room on a 1080p screen
        lay.setSpacing(12)
        lay.addWidget(self.manual)
        lay.addWidget(self.history)
        lay.addStretch(1)
        lay.addWidget(self.siren_state)
        lay.addWidget(self.siren_on)
        lay.addWidget(self.siren_off)

    def show_state(self, siren: SirenView, *, manual_open: bool, history_open: bool, connected: bool) -> None:
        self.manual.setText(crew_label("manual"))
        set_prop(self.manual, "active", "true" if manual_open else "false")
        self.manual.setEnabled(connected and not manual_open)
        self.history.setText(crew_label("back") if history_open else crew_label("history"))
        set_prop(self.history, "active", "true" if history_open else "false")
        self.siren_state.setText(siren_text(siren))
        set_prop(
            self.siren_state,
            "level",
            "refused" if siren.refused else {True: "on", False: "off"}.get(siren.on, "unknown"),  # type: ignore[arg-type]
        )
        for button, on in ((self.siren_on, True), (self.siren_off, False)):
            button.setText(crew_label("siren_on" if on else "siren_off"))
            button.setEnabled(connected and siren.enabled)
            set_prop(button, "current", "true" if siren.on is on else "false")


class ManualAlarmPanel(QWidget):
    """The inline manual-alarm form: kind, site, point, "Raise…", then "Confirm alarm" / "Back"."""

    kindChosen = Signal(str)
    review = Signal(str, str)  # site, point
    confirmed = Signal()
    back = Signal()
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = _label("manualTitle")
        self.kinds = {k: _button("kindButton", k) for k in MANUAL_KINDS}
        self.site = QLineEdit()
        self.point = QLineEdit()
        for edit in (self.site, self.point):
            edit.setMaxLength(64)
        self.raise_button = _button("raiseButton")
        self.cancel_button = _button("formButton", "cancel")
        self.problem = _label("manualProblem")
        self.problem.setWordWrap(True)
        self.question = _label("manualQuestion")
        self.question.setWordWrap(True)
        self.confirm_button = _button("confirmButton")
        self.back_button = _button("formButton", "back")
        for kind, button in self.kinds.items():
            button.clicked.connect(lambda _=False, k=kind: self.kindChosen.emit(k))
        self.raise_button.clicked.connect(lambda: self.review.emit(self.site.text(), self.point.text()))
        self.cancel_button.clicked.connect(self.cancelled)
        self.confirm_button.clicked.connect(self.confirmed)
        self.back_button.clicked.connect(self.back)
        self.site_caption = _label("fieldCaption")
        self.point_caption = _label("fieldCaption")
        self.form_row = QWidget()
        self.form_row.setObjectName("plain")
        form = QVBoxLayout(self.form_row)
        form.setContentsMargins(0, 0, 0, 0)
        form.setSpacing(12)
        kinds = QHBoxLayout()
        for button in self.kinds.values():
            kinds.addWidget(button, 1)
        form.addLayout(kinds)
        form.addWidget(self.site_caption)
        form.addWidget(self.site)
        form.addWidget(self.point_caption)
        form.addWidget(self.point)
        buttons = QHBoxLayout()
        buttons.addWidget(self.raise_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        form.addSpacing(8)
        form.addLayout(buttons)
        self.confirm_row = QWidget()
        self.confirm_row.setObjectName("plain")
        confirm = QVBoxLayout(self.confirm_row)
        confirm.setContentsMargins(0, 0, 0, 0)
        confirm.setSpacing(16)
        confirm.addWidget(self.question)
        row = QHBoxLayout()
        row.addWidget(self.confirm_button, 2)
        row.addWidget(self.back_button, 1)
        confirm.addLayout(row)
        box = QFrame()
        box.setObjectName("manualPanel")
        inner = QVBoxLayout(box)
        inner.setContentsMargins(32, 24, 32, 24)
        inner.setSpacing(12)
        inner.addWidget(self.title)
        inner.addWidget(self.form_row)
        inner.addWidget(self.confirm_row)
        inner.addWidget(self.problem)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(16, 16, 16, 16)
        outer.addStretch(1)
        column = QVBoxLayout()
        column.addStretch(1)
        column.addWidget(box)
        column.addStretch(2)
        outer.addLayout(column, 4)
        outer.addStretch(1)
        self._step = "closed"

    def show_form(self, view: ManualAlarmView) -> None:
        if view.step == "closed":
            self._step = "closed"
            return
        if self._step == "closed":  # just opened: fill the fields from the model
            self.site.setText(view.site)
            self.point.setText(view.point)
        self._step = view.step
        self.title.setText(crew_label("manual_title"))
        for kind, button in self.kinds.items():
            button.setText(kind_label(kind))
            set_prop(button, "current", "true" if view.kind == kind else "false")
            button.setEnabled(view.step == "form")
        self.site_caption.setText(translate("Console", "Site (required)"))
        self.point_caption.setText(translate("Console", "Point or place"))
        self.site.setEnabled(view.step == "form")
        self.point.setEnabled(view.step == "form")
        self.raise_button.setText(crew_label("raise"))
        self.cancel_button.setText(action_label("cancel"))
        self.form_row.setVisible(view.step == "form")
        self.confirm_row.setVisible(view.step in {"confirm", "sending"})
        where = view.site + (f" · {view.point}" if view.point else "")
        self.question.setText(
            translate("Console", "Raise “%1” now at %2?").replace("%1", kind_label(view.kind)).replace("%2", where)
        )
        self.confirm_button.setText(crew_label("sending" if view.step == "sending" else "confirm"))
        self.confirm_button.setEnabled(view.step == "confirm")
        self.back_button.setText(crew_label("back"))
        self.back_button.setEnabled(view.step == "confirm")
        problem = crew_label(view.problem) if view.problem else ""
        if view.error:
            problem += (": " if problem else "") + view.error
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))


class HistoryPage(QWidget):
    """Recently closed incidents: when, where, kind, outcome and the three response times."""

    COLUMNS = 7

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = _label("historyTitle")
        self.empty = _label("historyEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.table = QTableWidget(0, self.COLUMNS)
        self.table.setObjectName("history")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 12, 16, 12)
        lay.addWidget(self.title)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.empty, 1)
        self.rows: tuple[HistoryRowView, ...] = ()
        self._shown: tuple[tuple[HistoryRowView, ...], str] | None = None

    def show_history(self, rows: tuple[HistoryRowView, ...], *, lang: str, loading: bool, failed: bool) -> None:
        self.title.setText(translate("Console", "Closed incidents: %1").replace("%1", str(len(rows))))
        self.table.setHorizontalHeaderLabels(
            [
                translate("Console", "Raised"),
                translate("Console", "Site · point"),
                translate("Console", "Kind"),
                translate("Console", "Outcome"),
                crew_label("response:dispatch"),
                crew_label("response:arrive"),
                crew_label("response:close"),
            ]
        )
        self.empty.setText(crew_label("history_failed" if failed else "loading" if loading else "history_empty"))
        self.empty.setVisible(not rows)
        self.table.setVisible(bool(rows))
        if (rows, lang) == self._shown:
            return
        self._shown = (rows, lang)
        self.rows = rows
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = [
                (row.raised_clock, ""),
                (row.site + (f" · {row.point}" if row.point else ""), ""),
                (kind_label(row.kind), ""),
                (outcome_label(row.outcome), f"outcome:{row.outcome}"),
            ]
            cells += [(response_text(x), x.status) for x in row.responses]
            for c, (text, status) in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, status)
                colour = CELL_COLOURS.get(status)
                if colour is not None:
                    item.setForeground(QColor(colour))
                self.table.setItem(r, c, item)

    def cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""
