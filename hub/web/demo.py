"""Demo and screenshot data: stations and incidents stored as a station would have sent them.

Used by `scripts/screenshots_central.py` and the console tests; never by the running hub.
"""

from __future__ import annotations

import json
import time
from typing import Any

from edge.wire import messages as wire
from hub.store import open_store
from hub.web.db import Db

__all__ = ["incident_dict", "seed_station", "store_change", "store_event"]


def incident_dict(iid: str, now: float, *, site: str, site_en: str, account: str = "9999") -> dict[str, Any]:
    return {
        "id": iid,
        "state": "raised",
        "kind": "panic",
        "source": {
            "kind": "dc09",
            "site": site,
            "site_en": site_en,
            "point": "正门一键报警",
            "point_en": "Main gate button",
            "account": account,
            "zone": 1,
        },
        "raised_at": now,
        "presses": 1,
        "restored": False,
        "unit": "",
        "targets": {"respond_s": 60.0, "arrive_s": 180.0, "resolve_s": 300.0},
        "deadlines": {"respond": now + 60, "arrive": now + 180, "resolve": now + 300},
        "missed": [],
        "escalations": 0,
        "rev": 1,
        "timeline": [{"at": now, "what": "raised", "by": "", "detail": ""}],
    }


def seed_station(
    db_url: str,
    station: str,
    *,
    name: str,
    district: str,
    incident: dict[str, Any] | None,
    position: tuple[float, float] = (39.9, 116.4),
    heard_ago: float = 0.0,
    state: str = "online",
    faults: tuple[str, ...] = (),
    depth: int = 0,
) -> None:
    """A station as the hub would have stored it: its status, a telemetry report with its place, one alarm
    (``heard_ago`` backdates when it was last heard, to show a silent station)."""
    store = open_store(db_url)
    try:
        now = time.time() - heard_ago
        store.update_status(station, wire.Status(state=state, counter=1, ts=wire.utc_now_iso(now)))
        ts = wire.utc_now_iso(now)
        tele = {
            "v": 1,
            "ts": ts,
            "outbox": {
                "depth": depth,
                "by_priority": {},
                "bytes": 0,
                "oldest_age_s": 0.0,
                "accepted_total": 1,
                "rejected_total": 0,
                "confirmed_total": 1,
            },
            "link": {
                "state": "connected",
                "connects": 1,
                "in_flight": 0,
                "published_total": 1,
                "resent_total": 0,
                "publish_failures": 0,
            },
            "host": {"load1": 0.1, "mem_available_mb": 900.0, "disk_free_mb": 9000.0, "uptime_s": 60.0},
            "faults": list(faults),
            "devices": {},
            "cameras": {},
            "place": {"name": name, "district": district, "lat": position[0], "lon": position[1]},
        }
        store.update_telemetry(station, ts, json.dumps(tele, ensure_ascii=False).encode())
        if incident is not None:
            ev = wire.Event(
                id=wire.new_event_id(),
                station=station,
                seq=1,
                ts=wire.utc_now_iso(now),
                type="alarm.raised",
                priority=wire.Priority.ALARM,
                data={"incident_id": incident["id"], "change": "raised", "at": now, "incident": incident},
            )
            store.store_events([ev], [wire.encode(ev)])
    finally:
        store.close()
    if heard_ago:
        db = Db(db_url)
        try:
            db.run("UPDATE stations SET last_seen=? WHERE station=?", (now, station))
        finally:
            db.close()


def store_change(
    db_url: str,
    station: str,
    seq: int,
    incident: dict[str, Any],
    change: str,
    *,
    by: str = "",
    target: str | None = None,
) -> None:
    """One more incident event (the whole incident after the change), as the station's outbox sends it."""
    store = open_store(db_url)
    try:
        ev = wire.Event(
            id=wire.new_event_id(),
            station=station,
            seq=seq,
            ts=wire.utc_now_iso(),
            type=f"alarm.{change}",
            priority=wire.Priority.ALARM,
            data={
                "incident_id": incident["id"],
                "change": change,
                "at": time.time(),
                "by": by,
                "target": target,
                "incident": incident,
            },
        )
        store.store_events([ev], [wire.encode(ev)])
    finally:
        store.close()


def store_event(
    db_url: str, station: str, seq: int, etype: str, data: dict[str, Any], *, priority: int, at: float | None = None
) -> None:
    """One event of any type stored as the station's outbox sends it (e.g. a `vision.plate_hit`)."""
    ev = wire.Event(
        id=wire.new_event_id(),
        station=station,
        seq=seq,
        ts=wire.utc_now_iso(at),
        type=etype,
        priority=wire.Priority(priority),
        data=data,
    )
    store = open_store(db_url)
    try:
        store.store_events([ev], [wire.encode(ev)])
    finally:
        store.close()
