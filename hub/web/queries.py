"""What the console reads: stations from the hub's `stations` table, incidents rebuilt from `alarm.*` events.

Every incident event (``alarm.raised`` ... ``alarm.escalated``) carries the whole incident after the change,
so the console keeps the latest revision of each in its own table (`console_incidents`, keyed by station
and incident id, guarded by ``rev``: replaying events is harmless). The feed fills it; pages read it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Final

from hub.migrations import Part
from hub.web import response_times
from hub.web.db import Db

__all__ = [
    "INCIDENT_TYPES",
    "PART",
    "IncidentView",
    "StationView",
    "incident",
    "incidents",
    "mark_seen",
    "station_state",
    "stations",
    "upsert_incident",
]

INCIDENT_TYPES: Final = frozenset(
    {
        "alarm.raised",
        "alarm.merged",
        "alarm.acknowledged",
        "alarm.dispatched",
        "alarm.on_scene",
        "alarm.closed",
        "alarm.restored",
        "alarm.escalated",
    }
)
STATES: Final = ("online", "silent", "offline")
_URGENCY: Final = {"raised": 0, "acknowledged": 1, "dispatched": 2, "on_scene": 3, "closed": 9}

# Version 1: the tables as they shipped before versions were recorded. Never edit a shipped version:
# a change is a new entry at the end of PART (hub/migrations.py).
_V1: Final = """
CREATE TABLE IF NOT EXISTS console_incidents (
    station TEXT NOT NULL, incident_id TEXT NOT NULL, rev INTEGER NOT NULL, state TEXT NOT NULL,
    raised_at DOUBLE PRECISION NOT NULL, updated DOUBLE PRECISION NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (station, incident_id)
);
CREATE INDEX IF NOT EXISTS console_incidents_state ON console_incidents (state, raised_at);
CREATE TABLE IF NOT EXISTS console_seen (
    station TEXT NOT NULL, incident_id TEXT NOT NULL, escalations INTEGER NOT NULL, by_name TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL, PRIMARY KEY (station, incident_id)
);
CREATE TABLE IF NOT EXISTS console_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS console_events_received ON events (received_at)
"""
PART: Final = Part("incidents", (_V1,))


@dataclass(frozen=True, slots=True)
class StationView:
    station: str
    name: str
    district: str
    state: str  # online | silent | offline
    last_heard: float
    link: str
    outbox_depth: int | None
    faults: list[str]
    lat: float | None = None
    lon: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "station": self.station,
            "name": self.name,
            "district": self.district,
            "state": self.state,
            "last_heard": _iso(self.last_heard),
            "link": self.link,
            "outbox_depth": self.outbox_depth,
            "faults": self.faults,
            "position": None if self.lat is None else [self.lat, self.lon],
        }


@dataclass(frozen=True, slots=True)
class TargetView:
    name: str  # respond | arrive | resolve
    due: float
    met_at: float | None
    missed: bool


@dataclass(frozen=True, slots=True)
class IncidentView:
    station: str
    station_name: str
    district: str
    incident: dict[str, Any]
    seen_escalations: int | None  # None: nobody at central has marked it seen
    targets: list[TargetView] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.incident["id"])

    @property
    def unseen(self) -> bool:
        """New, or a target was missed since it was marked seen: the cue stays until someone marks it."""
        if self.incident["state"] == "closed":
            return False
        return self.seen_escalations is None or self.seen_escalations < int(self.incident.get("escalations", 0))

    def as_json(self) -> dict[str, Any]:
        return {
            "station": self.station,
            "district": self.district,
            "id": self.id,
            "state": self.incident["state"],
            "kind": self.incident["kind"],
            "unseen": self.unseen,
            "raised_at": _iso(self.incident["raised_at"]),
            "missed": self.incident.get("missed", []),
            "incident": self.incident,
        }


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) if t else ""


def station_state(stored: str, last_seen: float, now: float, silent_s: float) -> str:
    if stored == "offline":
        return "offline"
    return "online" if now - last_seen <= silent_s else "silent"


def stations(db: Db, *, silent_s: float, now: float | None = None) -> list[StationView]:
    t = time.time() if now is None else now
    out = []
    for st, stored, last_seen, tele in db.rows(
        "SELECT station, state, last_seen, telemetry FROM stations ORDER BY station"
    ):
        data: dict[str, Any] = (json.loads(tele) if isinstance(tele, str) else tele) if tele else {}
        place = data.get("place") or {}
        outbox = data.get("outbox") or {}
        out.append(
            StationView(
                station=st,
                name=str(place.get("name") or ""),
                district=str(place.get("district") or ""),
                state=station_state(stored, last_seen, t, silent_s),
                last_heard=float(last_seen),
                link=str((data.get("link") or {}).get("state", "")),
                outbox_depth=outbox.get("depth"),
                faults=list(data.get("faults") or []),
                lat=place.get("lat"),
                lon=place.get("lon"),
            )
        )
    return out


def upsert_incident(db: Db, station: str, incident: dict[str, Any], received_at: float) -> None:
    """Keep the incident's latest revision, its narrow row and its station's month figures (one transaction)."""
    with db.transaction():
        _upsert_body(db, station, incident, received_at)
        response_times.record(db, station, incident)  # the narrow row the statistics read


def _upsert_body(db: Db, station: str, incident: dict[str, Any], received_at: float) -> None:
    db.run(
        "INSERT INTO console_incidents VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (station, incident_id) DO UPDATE "
        "SET rev=excluded.rev, state=excluded.state, updated=excluded.updated, body=excluded.body "
        "WHERE excluded.rev > console_incidents.rev",
        (
            station,
            incident["id"],
            int(incident.get("rev", 1)),
            incident["state"],
            float(incident["raised_at"]),
            received_at,
            json.dumps(incident, ensure_ascii=False),
        ),
    )


def _targets(inc: dict[str, Any], now: float) -> list[TargetView]:
    deadlines = inc.get("deadlines") or {}
    closed = inc.get("closed_at")
    met = {"respond": inc.get("dispatched_at") or closed, "arrive": inc.get("on_scene_at") or closed, "resolve": closed}
    out = []
    for name in ("respond", "arrive", "resolve"):
        due = float(deadlines.get(name, 0.0))
        done = met[name]
        out.append(TargetView(name, due, done, (done or now) > due))
    return out


def _view(row: tuple[Any, ...], places: dict[str, StationView], now: float) -> IncidentView:
    station, body, seen = row
    inc = json.loads(body)
    place = places.get(station)
    return IncidentView(
        station, place.name if place else "", place.district if place else "", inc, seen, _targets(inc, now)
    )


_SELECT = (
    "SELECT i.station, i.body, s.escalations FROM console_incidents i LEFT JOIN console_seen s "
    "ON s.station = i.station AND s.incident_id = i.incident_id"
)


def incidents(
    db: Db, *, places: dict[str, StationView], open_only: bool = True, limit: int = 500, now: float | None = None
) -> list[IncidentView]:
    """Open ones (or all, newest first): unseen first, then by state (raised is the most urgent), then
    by missed targets, then newest."""
    t = time.time() if now is None else now
    where = " WHERE i.state <> 'closed'" if open_only else ""
    rows = db.rows(f"{_SELECT}{where} ORDER BY i.raised_at DESC LIMIT ?", (limit,))
    views = [_view(r, places, t) for r in rows]
    if open_only:
        views.sort(
            key=lambda v: (
                not v.unseen,
                _URGENCY.get(v.incident["state"], 5),
                -len(v.incident.get("missed", [])),
                -float(v.incident["raised_at"]),
            )
        )
    return views


def incident(db: Db, station: str, incident_id: str, *, places: dict[str, StationView]) -> IncidentView | None:
    row = db.one(f"{_SELECT} WHERE i.station=? AND i.incident_id=?", (station, incident_id))
    return None if row is None else _view(row, places, time.time())


def mark_seen(db: Db, view: IncidentView, by: str) -> None:
    db.run(
        "INSERT INTO console_seen VALUES (?, ?, ?, ?, ?) ON CONFLICT (station, incident_id) DO UPDATE SET "
        "escalations=excluded.escalations, by_name=excluded.by_name, at=excluded.at",
        (view.station, view.id, int(view.incident.get("escalations", 0)), by, time.time()),
    )
