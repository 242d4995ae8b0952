"""Work orders: what a resident's report becomes, shared by the station and central (the contract).

Every resident report (`kiosk.report`, any report kind) is a work order whose ticket is the report's
ticket (`{station}-{seq:06d}`). Its life:

    new -> triaged (on_spot | follow_up | to_station) -> assigned (officer) -> in_progress
        -> resolved (outcome)    or, from any open state, -> referred (outcome: to whom and why)

`assign` again from assigned / in_progress is a reassignment; `triage` again from triaged changes the
triage. Every change is an `OrderChange` (who, when, where it was made, the revision its author saw)
and lands in the order's history as a `Step`, applied or refused.

Station and central agree on one state by this rule (docs/work-orders.md):

* **Central sequences.** A station's changes travel as durable `workorder.change` events, in the order
  they were made (the outbox keeps it, offline too); central applies each one to its copy in the order
  it arrives, and its own (console) changes when they are made. `apply()` decides every change against
  the state it meets, not the one its author saw.
* **A change that is no longer possible is refused, never forced.** If the link was down and both sides
  changed the same order, the one central applied first stands; the later one is kept in the history as
  refused (`Step.refused` names why), so nobody's work disappears silently. Changes that still fit (a
  station assigning an officer after central triaged) are applied on top.
* **Central's copy is the agreed one.** After every change central sends the order's state to its
  station (a signed `workorder.state` command); the station replaces its copy with it when `rev` is
  newer and re-applies only its own changes that central has not seen yet (`pending_after`).

The reporter's contact is never part of these Structs: central keeps the report itself; what travels
back to stations and shows on screens is the masked form (`mask_contact`).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec

from edge.wire import payloads

__all__ = [
    "ACTIONS",
    "CLOSED_STATES",
    "OPEN_STATES",
    "STATES",
    "TRIAGES",
    "Action",
    "ChangeEvent",
    "ChangeRefusedError",
    "OrderChange",
    "OrderState",
    "OrderStatesArgs",
    "Step",
    "Triage",
    "WorkOrder",
    "actions_for",
    "apply",
    "mask_contact",
    "new_order",
    "pending_after",
    "public_status",
    "refusal",
]

OrderState = Literal["new", "triaged", "assigned", "in_progress", "resolved", "referred"]
Triage = Literal["", "on_spot", "follow_up", "to_station"]
Action = Literal["triage", "assign", "start", "resolve", "refer"]

STATES: Final[tuple[OrderState, ...]] = ("new", "triaged", "assigned", "in_progress", "resolved", "referred")
CLOSED_STATES: Final = frozenset({"resolved", "referred"})
OPEN_STATES: Final = frozenset(STATES) - CLOSED_STATES
TRIAGES: Final[tuple[Triage, ...]] = ("on_spot", "follow_up", "to_station")
ACTIONS: Final[tuple[Action, ...]] = ("triage", "assign", "start", "resolve", "refer")

#: From which states each action may be taken, and the state it leads to.
_FROM: Final[dict[str, frozenset[str]]] = {
    "triage": frozenset({"new", "triaged"}),
    "assign": frozenset({"triaged", "assigned", "in_progress"}),
    "start": frozenset({"assigned"}),
    "resolve": frozenset({"triaged", "assigned", "in_progress"}),
    "refer": frozenset({"new", "triaged", "assigned", "in_progress"}),
}
_TO: Final[dict[str, OrderState]] = {
    "triage": "triaged",
    "assign": "assigned",
    "start": "in_progress",
    "resolve": "resolved",
    "refer": "referred",
}

Ticket = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}-\d{6,}$", max_length=80)]
Short = Annotated[str, msgspec.Meta(max_length=64)]
Outcome = Annotated[str, msgspec.Meta(max_length=500)]
ChangeId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{8,64}$")]
Stamp = Annotated[str, msgspec.Meta(max_length=40)]


class ChangeRefusedError(ValueError):
    """The change does not fit the order's state (or is malformed for its action)."""


class OrderChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One change to one work order, as made by a crew member at the station or a person at central."""

    change_id: ChangeId  # unique (uuid4 hex); a change seen twice is applied once
    ticket: Ticket
    action: Action
    by: Short  # who made it (crew member id / console account), never a resident
    at: Stamp  # RFC 3339 UTC, when it was made
    origin: Literal["station", "central"]
    base_rev: int = 0  # the revision of central's copy its author had seen
    triage: Triage = ""  # action triage: required
    officer: Short = ""  # action assign: required
    outcome: Outcome = ""  # resolve / refer: required


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """One change in an order's history; `refused` is why it was not applied ("" when it was)."""

    change_id: str
    action: Action
    by: str
    at: str
    origin: str
    state: OrderState  # the order's state after this step
    detail: str = ""  # the triage, the officer or the outcome
    refused: str = ""


class WorkOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A work order as both sides keep it (the reporter's contact only masked)."""

    ticket: str
    station: str
    category: str = ""
    service: str = ""
    place: str = ""
    description: str = ""
    contact: str = ""  # masked: 138****5678
    created_at: str = ""
    state: OrderState = "new"
    triage: Triage = ""
    officer: str = ""
    outcome: str = ""
    rev: int = 0  # central's revision; the station's own copy keeps the last one it received
    updated_at: str = ""
    history: tuple[Step, ...] = ()


class OrderStatesArgs(msgspec.Struct, frozen=True, kw_only=True):
    """Args of the `workorder.state` command central sends a station: the agreed state of its orders."""

    orders: tuple[WorkOrder, ...]


def new_order(
    ticket: str,
    station: str,
    *,
    category: str,
    service: str,
    fields: dict[str, str],
    created_at: str,
) -> WorkOrder:
    """The order a `kiosk.report` starts (its form fields: place/location, description, phone)."""
    place = fields.get("location") or fields.get("place") or fields.get("address") or ""
    description = fields.get("description") or fields.get("details") or fields.get("content") or ""
    contact = fields.get("phone") or fields.get("contact") or ""
    return WorkOrder(
        ticket=ticket,
        station=station,
        category=category,
        service=service,
        place=place[:200],
        description=description[:1000],
        contact=mask_contact(contact),
        created_at=created_at,
        updated_at=created_at,
    )


def apply(order: WorkOrder, change: OrderChange) -> WorkOrder:
    """`order` after `change`; ChangeRefusedError (with the reason) when it does not fit the state."""
    if change.ticket != order.ticket:
        raise ChangeRefusedError(f"change is for {change.ticket}, not {order.ticket}")
    if any(s.change_id == change.change_id for s in order.history):
        return order  # seen already: applied (or refused) once
    if order.state not in _FROM[change.action]:
        raise ChangeRefusedError(f"cannot {change.action} an order that is {order.state}")
    detail = _detail(change)
    to = _TO[change.action]
    step = Step(
        change_id=change.change_id,
        action=change.action,
        by=change.by,
        at=change.at,
        origin=change.origin,
        state=to,
        detail=detail,
    )
    updates: dict[str, object] = {"state": to, "updated_at": change.at, "history": (*order.history, step)}
    if change.action == "triage":
        updates["triage"] = change.triage
    elif change.action == "assign":
        updates["officer"] = change.officer
    elif change.action in ("resolve", "refer"):
        updates["outcome"] = change.outcome
    return msgspec.structs.replace(order, **updates)


def refusal(order: WorkOrder, change: OrderChange, reason: str) -> WorkOrder:
    """`order` with `change` recorded in its history as refused (its state unchanged)."""
    if any(s.change_id == change.change_id for s in order.history):
        return order
    step = Step(
        change_id=change.change_id,
        action=change.action,
        by=change.by,
        at=change.at,
        origin=change.origin,
        state=order.state,
        detail=_detail(change, strict=False),
        refused=reason[:200],
    )
    return msgspec.structs.replace(order, history=(*order.history, step))


def pending_after(agreed: WorkOrder, own: list[OrderChange]) -> tuple[WorkOrder, list[OrderChange]]:
    """The station's view: central's `agreed` copy with the station's changes central has not seen yet
    re-applied on top (those that no longer fit are left out of the view, not dropped: central decides
    when they arrive). Returns the view and the changes still pending."""
    seen = {s.change_id for s in agreed.history}
    still = [c for c in own if c.change_id not in seen]
    view = agreed
    for c in still:
        try:
            view = apply(view, c)
        except ChangeRefusedError:
            continue
    return view, still


def public_status(order: WorkOrder) -> dict[str, str]:
    """What "check my report" shows anyone holding the ticket: no personal data, no officer's name."""
    return {
        "ticket": order.ticket,
        "state": order.state,
        "triage": order.triage,
        "outcome": order.outcome if order.state in CLOSED_STATES else "",
        "updated_at": order.updated_at,
        "created_at": order.created_at,
    }


def actions_for(state: str) -> tuple[Action, ...]:
    """The actions that fit an order in `state` (what a screen offers; `apply` still decides)."""
    return tuple(a for a in ACTIONS if state in _FROM[a])


def mask_contact(value: str) -> str:
    """A phone number (or any contact) with all but its first 3 and last 4 characters hidden."""
    v = value.strip()
    if not v:
        return ""
    if len(v) <= 7:
        return "*" * len(v)
    return v[:3] + "*" * (len(v) - 7) + v[-4:]


def _detail(change: OrderChange, *, strict: bool = True) -> str:
    if change.action == "triage":
        if strict and change.triage not in TRIAGES:
            raise ChangeRefusedError("triage needs one of on_spot, follow_up, to_station")
        return change.triage
    if change.action == "assign":
        if strict and not change.officer.strip():
            raise ChangeRefusedError("assign needs an officer")
        return change.officer
    if change.action in ("resolve", "refer"):
        if strict and not change.outcome.strip():
            raise ChangeRefusedError(f"{change.action} needs an outcome")
        return change.outcome
    return ""


class ChangeEvent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`workorder.change`: a change made at the station, on its way to central (durable, in order)."""

    change: OrderChange


payloads.register("workorder.change", ChangeEvent)
