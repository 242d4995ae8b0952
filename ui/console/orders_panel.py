"""The "Reports" page of the crew console (报案工单): residents' reports as work orders, worked here.

`OrdersController` plugs itself into a `ConsoleWindow` (seen through `ConsoleHost`; the window only
creates it, asks it to draw, and tells it when an alarm takes over): it adds the page to the window's
page stack, a "Reports" button with the count of untriaged orders to the crew bar, talks to the daemon
through the window's `DaemonLink` (`orders.list` on every connection, `orders.new` / `orders.changed` notifications,
`orders.change` for the crew's steps, signed by the console's logged-in member) and announces a new
report with a short note in the message line, without sound and without leaving the alarm screen.

The page: a table (number, category, place, masked contact, age, state, "not synced" while central
has not confirmed the station's changes) and, for the selected order, its details, history and the
steps that fit its state: triage (settle on the spot / follow up / to the station), assign (an
officer's name), start, resolve and refer (an outcome).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
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

from edge.wire.api import orders as api
from edge.wire.api.orders import OrderChangeParams, OrderView
from edge.wire.orders import TRIAGES
from ui.console.orders import OrderRowView, OrdersBoard, OrderStepView, OrdersView
from ui.console.style import set_prop
from ui.console.text import crew_label, order_label, translate
from ui.link import ApiError

if TYPE_CHECKING:
    from ui.console.layout import ConsoleLayout
    from ui.console.model import ConsoleBoard
    from ui.console.text import Language
    from ui.link import DaemonLink


class ConsoleHost(Protocol):
    """What the controller uses of the console window (`ui.console.window.ConsoleWindow`)."""

    link: DaemonLink
    ui: ConsoleLayout
    board: ConsoleBoard
    language: Language

    def refresh(self) -> None: ...
    def show_message(self, text: str) -> None: ...


__all__ = ["OrdersController", "OrdersPage", "ReportsButton"]

log = logging.getLogger(__name__)

STYLE = """
#ordersTitle { font-size: 28px; font-weight: 800; color: #c7d2dc; }
#ordersEmpty { font-size: 32px; color: #93a4b4; }
#orders { font-size: 22px; gridline-color: #2b3540; border: none; }
#orders QHeaderView::section { background: #1b232c; color: #c7d2dc; font-size: 20px; font-weight: 700;
                               padding: 6px 10px; border: none; border-bottom: 2px solid #2b3540; }
#orders::item { padding: 6px 10px; }
#orders::item:selected { background: #2d4a66; color: #ffffff; }
#orderDetail { background: #1b232c; border: 2px solid #2b3540; border-radius: 12px; }
#orderTicket { font-size: 30px; font-weight: 800; color: #ffffff; }
#orderLine { font-size: 22px; color: #eef2f5; }
#orderHistory { font-size: 19px; color: #93a4b4; }
#orderProblem { font-size: 22px; font-weight: 700; color: #ffe3a3; }
#orderButton { font-size: 22px; font-weight: 700; min-height: 52px; padding: 4px 12px; }
#orderEdit { font-size: 22px; min-height: 48px; }
"""
METHOD_NOT_FOUND = -32601


def word(prefix: str, value: str) -> str:
    """A translated word for a value the contract knows; the value itself otherwise."""
    key = f"{prefix}:{value}"
    text = order_label(key)
    return value if text == key else text


def _step_text(s: OrderStepView) -> str:
    detail = word("triage", s.detail) if s.action == "triage" else s.detail
    text = f"{s.clock}  {word('action', s.action)}  {detail}  · {s.by}"
    return text + (f"  ({order_label('refused').replace('%1', s.refused)})" if s.refused else "")


def _button(name: str, action: str = "") -> QPushButton:
    b = QPushButton()
    b.setObjectName(name)
    b.setProperty("action", action)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return b


def _label(name: str) -> QLabel:
    lbl = QLabel()
    lbl.setObjectName(name)
    lbl.setWordWrap(True)
    lbl.setTextFormat(Qt.TextFormat.PlainText)  # resident text is never rich text
    return lbl


class ReportsButton(QPushButton):
    """ "Reports (2)" in the crew bar: the count of untriaged orders; amber while new ones are unseen."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("crewButton")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def show_count(self, view: OrdersView) -> None:
        text = crew_label("back") if view.page_open else order_label("reports")
        self.setText(f"{text} ({view.new_count})" if view.new_count and not view.page_open else text)
        set_prop(self, "active", "true" if view.page_open else "false")
        self.setStyleSheet("" if not view.unseen or view.page_open else "background: #6b4a00; color: #ffffff;")


class OrdersPage(QWidget):
    selected = Signal(str)  # ticket
    step = Signal(str, str, str)  # action, detail (triage / officer / outcome), ticket

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(STYLE)
        self.title = _label("ordersTitle")
        self.empty = _label("ordersEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("orders")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.cellClicked.connect(self._clicked)
        self.detail = QWidget()
        self.detail.setObjectName("orderDetail")
        self.detail.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.detail.setMinimumWidth(480)
        self.ticket = _label("orderTicket")
        self.lines = _label("orderLine")
        self.history = _label("orderHistory")
        self.problem = _label("orderProblem")
        self.triage_buttons = {t: _button("orderButton", t) for t in TRIAGES}
        self.officer = QLineEdit()
        self.outcome = QLineEdit()
        for edit in (self.officer, self.outcome):
            edit.setObjectName("orderEdit")
            edit.setMaxLength(64)
        self.outcome.setMaxLength(500)
        self.step_buttons = {a: _button("orderButton", a) for a in ("assign", "start", "resolve", "refer")}
        for t, b in self.triage_buttons.items():
            b.clicked.connect(lambda _=False, t=t: self._step("triage", t))
        self.step_buttons["assign"].clicked.connect(lambda: self._step("assign", self.officer.text()))
        self.step_buttons["start"].clicked.connect(lambda: self._step("start", ""))
        self.step_buttons["resolve"].clicked.connect(lambda: self._step("resolve", self.outcome.text()))
        self.step_buttons["refer"].clicked.connect(lambda: self._step("refer", self.outcome.text()))
        box = QVBoxLayout(self.detail)
        box.setContentsMargins(16, 12, 16, 12)
        for w in (self.ticket, self.lines, self.history):
            box.addWidget(w)
        box.addStretch(1)
        triage_row = QHBoxLayout()
        for b in self.triage_buttons.values():
            triage_row.addWidget(b)
        box.addLayout(triage_row)
        assign_row = QHBoxLayout()
        assign_row.addWidget(self.officer, 1)
        assign_row.addWidget(self.step_buttons["assign"])
        assign_row.addWidget(self.step_buttons["start"])
        box.addLayout(assign_row)
        box.addWidget(self.outcome)
        close_row = QHBoxLayout()
        close_row.addWidget(self.step_buttons["resolve"])
        close_row.addWidget(self.step_buttons["refer"])
        box.addLayout(close_row)
        box.addWidget(self.problem)
        left = QVBoxLayout()
        left.addWidget(self.title)
        left.addWidget(self.table, 1)
        left.addWidget(self.empty, 1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 12, 16, 12)
        lay.setSpacing(16)
        lay.addLayout(left, 3)
        lay.addWidget(self.detail, 2)
        self.rows: tuple[OrderRowView, ...] = ()
        self.current: OrderRowView | None = None
        self._shown: tuple[Any, ...] | None = None

    def show_orders(self, view: OrdersView, *, lang: str, connected: bool) -> None:
        self.title.setText(order_label("title").replace("%1", str(view.open_count)).replace("%2", str(view.new_count)))
        self.empty.setText(order_label("failed") if view.failed else order_label("empty"))
        self.empty.setVisible(not view.rows)
        self.table.setVisible(bool(view.rows))
        key = (view.rows, view.selected, lang, connected)
        if key == self._shown:
            return
        self._shown = key
        self.rows = view.rows
        self.table.setHorizontalHeaderLabels(
            [order_label(f"col:{c}") for c in ("number", "category", "place", "contact", "age", "state")]
        )
        self.table.setRowCount(len(view.rows))
        for r, row in enumerate(view.rows):
            state = word("state", row.state) + (f" · {order_label('not_synced')}" if row.pending else "")
            cells = (
                ("● " if row.fresh else "") + row.number,
                word("category", row.category),
                row.place,
                row.contact,
                row.age,
                state,
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, row.ticket)
                if c == 5 and row.pending:
                    item.setForeground(Qt.GlobalColor.yellow)
                self.table.setItem(r, c, item)
            if view.selected is not None and row.ticket == view.selected.ticket:
                self.table.selectRow(r)
        self._show_detail(view.selected, connected)

    def _show_detail(self, row: OrderRowView | None, connected: bool) -> None:
        if row is not None and (self.current is None or self.current.ticket != row.ticket):
            self.officer.clear()
            self.outcome.clear()
            self.problem.clear()
        self.current = row
        self.detail.setVisible(row is not None)
        if row is None:
            return
        self.ticket.setText(f"{row.ticket} · {word('state', row.state)}")
        lines = [
            f"{word('category', row.category)} · {row.place}",
            row.description,
            f"{row.contact}  ·  {order_label('reported').replace('%1', row.created)}",
        ]
        if row.triage:
            lines.append(word("triage", row.triage))
        if row.officer:
            lines.append(order_label("officer").replace("%1", row.officer))
        if row.outcome:
            lines.append(order_label("outcome").replace("%1", row.outcome))
        if row.pending:
            lines.append(f"⟳ {order_label('not_synced')} ({row.pending})")
        self.lines.setText("\n".join(x for x in lines if x))
        self.history.setText("\n".join(_step_text(s) for s in row.history))
        for t, b in self.triage_buttons.items():
            b.setText(word("triage", t))
            b.setEnabled(connected and not row.busy and "triage" in row.actions)
            set_prop(b, "current", "true" if row.triage == t else "false")
        for a, b in self.step_buttons.items():
            b.setText(word("action", a))
            b.setEnabled(connected and not row.busy and a in row.actions)
        self.officer.setPlaceholderText(order_label("officer_hint"))
        self.outcome.setPlaceholderText(order_label("outcome_hint"))
        self.officer.setEnabled("assign" in row.actions)
        self.outcome.setEnabled(bool({"resolve", "refer"} & set(row.actions)))

    def _clicked(self, r: int, _c: int) -> None:
        if 0 <= r < len(self.rows):
            self.selected.emit(self.rows[r].ticket)

    def _step(self, action: str, detail: str) -> None:
        if self.current is None:
            return
        detail = detail.strip()
        if action == "assign" and not detail:
            self.problem.setText(order_label("needs_officer"))
            return
        if action in ("resolve", "refer") and not detail:
            self.problem.setText(order_label("needs_outcome"))
            return
        self.problem.clear()
        self.step.emit(action, detail, self.current.ticket)


class OrdersController(QObject):
    """The page's behaviour inside a `ConsoleWindow` (see the module docstring)."""

    def __init__(self, window: ConsoleHost) -> None:
        super().__init__(window if isinstance(window, QObject) else None)
        self.window = window
        self.board = OrdersBoard()
        self.available = True
        self.page = OrdersPage()
        self.button = ReportsButton()
        ui = window.ui
        ui.stack.addWidget(self.page)
        ui.pages = (*ui.pages, self.page)
        self.index = len(ui.pages) - 1
        bar = ui.crew.layout()
        if isinstance(bar, QBoxLayout):
            bar.insertWidget(2, self.button)  # after "Manual alarm" and "History"
        self.button.clicked.connect(self.toggle)
        ui.crew.historyClicked.connect(self._give_way)
        ui.crew.manualClicked.connect(self._give_way)
        self.page.selected.connect(self.select)
        self.page.step.connect(self.change)
        window.link.notified.connect(self.notified)
        window.link.connectedChanged.connect(self._connected)
        if window.link.connected:
            self.reload()

    def keep_open(self, *, taken_over: bool) -> bool:
        """Whether the page stays on show; an alarm that starts takes the screen (the page closes)."""
        if taken_over:
            self.board.close_page()
        return self.board.page_open

    def reload(self) -> None:
        self.window.link.call("orders.list", None, self._loaded)

    def _connected(self, up: bool) -> None:
        if up:
            self.reload()

    def _loaded(self, result: Any, error: ApiError | None) -> None:
        self.available = error is None or error.code != METHOD_NOT_FOUND  # no orders at this station
        if not self.available:
            self.board.close_page()
        try:
            self.board.load(result if error is None else None)
        except ValueError as exc:
            log.error("orders.list answered something that is not a list of orders: %s", exc)
            self.board.failed = True
        self.window.refresh()

    def notified(self, topic: str, params: dict[str, Any]) -> None:
        if topic not in ("orders.new", "orders.changed"):
            return
        try:
            new = self.board.apply(topic, params)
        except ValueError as exc:
            log.error("ignored a malformed %s notification: %s", topic, exc)
            return
        if new is not None and topic == "orders.new":  # a note, no sound: the alarm screen stays
            note = order_label("new_report").replace("%1", new.ticket.rsplit("-", 1)[-1])
            self.window.show_message(note.replace("%2", word("category", new.category)).replace("%3", new.place))
        self.window.refresh()

    def toggle(self) -> None:
        if self.board.page_open:
            self.board.close_page()
        else:
            self.board.open_page()
            self.window.board.history_open = False
            self.window.board.manual.cancel()
        self.window.refresh()

    def _give_way(self) -> None:
        """The crew opened the history or the manual alarm form: the reports page closes."""
        self.board.close_page()

    def select(self, ticket: str) -> None:
        self.board.select(ticket)
        self.window.refresh()

    def change(self, action: str, detail: str, ticket: str) -> None:
        params = OrderChangeParams(
            ticket=ticket,
            action=action,  # type: ignore[arg-type]  # the page offers the contract's actions only
            triage=detail if action == "triage" else "",  # type: ignore[arg-type]
            officer=detail if action == "assign" else "",
            outcome=detail if action in ("resolve", "refer") else "",
        )
        self.board.busy.add(ticket)
        self.window.link.request(api.ORDERS_CHANGE, params, lambda r, e: self._changed(ticket, action, r, e))
        self.window.refresh()

    def _changed(self, ticket: str, action: str, result: OrderView | None, error: ApiError | None) -> None:
        self.board.busy.discard(ticket)
        if error is not None:
            data = error.data if isinstance(error.data, dict) else {}
            reason = str(data.get("en" if self.window.language.code == "en" else "zh") or error.message)
            failed = translate("Console", "%1 failed: %2")
            self.window.show_message(failed.replace("%1", word("action", action)).replace("%2", reason))
        elif result is not None:
            self.board.apply("", {"order": msgspec.to_builtins(result.order), "pending": result.pending})
        self.window.refresh()

    def draw(self, now: float, connected: bool) -> None:
        view = self.board.view(now, self.window.language.code)
        self.button.show_count(view)
        self.button.setEnabled(connected or view.page_open)
        self.button.setVisible(self.available)
        if view.page_open:
            self.page.show_orders(view, lang=self.window.language.code, connected=connected)
