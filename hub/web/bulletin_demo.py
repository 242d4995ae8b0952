"""Demo and test data for the weekly bulletin: reports and incidents stored as a station would have sent them.

Used by `scripts/screenshots_central.py` and the bulletin tests; never by the running hub.
"""

from __future__ import annotations

from typing import Any

from edge.wire import messages as wire
from hub.store import open_store

__all__ = ["incident_at", "report", "store_at"]


def store_at(db_url: str, station: str, items: list[tuple[int, str, float, dict[str, Any]]]) -> None:
    """Store events (seq, type, when the station accepted it, data) through the hub's store API."""
    store = open_store(db_url)
    try:
        events = [
            wire.Event(
                id=wire.new_event_id(at),
                station=station,
                seq=seq,
                ts=wire.utc_now_iso(at),
                type=etype,
                priority=wire.Priority.ALARM if etype.startswith("alarm.") else wire.Priority.INFO,
                data=data,
            )
            for seq, etype, at, data in items
        ]
        store.store_events(events, [wire.encode(e) for e in events])
    finally:
        store.close()


def incident_at(
    iid: str,
    raised_at: float,
    *,
    kind: str = "panic",
    dispatched: float | None = None,
    on_scene: float | None = None,
    closed: float | None = None,
    outcome: str | None = None,
) -> dict[str, Any]:
    """An incident as the alarm engine sends it, with its 1-3-5 deadlines and the times it reached."""
    state = "closed" if closed else "on_scene" if on_scene else "dispatched" if dispatched else "raised"
    return {
        "id": iid,
        "state": state,
        "kind": kind,
        "source": {"kind": "dc09", "site": "阳光小学", "site_en": "Sunshine Primary School", "account": "1234"},
        "raised_at": raised_at,
        "acked_at": dispatched,
        "dispatched_at": dispatched,
        "on_scene_at": on_scene,
        "closed_at": closed,
        "outcome": outcome,
        "targets": {"respond_s": 60.0, "arrive_s": 180.0, "resolve_s": 300.0},
        "deadlines": {"respond": raised_at + 60, "arrive": raised_at + 180, "resolve": raised_at + 300},
        "rev": 1 + sum(t is not None for t in (dispatched, on_scene, closed)),
        "timeline": [{"at": raised_at, "what": "raised"}],
    }


def report(category: str, service: str = "") -> dict[str, Any]:
    return {"request_id": wire.new_event_id(), "service": service or f"report_{category}", "category": category}
