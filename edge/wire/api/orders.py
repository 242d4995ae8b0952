"""The work-orders component's methods: the crew works its station's orders, a resident checks progress.

The order is `edge.wire.orders.WorkOrder` (the contact only masked); `pending` counts the station's own
changes central has not confirmed yet (the console marks them "not synced"). A change is signed by the
connection's logged-in crew member (`crew.login`), never by a name in the params (an admin tool that is
not logged in may name who it acts for in `by`). A change that does not fit the order's state comes
back as -32602 with `data.zh` / `data.en`; an unknown ticket as -32004 with the same.

`orders.status` is for the resident touchscreen: the public state of one ticket and nothing personal
(no description, no contact, no officer). A ticket of this station may be given as its number alone
(`42` or `000042`); another station's ticket is asked of central when the link is up.

Notifications (crew): `orders.new` {order: WorkOrder} when a report became an order here or central
sent one the station did not know; `orders.changed` {order, pending} after every change of the view.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from edge.wire.api.base import CREW, KIOSK, Method, Params, Short
from edge.wire.orders import Action, Triage, WorkOrder

__all__ = [
    "ORDERS_CHANGE",
    "ORDERS_GET",
    "ORDERS_LIST",
    "ORDERS_STATUS",
    "OrderChangeParams",
    "OrderList",
    "OrderQuery",
    "OrderRef",
    "OrderView",
    "PublicStatus",
    "StateFilter",
    "StatusQuery",
]

Ticket = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}-\d{6,}$", max_length=80)]
#: What a resident types: the number alone (this station) or a whole ticket (any station).
TicketOrNumber = Annotated[str, msgspec.Meta(pattern=r"^([A-Za-z0-9_-]{1,64}-)?\d{1,12}$", max_length=80)]
Outcome = Annotated[str, msgspec.Meta(max_length=500)]
StateFilter = Literal["", "open", "closed", "new", "triaged", "assigned", "in_progress", "resolved", "referred"]


class OrderQuery(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`state`: one state, `open`, `closed` or "" (all; open ones first, then the newest)."""

    state: StateFilter = ""
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 300


class OrderRef(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    ticket: Ticket


class OrderChangeParams(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One change: triage needs `triage`, assign needs `officer`, resolve and refer need `outcome`."""

    ticket: Ticket
    action: Action
    triage: Triage = ""
    officer: Short = ""
    outcome: Outcome = ""
    by: Short = ""  # admin tools only (see the module doc)


class StatusQuery(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    ticket: TicketOrNumber


class OrderView(msgspec.Struct, frozen=True, kw_only=True):
    """The station's view of an order and how many of its own changes central has not confirmed."""

    order: WorkOrder
    pending: int = 0


class OrderList(msgspec.Struct, frozen=True, kw_only=True):
    orders: list[OrderView]
    open: int = 0  # open orders at the station (the list may be limited)
    new: int = 0  # of which not triaged yet


class PublicStatus(msgspec.Struct, frozen=True, kw_only=True):
    """`edge.wire.orders.public_status`: what anyone holding the ticket may see."""

    ticket: str
    state: str
    triage: str = ""
    outcome: str = ""
    updated_at: str = ""
    created_at: str = ""
    source: Literal["station", "central"] = "station"  # who answered


ORDERS_LIST: Method[OrderQuery, OrderList] = Method(
    "orders.list", OrderQuery, OrderList, CREW, "The station's work orders (open first), with pending counts."
)
ORDERS_GET: Method[OrderRef, OrderView] = Method("orders.get", OrderRef, OrderView, CREW, "One work order.")
ORDERS_CHANGE: Method[OrderChangeParams, OrderView] = Method(
    "orders.change",
    OrderChangeParams,
    OrderView,
    CREW,
    "Triage, assign, start, resolve or refer an order (a durable workorder.change event).",
)
ORDERS_STATUS: Method[StatusQuery, PublicStatus] = Method(
    "orders.status", StatusQuery, PublicStatus, KIOSK, "The public progress of a ticket (no personal data)."
)
