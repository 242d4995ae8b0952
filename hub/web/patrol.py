"""Patrol check-ins at central (巡逻打卡): the roster of patrol members and the check-ins stations send.

Roster (`patrol_members`): officers and volunteers registered by command staff. The ID number typed at
registration is used twice and then dropped: hashed with the roster salt (`edge.wire.patrol.id_hash`,
what stations match a card against) and masked for the screen (``110***********002X``). Central keeps
no ID number, so neither a page, an export nor a copy of the database shows one. A member may get a
check-in code (8 digits, shown once at registration; only its hash is kept) to type on a kiosk.
`push_roster` queues the whole active roster as the signed command `patrol.roster` to every station
(`hub.outbound`, retained, superseding a roster not yet published).

Check-ins (`patrol_checkins`): a projection of the stored `patrol.checkin` events, brought up to date
when a page or the API reads it (`sync`: events received since the last sync, with a look-back window
so a batch committed late by another hub is not missed; keyed by station and seq, so replays are
harmless). `summary` gives a period's counts per station and day and per member, and the stations with
no visit at all.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal

from edge.wire import messages as wire
from edge.wire.commands import MAX_LIFETIME_S
from edge.wire.patrol import ROSTER_COMMAND, PatrolRole, code_hash, id_hash, normalize_id
from hub import outbound
from hub.migrations import Part
from hub.web.db import Db

__all__ = [
    "CHECKIN_TYPE",
    "PART",
    "Member",
    "Summary",
    "add_member",
    "mask_id",
    "members",
    "push_roster",
    "roster_args",
    "set_active",
    "summary",
    "sync",
]

ROLES: Final[tuple[PatrolRole, ...]] = ("officer", "volunteer")
CHECKIN_TYPE: Final = "patrol.checkin"  # the event a station sends (edge.wire.patrol.PatrolCheckIn)
_LOOKBACK_S: Final = 5.0

# Version 1: the tables as they shipped before versions were recorded. Never edit a shipped version:
# a change is a new entry at the end of PART (hub/migrations.py).
_V1: Final = """
CREATE TABLE IF NOT EXISTS patrol_members (
    id_hash TEXT PRIMARY KEY, display_name TEXT NOT NULL, role TEXT NOT NULL, id_masked TEXT NOT NULL,
    code_hash TEXT NOT NULL, active INTEGER NOT NULL, created DOUBLE PRECISION NOT NULL, created_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS patrol_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS patrol_checkins (
    station TEXT NOT NULL, seq BIGINT NOT NULL, at DOUBLE PRECISION NOT NULL, day TEXT NOT NULL,
    id_hash TEXT NOT NULL, display_name TEXT NOT NULL, role TEXT NOT NULL, method TEXT NOT NULL,
    PRIMARY KEY (station, seq)
);
CREATE INDEX IF NOT EXISTS patrol_checkins_day ON patrol_checkins (day)
"""
PART: Final = Part("patrol", (_V1,))


class PatrolError(ValueError):
    """A bad registration (the message says what, never the ID number)."""


@dataclass(frozen=True, slots=True)
class Member:
    id_hash: str
    display_name: str
    role: str
    id_masked: str
    has_code: bool
    active: bool
    created: float


def mask_id(id_number: str) -> str:
    return id_number[:3] + "*" * (len(id_number) - 7) + id_number[-4:]


def _meta(db: Db, name: str) -> str | None:
    row = db.one("SELECT value FROM patrol_meta WHERE name=?", (name,))
    return None if row is None else str(row[0])


def _set_meta(db: Db, name: str, value: str) -> None:
    db.run("INSERT INTO patrol_meta VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value=excluded.value", (name, value))


def salt(db: Db) -> str:
    """The roster salt, made once (a station matches cards with it; see docs/security.md)."""
    value = _meta(db, "salt")
    if value is None:
        db.run("INSERT INTO patrol_meta VALUES ('salt', ?) ON CONFLICT (name) DO NOTHING", (secrets.token_hex(16),))
        value = _meta(db, "salt")
    assert value is not None
    return value


def add_member(
    db: Db, *, id_number: str, display_name: str, role: str, by: str, with_code: bool = True
) -> tuple[Member, str]:
    """Register (or re-register: a new name, role and code) a member; returns them and the new code
    to show once ("" without one)."""
    try:
        number = normalize_id(id_number)
    except ValueError:
        raise PatrolError("id_number") from None
    name = display_name.strip()
    if not 1 <= len(name) <= 32:
        raise PatrolError("display_name")
    if role not in ROLES:
        raise PatrolError("role")
    s = salt(db)
    hashed = id_hash(s, number)
    code = ""
    if with_code:
        taken = {r[0] for r in db.rows("SELECT code_hash FROM patrol_members WHERE id_hash <> ?", (hashed,))}
        while not code or code_hash(s, code) in taken:
            code = f"{secrets.randbelow(10**8):08d}"
    db.run(
        "INSERT INTO patrol_members VALUES (?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (id_hash) DO UPDATE SET "
        "display_name=excluded.display_name, role=excluded.role, code_hash=excluded.code_hash, active=1",
        (hashed, name, role, mask_id(number), code_hash(s, code) if code else "", time.time(), by),
    )
    got = next(m for m in members(db) if m.id_hash == hashed)
    return got, code


def set_active(db: Db, hashed: str, active: bool) -> bool:
    return db.run("UPDATE patrol_members SET active=? WHERE id_hash=?", (1 if active else 0, hashed)) > 0


def members(db: Db) -> list[Member]:
    rows = db.rows(
        "SELECT id_hash, display_name, role, id_masked, code_hash, active, created FROM patrol_members "
        "ORDER BY active DESC, display_name"
    )
    return [Member(r[0], r[1], r[2], r[3], bool(r[4]), bool(r[5]), float(r[6])) for r in rows]


def roster_args(db: Db, version: int) -> dict[str, Any]:
    """The args of `patrol.roster` (`edge.wire.patrol.Roster`): active members only."""
    rows = db.rows("SELECT id_hash, display_name, role, code_hash FROM patrol_members WHERE active=1 ORDER BY id_hash")
    out = []
    for hashed, name, role, code in rows:
        member = {"id_hash": hashed, "display_name": name, "role": role}
        if code:
            member["code_hash"] = code
        out.append(member)
    return {"version": version, "issued_at": wire.utc_now_iso(), "salt": salt(db), "members": out}


def push_roster(db: Db) -> tuple[int, int]:
    """Queue the roster for every station; returns (roster version, outbound row id).
    Raises ValueError when it does not fit in one command (hub.outbound's limit)."""
    with db.transaction():
        version = int(_meta(db, "version") or "0") + 1
        _set_meta(db, "version", str(version))
    args = roster_args(db, version)
    row = outbound.enqueue(
        db, target="all", name=ROSTER_COMMAND, args=args, lifetime_s=MAX_LIFETIME_S, retain=True, supersede="roster"
    )
    _set_meta(db, "pushed", json.dumps({"version": version, "at": time.time(), "members": len(args["members"])}))
    return version, row


def last_push(db: Db) -> dict[str, Any] | None:
    raw = _meta(db, "pushed")
    return None if raw is None else dict(json.loads(raw))


# ---- check-ins -----------------------------------------------------------------------------------------
def _epoch(iso: str, fallback: float) -> float:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return fallback


def sync(db: Db) -> int:
    """Project `patrol.checkin` events received since the last sync; returns how many were new."""
    cursor = float(_meta(db, "cursor") or "0")
    rows = db.rows(
        "SELECT station, seq, body, received_at FROM events WHERE type=? AND received_at > ? ORDER BY received_at",
        (CHECKIN_TYPE, max(0.0, cursor - _LOOKBACK_S)),
    )
    added = 0
    high = cursor
    for station, seq, body, received_at in rows:
        high = max(high, float(received_at))
        data = (json.loads(body) if isinstance(body, str) else body).get("data") or {}
        at = _epoch(str(data.get("at", "")), float(received_at))
        added += db.run(
            "INSERT INTO patrol_checkins VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (station, seq) DO NOTHING",
            (
                station,
                int(seq),
                at,
                time.strftime("%Y-%m-%d", time.localtime(at)),
                str(data.get("id_hash", "")),
                str(data.get("display_name", ""))[:32],
                str(data.get("role", "")),
                str(data.get("method", "")),
            ),
        )
    if high > cursor:
        _set_meta(db, "cursor", repr(high))
    return added


Grouping = Literal["station", "member"]


@dataclass(frozen=True, slots=True)
class CheckIn:
    station: str
    seq: int
    at: float
    day: str
    id_hash: str
    display_name: str
    role: str
    method: str

    def as_json(self) -> dict[str, Any]:
        return {
            "station": self.station,
            "seq": self.seq,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.at)),
            "day": self.day,
            "member": self.id_hash[:12],
            "display_name": self.display_name,
            "role": self.role,
            "method": self.method,
        }


@dataclass(frozen=True, slots=True)
class Summary:
    start: date
    end: date  # inclusive
    checkins: list[CheckIn]
    per_station_day: dict[tuple[str, str], int] = field(default_factory=dict)
    per_member: list[tuple[str, str, str, int, int]] = field(default_factory=list)  # hash, name, role, n, stations
    visited: list[str] = field(default_factory=list)
    unvisited: list[str] = field(default_factory=list)

    @property
    def days(self) -> list[str]:
        n = (self.end - self.start).days + 1
        return [(self.start + timedelta(days=i)).isoformat() for i in range(n)]

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "checkins": [c.as_json() for c in self.checkins],
            "per_station_day": [
                {"station": st, "day": day, "count": n} for (st, day), n in sorted(self.per_station_day.items())
            ],
            "per_member": [
                {"member": h[:12], "display_name": name, "role": role, "count": n, "stations": k}
                for h, name, role, n, k in self.per_member
            ],
            "unvisited": self.unvisited,
        }


def summary(db: Db, start: date, end: date, *, stations: list[str]) -> Summary:
    """Check-ins of the days start..end (the hub's local days) at `stations` (those one may see)."""
    allowed = set(stations)
    rows = db.rows(
        "SELECT station, seq, at, day, id_hash, display_name, role, method FROM patrol_checkins "
        "WHERE day >= ? AND day <= ? ORDER BY at DESC LIMIT 5000",
        (start.isoformat(), end.isoformat()),
    )
    checkins = [CheckIn(r[0], int(r[1]), float(r[2]), *r[3:]) for r in rows if r[0] in allowed]
    per_station_day: dict[tuple[str, str], int] = {}
    people: dict[str, tuple[str, str, int, set[str]]] = {}
    for c in checkins:
        per_station_day[(c.station, c.day)] = per_station_day.get((c.station, c.day), 0) + 1
        _, _, n, where = people.get(c.id_hash, (c.display_name, c.role, 0, set()))
        people[c.id_hash] = (c.display_name, c.role, n + 1, where | {c.station})
    per_member = sorted(
        ((h, name, role, n, len(where)) for h, (name, role, n, where) in people.items()), key=lambda m: (-m[3], m[1])
    )
    visited = sorted({c.station for c in checkins})
    return Summary(
        start,
        end,
        checkins,
        per_station_day,
        per_member,
        visited,
        sorted(allowed - set(visited)),
    )
