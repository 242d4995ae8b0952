"""Demo and test data for the weekly bulletin: reports and incidents stored as a station would have sent them.

Used by `scripts/screenshots_central.py` and the bulletin tests; never by the running hub.
"""

from __future__ import annotations

from typing import Any

from edge.wire import messages as wire
from edge.wire.bulletin import Bulletin, CategoryCount, TargetShare
from hub.store import open_store

__all__ = ["incident_at", "report", "sample_bulletin", "store_at"]


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


def sample_bulletin(week: str = "2026-W49", *, area: str = "东城", stations: tuple[str, ...] = ("ST-K1",)) -> Bulletin:
    """A bulletin as central makes one (for the kiosk's screens, its screenshots and the kiosk's tests)."""
    return Bulletin(
        week=week,
        area=area,
        stations=list(stations),
        first_day="2026-11-30",
        last_day="2026-12-06",
        categories=[
            CategoryCount(
                kind="alarm", category="panic", zh="紧急求助报警", en="Panic alarms", this_week=2, last_week=1
            ),
            CategoryCount(
                kind="report", category="dispute", zh="纠纷求助", en="Dispute reports", this_week=3, last_week=5
            ),
            CategoryCount(
                kind="report", category="hazard", zh="安全隐患", en="Hazard reports", this_week=0, last_week=1
            ),
        ],
        incidents=2,
        targets=[
            TargetShare(name="respond", zh="1 分钟内响应", en="Responded within 1 min", met=2, counted=2),
            TargetShare(name="arrive", zh="3 分钟内到场", en="On scene within 3 min", met=1, counted=2),
            TargetShare(name="resolve", zh="5 分钟内处置", en="Resolved within 5 min", met=1, counted=2),
        ],
        summary_zh="本周本辖区共发生报警 2 起，较上周增加 1 起；群众报事 3 件，较上周减少 3 件。",
        summary_en="This week the area had 2 alarms, 1 more than last week, and residents filed 3 reports, 3 fewer.",
        tip_zh="电动车请在室外充电，不要推进楼道和家中。",
        tip_en="Charge e-bikes outdoors, never in stairwells or at home.",
        generated_at="2026-12-07T00:00:00.000Z",
    )
