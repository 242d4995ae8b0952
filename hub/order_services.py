"""Station requests about work orders (registered in hub/cli.py `_plugins()`):

* `workorder.status` {ticket} -> `public_status` of any station's ticket (a resident may check a report
  at another kiosk): no personal data, no officer's name. A report stored but not yet projected by the
  console answers as new; an unknown ticket is NOT_FOUND.
* `workorder.sync` {tickets: [...]} -> {orders: [WorkOrder]}: the agreed state of the asking station's
  own tickets (a station resyncing after a long outage); other stations' tickets are left out.

Both read the console's `console_orders` (hub/web/orders.py) on the hub's own connection.
"""

from __future__ import annotations

import json
import weakref
from typing import Any, Final

import msgspec

from edge.wire.errors import INVALID_PARAMS, NOT_FOUND, ApiError
from edge.wire.orders import WorkOrder, public_status
from hub.kiosk_db import KioskDb
from hub.rpc import RpcContext, RpcRegistry
from hub.store import Store
from hub.web import orders
from hub.web.orders import order_of_report, parse_ticket

__all__ = ["register"]

MAX_SYNC: Final = 200
_decode = msgspec.json.Decoder(WorkOrder)
_ready: weakref.WeakSet[Any] = weakref.WeakSet()


def _db(store: Store) -> KioskDb:
    db = KioskDb(store)
    if store not in _ready:  # the hub's start-up migrates every part; a store opened elsewhere may not be
        db.migrate(orders.PART)
        _ready.add(store)
    return db


def _ticket(value: object) -> tuple[str, tuple[str, int]]:
    parsed = parse_ticket(value) if isinstance(value, str) and len(value) <= 80 else None
    if parsed is None:
        raise ApiError(INVALID_PARAMS, "ticket must look like STATION-000123")
    return str(value), parsed


def _order(db: KioskDb, ticket: str, station: str, seq: int) -> WorkOrder | None:
    row = db.one("SELECT body FROM console_orders WHERE ticket=?", (ticket,))
    if row is not None:
        return _decode.decode(str(row[0]))
    row = db.one("SELECT body FROM events WHERE station=? AND seq=? AND type='kiosk.report'", (station, seq))
    if row is None:
        return None
    body = json.loads(row[0])
    return order_of_report(station, seq, str(body.get("ts", "")), body.get("data") or {})


def _status(ctx: RpcContext, params: dict[str, Any]) -> dict[str, str]:
    ticket, (station, seq) = _ticket(params.get("ticket"))
    db = _db(ctx.store)
    with db.transaction():
        order = _order(db, ticket, station, seq)
    if order is None:
        raise ApiError(NOT_FOUND, f"no report with ticket {ticket}")
    return public_status(order)


def _sync(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    tickets = params.get("tickets")
    if not isinstance(tickets, list) or len(tickets) > MAX_SYNC:
        raise ApiError(INVALID_PARAMS, f"tickets must be a list of at most {MAX_SYNC} tickets")
    db = _db(ctx.store)
    out = []
    with db.transaction():
        for value in tickets:
            ticket, (station, _seq) = _ticket(value)
            if station != ctx.station:
                continue  # only the asking station's own orders
            row = db.one("SELECT body FROM console_orders WHERE ticket=?", (ticket,))
            if row is not None:
                out.append(msgspec.to_builtins(_decode.decode(str(row[0]))))
    return {"orders": out}


def register(rpc: RpcRegistry) -> None:
    rpc.register("workorder.status", _status)
    rpc.register("workorder.sync", _sync)
