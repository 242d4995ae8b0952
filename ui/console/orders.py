"""The console's view of the station's work orders (residents' reports), as pure view-model (no Qt, no clock).

Orders come from `orders.list` (on every reconnection) and the `orders.new` / `orders.changed`
notifications (`edge.wire.api.orders`); a change made here comes back as the call's answer. The page
lists them open first, newest first, each with its age, state and a "not synced" mark while central
has not confirmed the station's changes. A new report is announced by a count on the "Reports" button
and a short note; it never takes the screen (alarms do), and the count drops once the page was looked at.
An alarm that starts closes the page (the takeover wins).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from edge.wire.orders import CLOSED_STATES, WorkOrder, actions_for
from ui.console.views import clock_text, duration_text

__all__ = ["OrderRowView", "OrderStepView", "OrdersBoard", "OrdersView", "parse_order"]


def parse_order(obj: Any) -> WorkOrder:
    """A `WorkOrder` from the daemon's JSON; ValueError when it is not one."""
    try:
        return msgspec.convert(obj, WorkOrder)
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None


def _epoch(stamp: str) -> float | None:
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class OrderStepView:
    clock: str
    action: str
    by: str
    detail: str
    refused: str


@dataclass(frozen=True, slots=True)
class OrderRowView:
    ticket: str
    number: str  # the last digits: what the crew says aloud
    category: str
    place: str
    contact: str  # masked by the daemon already
    description: str
    created: str
    age: str
    state: str
    triage: str
    officer: str
    outcome: str
    pending: int  # the station's changes central has not confirmed: "not synced"
    actions: tuple[str, ...]
    busy: bool  # a change of this order is on its way: its buttons wait
    fresh: bool  # new since the crew last looked at the page
    history: tuple[OrderStepView, ...]


@dataclass(frozen=True, slots=True)
class OrdersView:
    rows: tuple[OrderRowView, ...]
    selected: OrderRowView | None
    open_count: int
    new_count: int  # open orders not triaged yet
    unseen: int  # reports that came in since the page was last looked at
    page_open: bool
    loaded: bool
    failed: bool


@dataclass(slots=True)
class OrdersBoard:
    orders: dict[str, WorkOrder] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)
    busy: set[str] = field(default_factory=set)
    unseen: set[str] = field(default_factory=set)
    selected: str | None = None
    page_open: bool = False
    loaded: bool = False
    failed: bool = False

    def load(self, result: Any) -> None:
        """`orders.list`'s answer (None: it failed). Orders that came since the page was looked at stay
        unseen."""
        items = result.get("orders") if isinstance(result, dict) else None
        if not isinstance(items, list):
            self.failed = True
            return
        orders: dict[str, WorkOrder] = {}
        pending: dict[str, int] = {}
        for item in items:
            if isinstance(item, dict):
                order = parse_order(item.get("order"))
                orders[order.ticket] = order
                pending[order.ticket] = int(item.get("pending") or 0)
        if self.loaded and not self.page_open:  # after a reconnection: new ones the notifications missed
            self.unseen |= {t for t, o in orders.items() if t not in self.orders and o.state == "new"}
        self.orders, self.pending = orders, pending
        self.loaded, self.failed = True, False
        self.unseen &= set(orders)
        if self.selected not in orders:
            self.selected = None

    def apply(self, topic: str, params: dict[str, Any]) -> WorkOrder | None:
        """An `orders.new` / `orders.changed` notification (or a change's answer, topic ""); returns the
        order when it is new to this console."""
        order = parse_order(params.get("order"))
        known = order.ticket in self.orders
        self.orders[order.ticket] = order
        if "pending" in params:
            self.pending[order.ticket] = int(params.get("pending") or 0)
        if topic == "orders.new" and not known and not self.page_open:
            self.unseen.add(order.ticket)
        return None if known else order

    def open_page(self) -> None:
        self.page_open = True
        self.unseen.clear()

    def close_page(self) -> None:
        self.page_open = False

    def select(self, ticket: str) -> None:
        if ticket in self.orders:
            self.selected = ticket

    def view(self, now: float, lang: str = "zh") -> OrdersView:
        ordered = sorted(self.orders.values(), key=lambda o: o.created_at, reverse=True)
        ordered.sort(key=lambda o: o.state in CLOSED_STATES)
        rows = tuple(self._row(o, now) for o in ordered)
        if self.selected is None and rows:
            self.selected = rows[0].ticket
        open_ = [r for r in rows if r.state not in CLOSED_STATES]
        return OrdersView(
            rows=rows,
            selected=next((r for r in rows if r.ticket == self.selected), None),
            open_count=len(open_),
            new_count=sum(1 for r in open_ if r.state == "new"),
            unseen=len(self.unseen),
            page_open=self.page_open,
            loaded=self.loaded,
            failed=self.failed,
        )

    def _row(self, o: WorkOrder, now: float) -> OrderRowView:
        created = _epoch(o.created_at)
        return OrderRowView(
            ticket=o.ticket,
            number=o.ticket.rsplit("-", 1)[-1],
            category=o.category,
            place=o.place,
            contact=o.contact,
            description=o.description,
            created=clock_text(created, now) if created is not None else o.created_at,
            age=duration_text(now - created) if created is not None else "",
            state=o.state,
            triage=o.triage,
            officer=o.officer,
            outcome=o.outcome,
            pending=self.pending.get(o.ticket, 0),
            actions=actions_for(o.state),
            busy=o.ticket in self.busy,
            fresh=o.ticket in self.unseen,
            history=tuple(
                OrderStepView(
                    clock=clock_text(t, now) if (t := _epoch(s.at)) is not None else s.at,
                    action=s.action,
                    by=s.by,
                    detail=s.detail,
                    refused=s.refused,
                )
                for s in o.history[-8:]
            ),
        )
