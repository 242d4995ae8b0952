"""Each incident's response times, kept beside its latest revision for the statistics (`hub.web.stats`).

`console_incidents` keeps the whole incident as JSON; statistics over a year of incidents must not decode
every body. So whenever the console stores a newer revision it also writes one narrow row here (same key,
same ``rev`` guard): the kind, when it was raised, the seconds from raised to each step, and whether each
1-3-5 target was met. The rules are the engine's (`edge.wire.api.incidents.Incident`): a target is *met*
when its step came by its deadline (respond: dispatched, 1 min; arrive: on scene, 3 min; resolve: closed,
5 min; closing meets every target still open), *late* when the step came after it or the station
escalated it as missed, and *pending* (NULL) while neither is known.

The index by time holds every column the statistics read (a covering index): a year of incidents is read
in order from it alone, without a lookup per row in the table. The per-month figures derived from these rows
(`hub.web.response_months`, its table is version 2 of `PART`) are rebuilt for the incident's station in the
same transaction as its row.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from edge.wire.api.incidents import Incident
from hub.migrations import Part
from hub.web import response_months
from hub.web.db import Db

__all__ = ["PART", "TARGETS", "backfill", "changes", "record", "row_of"]

TARGETS: Final = ("respond", "arrive", "resolve")

# Version 1: the tables as they shipped before versions were recorded. Never edit a shipped version:
# a change is a new entry at the end of PART (hub/migrations.py).
_V1: Final = """
CREATE TABLE IF NOT EXISTS console_response (
    station TEXT NOT NULL, incident_id TEXT NOT NULL, rev INTEGER NOT NULL, kind TEXT NOT NULL,
    raised_at DOUBLE PRECISION NOT NULL, respond_s DOUBLE PRECISION, arrive_s DOUBLE PRECISION,
    close_s DOUBLE PRECISION, respond_ok INTEGER, arrive_ok INTEGER, resolve_ok INTEGER,
    PRIMARY KEY (station, incident_id)
);
CREATE INDEX IF NOT EXISTS console_response_by_time ON console_response (
    raised_at, station, kind, respond_s, arrive_s, close_s, respond_ok, arrive_ok, resolve_ok
)
"""
# Version 2: each station's month of figures (hub.web.response_months), built at start-up by
# `response_months.ensure` from the rows above.
_V2: Final = """
CREATE TABLE console_response_month (
    month TEXT NOT NULL, station TEXT NOT NULL, alarms INTEGER NOT NULL, panic INTEGER NOT NULL,
    duress INTEGER NOT NULL, holdup INTEGER NOT NULL, emergency INTEGER NOT NULL, other_kinds TEXT NOT NULL,
    respond_met INTEGER NOT NULL, respond_decided INTEGER NOT NULL, arrive_met INTEGER NOT NULL,
    arrive_decided INTEGER NOT NULL, resolve_met INTEGER NOT NULL, resolve_decided INTEGER NOT NULL,
    respond_times TEXT NOT NULL, arrive_times TEXT NOT NULL, close_times TEXT NOT NULL,
    PRIMARY KEY (month, station)
)
"""
PART: Final = Part("response_times", (_V1, _V2))

_UPSERT = (
    "INSERT INTO console_response VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (station, incident_id) "
    "DO UPDATE SET rev=excluded.rev, kind=excluded.kind, raised_at=excluded.raised_at, "
    "respond_s=excluded.respond_s, arrive_s=excluded.arrive_s, close_s=excluded.close_s, "
    "respond_ok=excluded.respond_ok, arrive_ok=excluded.arrive_ok, resolve_ok=excluded.resolve_ok "
    "WHERE excluded.rev > console_response.rev"
)


def row_of(station: str, incident: dict[str, Any]) -> tuple[Any, ...] | None:
    """The narrow row of one incident revision, or None if it is not an incident this code can read."""
    try:
        inc = msgspec.convert(incident, Incident)
    except msgspec.ValidationError:
        return None
    raised = inc.raised_at

    def after(t: float | None) -> float | None:
        return None if t is None else max(0.0, t - raised)

    oks: list[int | None] = []
    for name in TARGETS:
        met = inc.met_at(name)
        if met is not None:
            oks.append(1 if met <= inc.deadline(name) else 0)
        else:
            oks.append(0 if name in inc.missed else None)
    return (
        station,
        inc.id,
        int(inc.rev or 1),
        inc.kind,
        raised,
        after(inc.met_at("respond")),
        after(inc.met_at("arrive")),
        after(inc.closed_at),
        *oks,
    )


class _Changes:
    """How many times this process recorded an incident change: a cached report older than that is stale."""

    count = 0


changes = _Changes()


def record(db: Db, station: str, incident: dict[str, Any]) -> None:
    """Store the incident's row if this revision is newer, and its station's month figures with it (the month
    it was raised in before and now: a revision may move its raised time across midnight or a month)."""
    row = row_of(station, incident)
    if row is None:
        return
    with db.transaction():
        old = db.one("SELECT raised_at FROM console_response WHERE station = ? AND incident_id = ?", row[:2])
        if db.run(_UPSERT, row):
            response_months.refresh(db, station, [row[4]] if old is None else [float(old[0]), row[4]])
    changes.count += 1


def backfill(db: Db) -> int:
    """Rows for incidents stored before this table existed (once, at start-up). Returns how many."""
    import json

    missing = db.rows(
        "SELECT i.station, i.body FROM console_incidents i LEFT JOIN console_response r "
        "ON r.station = i.station AND r.incident_id = i.incident_id WHERE r.station IS NULL"
    )
    rows = [r for r in (row_of(st, json.loads(body)) for st, body in missing) if r is not None]
    if rows:
        with db.transaction():
            for r in rows:
                db.run(_UPSERT, r)
        tz = response_months.stored_tz(db)
        if tz is not None:
            response_months.rebuild(db, tz)
    return len(rows)
