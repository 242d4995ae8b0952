"""What the console reads of work orders: the listing (overdue first, per-station counts and age) and one
order. The service targets (ConsoleSettings) say when an order is overdue:

* ``order_triage_s`` (default 1 h): an order still *new* (nobody triaged it) after this long;
* ``order_open_s`` (default 72 h): an order not resolved or referred after this long.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

import msgspec

from edge.wire.orders import CLOSED_STATES, OPEN_STATES, STATES, WorkOrder
from hub.web.db import Db

__all__ = ["FILTERS", "Listing", "OrderView", "Sla", "StationCount", "listing", "view"]

FILTERS: Final = ("open", "overdue", *STATES, "all")
_decode = msgspec.json.Decoder(WorkOrder)
PAGE: Final = 500


@dataclass(frozen=True, slots=True)
class Sla:
    triage_s: float = 3600.0
    open_s: float = 72 * 3600.0

    def overdue(self, order: WorkOrder, created: float, now: float) -> str:
        """ "triage" (new too long), "open" (not closed too long) or ""."""
        if order.state == "new" and now - created > self.triage_s:
            return "triage"
        if order.state not in CLOSED_STATES and now - created > self.open_s:
            return "open"
        return ""


@dataclass(frozen=True, slots=True)
class OrderView:
    order: WorkOrder
    district: str
    station_name: str
    created: float
    overdue: str  # "" | "triage" | "open"
    age_s: float


@dataclass(frozen=True, slots=True)
class StationCount:
    station: str
    name: str
    open: int
    overdue: int
    oldest: float  # when its oldest open order was made
    age_s: float  # how long that one has waited


@dataclass(frozen=True, slots=True)
class Listing:
    rows: list[OrderView]
    counts: list[StationCount]
    chosen: dict[str, str]
    stations: list[str]
    districts: list[str]

    def link(self, **change: str) -> str:
        return urlencode({k: v for k, v in {**self.chosen, **change}.items() if v})


def _row(row: tuple[object, ...], names: dict[str, str], districts: dict[str, str], sla: Sla, now: float) -> OrderView:
    body, station, district, created = row
    order = _decode.decode(str(body))
    c = float(created)  # type: ignore[arg-type]
    st = str(station)
    return OrderView(
        order=order,
        district=str(district) or districts.get(st, ""),
        station_name=names.get(st, ""),
        created=c,
        overdue=sla.overdue(order, c, now),
        age_s=max(0.0, now - c),
    )


def view(db: Db, ticket: str, *, names: dict[str, str], districts: dict[str, str], sla: Sla) -> OrderView | None:
    row = db.one("SELECT body, station, district, created_at FROM console_orders WHERE ticket=?", (ticket,))
    return None if row is None else _row(row, names, districts, sla, time.time())


def listing(
    db: Db,
    *,
    sees: Callable[[str], bool],
    names: dict[str, str],
    districts: dict[str, str],
    sla: Sla,
    chosen: dict[str, str],
    now: float | None = None,
) -> Listing:
    """The orders one may see (`sees(district) -> bool`), filtered by station, district and state
    ("open" by default, "overdue", a state, or "all"): overdue first, then the oldest open ones."""
    t = time.time() if now is None else now
    state = chosen.get("state") or "open"
    where: list[str] = []
    params: list[str] = []
    if state in ("open", "overdue"):
        where.append("state NOT IN ('resolved', 'referred')")
    elif state in STATES:
        where.append("state=?")
        params.append(state)
    if chosen.get("station"):
        where.append("station=?")
        params.append(chosen["station"])
    sql = "SELECT body, station, district, created_at FROM console_orders"
    if where:
        sql += " WHERE " + " AND ".join(where)
    order_by = " ORDER BY created_at" if state in ("open", "overdue", *OPEN_STATES) else " ORDER BY updated_at DESC"
    rows = db.rows(sql + order_by + " LIMIT ?", (*params, PAGE))
    see = sees
    views = [_row(r, names, districts, sla, t) for r in rows]
    views = [v for v in views if see(v.district)]
    if chosen.get("district"):
        views = [v for v in views if v.district == chosen["district"]]
    if state == "overdue":
        views = [v for v in views if v.overdue]
    views.sort(key=lambda v: (not v.overdue, v.overdue != "triage", v.order.state in CLOSED_STATES))
    return Listing(
        rows=views,
        counts=_counts(db, see, names, districts, sla=sla, now=t),
        chosen={"state": state, "station": chosen.get("station", ""), "district": chosen.get("district", "")},
        stations=sorted(names),
        districts=sorted({d for d in districts.values() if d and see(d)}),
    )


_COUNTS: Final = (
    "SELECT station, MAX(district), COUNT(*), MIN(created_at), "
    "SUM(CASE WHEN (state='new' AND created_at < ?) OR created_at < ? THEN 1 ELSE 0 END) "
    "FROM console_orders WHERE state NOT IN ('resolved', 'referred') GROUP BY station"
)


def _counts(
    db: Db, see: Callable[[str], bool], names: dict[str, str], districts: dict[str, str], *, sla: Sla, now: float
) -> list[StationCount]:
    rows = db.rows(_COUNTS, (now - sla.triage_s, now - sla.open_s))
    out = []
    for station, district, n, oldest, overdue in rows:
        if not see(str(district) or districts.get(station, "")):
            continue
        out.append(
            StationCount(
                station, names.get(station, ""), int(n), int(overdue or 0), float(oldest), max(0.0, now - float(oldest))
            )
        )
    out.sort(key=lambda c: (-c.overdue, c.oldest))
    return out
