"""Work orders at central: every `kiosk.report` becomes an order, and changes are applied by the rule.

The rule (edge/wire/orders.py, docs/work-orders.md): central sequences. The feed hands this module each
stored `kiosk.report` (the order starts) and `workorder.change` (a station's change, in the station's
order) as it reads them; console changes come from the order page. Every change goes through
`_apply_locked`: one transaction that locks the order's row (`SELECT ... FOR UPDATE` on PostgreSQL,
`BEGIN IMMEDIATE` on SQLite), so with two hubs running the feed a change is applied once and revisions
never fork. A change that no longer fits is recorded as refused (`refusal`), never forced; a console
change that does not fit is refused to the person who made it. After every change the order's agreed
state is queued for its station as the signed command `workorder.state` (`hub.outbound`).

`console_orders` keeps the latest WorkOrder of each ticket (contact masked); the reporter's full contact
stays only in the stored `kiosk.report` event (`full_contact`). Replaying events changes nothing: an
order starts once, and a change seen before (its `change_id` is in the history) is skipped.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import msgspec

from edge.wire import messages as wire
from edge.wire.orders import (
    ChangeRefusedError,
    OrderChange,
    OrderStatesArgs,
    WorkOrder,
    apply,
    new_order,
    refusal,
)
from hub import outbound
from hub.migrations import Part
from hub.web.db import Db

__all__ = [
    "ORDER_TYPES",
    "PART",
    "Applied",
    "backfill",
    "central_change",
    "full_contact",
    "get",
    "order_of_report",
    "parse_ticket",
    "project_event",
    "station_change",
    "ticket_for",
]

log = logging.getLogger(__name__)

ORDER_TYPES: Final = frozenset({"kiosk.report", "workorder.change"})

# Version 1: the tables as they shipped before versions were recorded. Never edit a shipped version:
# a change is a new entry at the end of PART (hub/migrations.py).
_V1: Final = """
CREATE TABLE IF NOT EXISTS console_orders (
    ticket TEXT PRIMARY KEY, station TEXT NOT NULL, seq BIGINT NOT NULL, district TEXT NOT NULL,
    state TEXT NOT NULL, triage TEXT NOT NULL, officer TEXT NOT NULL, rev BIGINT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_orders_state ON console_orders (state, created_at);
CREATE INDEX IF NOT EXISTS console_orders_station ON console_orders (station, created_at);
CREATE TABLE IF NOT EXISTS console_order_waiting (
    change_id TEXT PRIMARY KEY, ticket TEXT NOT NULL, station TEXT NOT NULL, seq BIGINT NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_order_waiting_ticket ON console_order_waiting (ticket, station, seq)
"""
PART: Final = Part("orders", (_V1,))

_decode = msgspec.json.Decoder(WorkOrder)


def ticket_for(station: str, seq: int) -> str:
    """The ticket of the report event `seq` of `station` (the same as `kiosk.requests.ticket_for`)."""
    return f"{station}-{seq:06d}"


def parse_ticket(ticket: str) -> tuple[str, int] | None:
    station, _, seq = ticket.rpartition("-")
    if not station or not seq.isdigit() or len(seq) < 6:
        return None
    return station, int(seq)


def _epoch(stamp: str) -> float:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return time.time()


@dataclass(frozen=True, slots=True)
class Applied:
    """What became of one change: the order after it, and why it was refused ("" when applied)."""

    order: WorkOrder
    refused: str = ""
    changed: bool = True  # False: the change had been seen before (nothing written, nothing sent)


# ---- starting an order -------------------------------------------------------------------------------
def _district(db: Db, station: str) -> str:
    row = db.one("SELECT telemetry FROM stations WHERE station=?", (station,))
    if row is None or not row[0]:
        return ""
    tele = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    return str((tele.get("place") or {}).get("district") or "")


def order_of_report(station: str, seq: int, ts: str, data: dict[str, Any]) -> WorkOrder:
    fields = data.get("fields") or {}
    return new_order(
        ticket_for(station, seq),
        station,
        category=str(data.get("category") or ""),
        service=str(data.get("service") or ""),
        fields={str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else {},
        created_at=ts,
    )


def _start(db: Db, station: str, seq: int, ts: str, data: dict[str, Any]) -> bool:
    """Insert the order a report starts (nothing when it exists already); True when it was new."""
    order = order_of_report(station, seq, ts, data)
    created = _epoch(ts)
    return (
        db.run(
            "INSERT INTO console_orders VALUES (?, ?, ?, ?, ?, '', '', 0, ?, ?, ?) ON CONFLICT (ticket) DO NOTHING",
            (order.ticket, station, seq, _district(db, station), "new", created, created, _encode(order)),
        )
        == 1
    )


def _stored_report(db: Db, ticket: str) -> tuple[str, int, str, dict[str, Any]] | None:
    parsed = parse_ticket(ticket)
    if parsed is None:
        return None
    row = db.one("SELECT body FROM events WHERE station=? AND seq=? AND type='kiosk.report'", parsed)
    if row is None:
        return None
    body = json.loads(row[0])
    return parsed[0], parsed[1], str(body.get("ts", "")), body.get("data") or {}


def full_contact(db: Db, ticket: str) -> str:
    """The reporter's contact as entered, from the stored report (only for a role that needs it)."""
    got = _stored_report(db, ticket)
    fields = (got[3].get("fields") or {}) if got else {}
    return str(fields.get("phone") or fields.get("contact") or "")


# ---- applying changes ----------------------------------------------------------------------------
def _encode(order: WorkOrder) -> str:
    return msgspec.json.encode(order).decode()


def get(db: Db, ticket: str) -> WorkOrder | None:
    row = db.one("SELECT body FROM console_orders WHERE ticket=?", (ticket,))
    return None if row is None else _decode.decode(row[0])


def _locked(db: Db, ticket: str) -> WorkOrder | None:
    """The order's row, locked for this transaction (SQLite: the whole database is, by BEGIN IMMEDIATE)."""
    sql = _LOCK_PG if db.pg else _LOCK_LITE
    row = db.one(sql, (ticket,))
    return None if row is None else _decode.decode(row[0])


_LOCK_LITE = "SELECT body FROM console_orders WHERE ticket=?"
_LOCK_PG = _LOCK_LITE + " FOR UPDATE"


def _write(db: Db, before: WorkOrder, after: WorkOrder) -> WorkOrder:
    after = msgspec.structs.replace(after, rev=before.rev + 1)
    db.run(
        "UPDATE console_orders SET state=?, triage=?, officer=?, rev=?, updated_at=?, body=? WHERE ticket=?",
        (after.state, after.triage, after.officer, after.rev, time.time(), _encode(after), after.ticket),
    )
    args = msgspec.to_builtins(OrderStatesArgs(orders=(after,)))
    outbound.enqueue(db, target=after.station, name="workorder.state", args=args, supersede=f"order:{after.ticket}")
    return after


def _apply_locked(db: Db, change: OrderChange, *, record_refusal: bool) -> Applied | None:
    """Inside a transaction: apply `change` to its locked order; None when the order does not exist."""
    order = _locked(db, change.ticket)
    if order is None:
        return None
    try:
        after = apply(order, change)
    except ChangeRefusedError as exc:
        if not record_refusal:
            return Applied(order, refused=str(exc), changed=False)
        after = refusal(order, change, str(exc))
        if after is order:
            return Applied(order, changed=False)
        return Applied(_write(db, order, after), refused=str(exc))
    if after is order:
        return Applied(order, changed=False)
    return Applied(_write(db, order, after))


def station_change(db: Db, station: str, seq: int, change: OrderChange) -> Applied | None:
    """Apply a station's change (stored event `seq` of `station`); None when its order has not started
    yet (the change waits for its report) or the change is for another station's ticket (ignored)."""
    parsed = parse_ticket(change.ticket)
    if parsed is None or parsed[0] != station:
        log.warning("work orders: %s/%d changes ticket %s of another station: ignored", station, seq, change.ticket)
        return None
    with db.transaction():
        if db.one("SELECT 1 FROM console_orders WHERE ticket=?", (change.ticket,)) is None:
            report = _stored_report(db, change.ticket)
            if report is None:  # the report is not stored yet (two hubs, batches stored out of order)
                db.run(
                    "INSERT INTO console_order_waiting VALUES (?, ?, ?, ?, ?) ON CONFLICT (change_id) DO NOTHING",
                    (change.change_id, change.ticket, station, seq, _encode_change(change)),
                )
                return None
            _start(db, *report)
        return _apply_locked(db, change, record_refusal=True)


def _encode_change(change: OrderChange) -> str:
    return msgspec.json.encode(change).decode()


def start_order(db: Db, station: str, seq: int, ts: str, data: dict[str, Any]) -> list[Applied]:
    """Start the order of a stored report, then apply the changes that arrived before it (in order)."""
    ticket = ticket_for(station, seq)
    with db.transaction():
        out = []
        if _start(db, station, seq, ts, data):
            started = get(db, ticket)
            if started is not None:
                out.append(Applied(started))
        waiting = db.rows("SELECT change_id, body FROM console_order_waiting WHERE ticket=? ORDER BY seq", (ticket,))
        for change_id, body in waiting:
            got = _apply_locked(db, msgspec.json.decode(body, type=OrderChange), record_refusal=True)
            if got is not None and got.changed:
                out.append(got)
            db.run("DELETE FROM console_order_waiting WHERE change_id=?", (change_id,))
    return out


def central_change(
    db: Db,
    ticket: str,
    *,
    action: str,
    by: str,
    base_rev: int = 0,
    triage: str = "",
    officer: str = "",
    outcome: str = "",
) -> Applied | None:
    """A change made in the console; refused (not recorded) when it does not fit the order's state.
    None when there is no such order. Raises ValueError when the change itself is malformed."""
    try:
        change = msgspec.convert(
            {
                "change_id": uuid.uuid4().hex,
                "ticket": ticket,
                "action": action,
                "by": by[:64],
                "at": wire.utc_now_iso(),
                "origin": "central",
                "base_rev": base_rev,
                "triage": triage,
                "officer": officer.strip(),
                "outcome": outcome.strip(),
            },
            OrderChange,
        )
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None
    with db.transaction():
        return _apply_locked(db, change, record_refusal=False)


# ---- from the feed ---------------------------------------------------------------------------------
def project_event(db: Db, station: str, seq: int, etype: str, body: dict[str, Any]) -> list[Applied]:
    """One stored event of `ORDER_TYPES` (replay-safe). Returns what changed (for the live feed)."""
    data = body.get("data") or {}
    if etype == "kiosk.report":
        return start_order(db, station, seq, str(body.get("ts", "")), data)
    try:
        change = msgspec.convert(data.get("change"), OrderChange)
    except msgspec.ValidationError as exc:
        log.warning("work orders: %s/%d: malformed workorder.change: %s", station, seq, exc)
        return []
    if change.origin != "station":
        log.warning("work orders: %s/%d: a station sent a change marked %s: ignored", station, seq, change.origin)
        return []
    got = station_change(db, station, seq, change)
    return [got] if got is not None and got.changed else []


def backfill(db: Db) -> None:
    """Once per database: the orders of reports stored before this console projected them."""
    if db.one("SELECT value FROM console_meta WHERE name='orders_backfill'") is not None:
        return
    for station, seq, etype, body in db.rows(
        "SELECT station, seq, type, body FROM events WHERE type IN ('kiosk.report', 'workorder.change') "
        "ORDER BY station, seq"
    ):
        try:
            project_event(db, station, int(seq), etype, json.loads(body))
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("work orders: %s/%s (%s) could not be projected", station, seq, etype, exc_info=True)
    db.run("INSERT INTO console_meta VALUES ('orders_backfill', '1') ON CONFLICT (name) DO NOTHING")
