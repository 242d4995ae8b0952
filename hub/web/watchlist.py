"""Central's watch list: entries edited in the console, and the `vision.watchlist` command each station gets.

Each entry (plate, reason, priority 1-9, expiry, who added it) has a scope (`hub.web.scopes`): every
station, a district, or some stations. A station holds one list, so what it is sent is the whole list of
the entries that reach it, as `{"version": N, "entries": [{"plate", "reason", "priority"}]}` - exactly what
`edge.vision.watchlist.WatchList.build` accepts; a station refuses the whole list if one plate is invalid,
if a plate is listed twice or if the version is older than the one it holds. So the console checks plates
with the station's own grammar (`edge.wire.plates`), merges a plate listed in two scopes into one entry
(the most urgent priority), and numbers versions from one counter that only rises (never below the clock
in seconds, so a list made by hand with `hub command` earlier is not newer).

Each reached station gets its own command (retained, `supersede="watchlist"`: a station that was offline gets
the latest list only). The station does not know expiry: an entry that expires is taken off at central and
the stations it reached get a new list (`expire_due`, run by the console every minute).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from edge.wire.commands import MAX_LIFETIME_S
from edge.wire.plates import normalise_plate, parse_plate
from hub import outbound
from hub.migrations import Part
from hub.web import pushlog
from hub.web.db import Db
from hub.web.scopes import Scope, parse_scope

__all__ = [
    "COMMAND",
    "PART",
    "EntryView",
    "WatchListError",
    "add",
    "build_args",
    "entries",
    "expire_due",
    "list_for",
    "push",
    "remove",
]

COMMAND: Final = "vision.watchlist"
MAX_REASON: Final = 200
# Version 1: the tables as they shipped before versions were recorded. Never edit a shipped version:
# a change is a new entry at the end of PART (hub/migrations.py).
_V1: Final = """
CREATE TABLE IF NOT EXISTS console_watchlist (
    id TEXT PRIMARY KEY, plate TEXT NOT NULL, reason TEXT NOT NULL, priority INTEGER NOT NULL,
    scope TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL, added_by TEXT NOT NULL,
    added_at DOUBLE PRECISION NOT NULL, removed_by TEXT NOT NULL, removed_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS console_watchlist_live ON console_watchlist (removed_at, plate)
"""
PART: Final = Part("watchlist", (_V1,))
_VERSION_KEY: Final = "watchlist.version"


class WatchListError(ValueError):
    """An entry the stations would refuse (or a duplicate), with the reason in words."""


@dataclass(frozen=True, slots=True)
class EntryView:
    id: str
    plate: str
    reason: str
    priority: int
    scope: Scope
    expires: float  # 0: until removed
    added_by: str
    added_at: float
    removed_by: str = ""  # a name, or "expired"
    removed_at: float = 0.0

    @property
    def live(self) -> bool:
        return not self.removed_at

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "plate": self.plate,
            "reason": self.reason,
            "priority": self.priority,
            "scope": str(self.scope),
            "expires": self.expires or None,
            "added_by": self.added_by,
            "added_at": self.added_at,
            "removed_by": self.removed_by,
            "removed_at": self.removed_at or None,
        }


def check_plate(text: str) -> str:
    """The plate as a station stores it, or `WatchListError` if a station would refuse it."""
    if parse_plate(text) is None:
        raise WatchListError(f"not a valid plate: {text[:40]!r}")
    return normalise_plate(text)


def _entry(row: tuple[Any, ...]) -> EntryView:
    eid, plate, reason, priority, scope, expires, by, at, removed_by, removed_at = row
    return EntryView(
        eid,
        plate,
        reason,
        int(priority),
        parse_scope(scope),
        float(expires),
        by,
        float(at),
        removed_by,
        float(removed_at),
    )


_SELECT = (
    "SELECT id, plate, reason, priority, scope, expires, added_by, added_at, removed_by, removed_at"
    " FROM console_watchlist"
)


def entries(db: Db, *, removed: bool = False, limit: int = 5000) -> list[EntryView]:
    """The live entries (or the removed ones, latest first)."""
    if removed:
        rows = db.rows(f"{_SELECT} WHERE removed_at > 0 ORDER BY removed_at DESC LIMIT ?", (limit,))
    else:
        rows = db.rows(f"{_SELECT} WHERE removed_at = 0 ORDER BY priority, plate LIMIT ?", (limit,))
    return [_entry(r) for r in rows]


def add(
    db: Db,
    *,
    plate: str,
    reason: str,
    priority: int,
    scope: Scope,
    expires: float,
    by: str,
    now: float | None = None,
) -> EntryView:
    t = time.time() if now is None else now
    norm = check_plate(plate)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON or not reason.isprintable():
        raise WatchListError(f"a reason is needed (1-{MAX_REASON} printable characters)")
    if not 1 <= priority <= 9:
        raise WatchListError("priority is 1 (most urgent) to 9")
    if expires and expires <= t:
        raise WatchListError("the expiry is in the past")
    with db.transaction():
        same = [e for e in entries(db) if e.plate == norm and e.scope == scope]
        if same:
            raise WatchListError(f"{norm} is listed for this scope already")
        entry = EntryView(secrets.token_hex(8), norm, reason, priority, scope, expires, by, t)
        db.run(
            "INSERT INTO console_watchlist VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', 0)",
            (entry.id, norm, reason, priority, str(scope), expires, by, t),
        )
    return entry


def remove(db: Db, entry_id: str, *, by: str, now: float | None = None) -> EntryView | None:
    """Take an entry off (kept, marked removed); None if it is not live."""
    row = db.one(f"{_SELECT} WHERE id = ? AND removed_at = 0", (entry_id,))
    if row is None:
        return None
    t = time.time() if now is None else now
    db.run("UPDATE console_watchlist SET removed_by = ?, removed_at = ? WHERE id = ?", (by, t, entry_id))
    return _entry(row)


def expire_due(db: Db, *, now: float | None = None) -> list[EntryView]:
    """Mark the entries whose expiry has come as removed by `expired`; returns them (their stations need a
    new list)."""
    t = time.time() if now is None else now
    rows = db.rows(f"{_SELECT} WHERE removed_at = 0 AND expires > 0 AND expires <= ?", (t,))
    for r in rows:
        db.run("UPDATE console_watchlist SET removed_by = 'expired', removed_at = ? WHERE id = ?", (t, r[0]))
    return [_entry(r) for r in rows]


def list_for(station: str, district: str, live: list[EntryView]) -> list[dict[str, Any]]:
    """The entries that reach one station, one per plate (the most urgent priority; reasons joined)."""
    merged: dict[str, dict[str, Any]] = {}
    for e in live:
        if not e.scope.covers(station, district):
            continue
        held = merged.get(e.plate)
        if held is None:
            merged[e.plate] = {"plate": e.plate, "reason": e.reason, "priority": e.priority}
            continue
        held["priority"] = min(held["priority"], e.priority)
        if e.reason not in held["reason"]:
            held["reason"] = f"{held['reason']}; {e.reason}"[:MAX_REASON]
    return sorted(merged.values(), key=lambda d: (d["priority"], d["plate"]))


def build_args(version: int, listed: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": version, "entries": listed}


def next_version(db: Db, *, now: float | None = None) -> int:
    t = time.time() if now is None else now
    with db.transaction():
        row = db.one("SELECT value FROM console_meta WHERE name = ?", (_VERSION_KEY,))
        version = max(int(row[0]) + 1 if row else 1, int(t))
        db.run(
            "INSERT INTO console_meta VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (_VERSION_KEY, str(version)),
        )
    return version


def push(db: Db, scope: Scope, districts: Mapping[str, str], *, by: str, now: float | None = None) -> str:
    """Queue each station `scope` reaches its whole current list; returns the push's id (`hub.web.pushlog`)."""
    live = entries(db)
    version = next_version(db, now=now)
    row_ids = []
    for station in scope.reach(districts):
        args = build_args(version, list_for(station, districts.get(station, ""), live))
        row_ids.append(
            outbound.enqueue(
                db,
                target=station,
                name=COMMAND,
                args=args,
                lifetime_s=MAX_LIFETIME_S,  # retained: a station that was away for weeks still gets it
                retain=True,
                supersede="watchlist",
                now=now,
            )
        )
    return pushlog.record(db, name=COMMAND, scope=str(scope), by=by, detail=str(version), row_ids=row_ids, now=now)
