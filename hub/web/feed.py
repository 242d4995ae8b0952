"""The live feed: one poller per hub process turns stored events into named SSE events for every open tab.

The hub's ingest commits events; the poller reads `events` by `received_at` every ``poll_s`` (with a
look-back window, so a batch committed late by a second hub on the same PostgreSQL is not missed, and a
set of recent keys so nothing is sent twice), keeps `console_incidents` up to date and fans each change
out to subscribers that may see the station: `alarm` (an incident changed), `order` (a work order changed),
`checkin` (a patrol check-in was stored; the page projects it itself, patrol.sync). Station states are
compared every ``station_poll_s`` (`station`).

Event ids are cursors, ``RECEIVED~STATION~SEQ``: a browser that reconnects sends the last one as
`Last-Event-ID` and gets what it missed (`replay`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.web import orders, patrol, queries
from hub.web.accounts import Principal
from hub.web.db import Db, DbPool, in_db_thread

__all__ = ["Feed", "FeedEvent", "parse_cursor"]

log = logging.getLogger(__name__)
_QUEUE = 1000


@dataclass(frozen=True, slots=True)
class FeedEvent:
    name: str  # alarm | station | order | checkin
    station: str
    data: dict[str, Any]
    id: str | None = None

    def sse(self) -> str:
        head = f"id: {self.id}\n" if self.id else ""
        return f"{head}event: {self.name}\ndata: {json.dumps(self.data, ensure_ascii=False)}\n\n"


def cursor(received_at: float, station: str, seq: int) -> str:
    return f"{received_at!r}~{station}~{seq}"


def parse_cursor(value: str) -> tuple[float, str, int] | None:
    try:
        ts, station, seq = value.split("~")
        return float(ts), station, int(seq)
    except ValueError:
        return None


_SELECT_ALARMS = (
    "SELECT received_at, station, seq, type, body FROM events WHERE received_at > ? "
    "AND ((type >= 'alarm.' AND type < 'alarm/') OR type IN ('kiosk.report', 'workorder.change', 'patrol.checkin')) "
    "ORDER BY received_at, station, seq LIMIT 2000"
)


def _alarm_event(row: tuple[Any, ...]) -> tuple[FeedEvent, dict[str, Any]] | None:
    received_at, station, seq, etype, body = row
    if etype not in queries.INCIDENT_TYPES:
        return None
    data = (json.loads(body) if isinstance(body, str) else body).get("data") or {}
    inc = data.get("incident")
    if not isinstance(inc, dict):
        return None
    payload = {
        "station": station,
        "type": etype,
        "change": data.get("change", ""),
        "incident_id": inc["id"],
        "state": inc["state"],
        "kind": inc.get("kind", ""),
        "target": data.get("target"),
    }
    return FeedEvent("alarm", station, payload, cursor(received_at, station, seq)), inc


def _order_events(db: Db, row: tuple[Any, ...]) -> list[FeedEvent]:
    """Project one `kiosk.report` / `workorder.change` (orders.py); an `order` stream event per change."""
    _, station, seq, etype, body = row
    try:
        changed = orders.project_event(
            db, station, int(seq), etype, json.loads(body) if isinstance(body, str) else body
        )
    except (ValueError, TypeError, KeyError, AttributeError):  # a bad event never stops the feed
        log.warning("console feed: %s/%s (%s) could not be projected", station, seq, etype, exc_info=True)
        return []
    return [
        FeedEvent("order", station, {"ticket": a.order.ticket, "state": a.order.state, "rev": a.order.rev})
        for a in changed
    ]


def _checkin_event(row: tuple[Any, ...]) -> FeedEvent:
    """A `checkin` stream event: which station, nothing about who (a tab fetches what it may see)."""
    _, station, seq, _, _ = row
    return FeedEvent("checkin", station, {"station": station, "seq": int(seq)})


class Feed:
    def __init__(
        self,
        pool: DbPool,
        *,
        silent_s: float,
        poll_s: float = 0.2,
        station_poll_s: float = 1.0,
        lookback_s: float = 5.0,
    ) -> None:
        self.pool = pool
        self.silent_s = silent_s
        self.poll_s = poll_s
        self.station_poll_s = station_poll_s
        self.lookback_s = lookback_s
        self.districts: dict[str, str] = {}
        self.places: dict[str, queries.StationView] = {}
        self._subs: dict[asyncio.Queue[FeedEvent | None], Principal] = {}
        self._recent: dict[tuple[str, int], float] = {}
        self._high = 0.0
        self._states: dict[str, str] = {}
        self.polls = 0

    # ---- subscribers -----------------------------------------------------------------------------
    def subscribe(self, who: Principal) -> asyncio.Queue[FeedEvent | None]:
        q: asyncio.Queue[FeedEvent | None] = asyncio.Queue(maxsize=_QUEUE)
        self._subs[q] = who
        return q

    def unsubscribe(self, q: asyncio.Queue[FeedEvent | None]) -> None:
        self._subs.pop(q, None)

    def close_all(self) -> None:
        """End every open stream (the server is stopping); call in the loop's thread."""
        for q in list(self._subs):
            self._subs.pop(q, None)
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(None)

    def visible(self, who: Principal) -> Callable[[str], bool]:
        return lambda station: who.sees(self.districts.get(station, ""))

    def _publish(self, event: FeedEvent) -> None:
        district = self.districts.get(event.station, "")
        for q, who in list(self._subs.items()):
            if not who.sees(district):
                continue
            try:
                q.put_nowait(event)
            except asyncio.QueueFull:  # a tab that stopped reading: end its stream, it resumes by id
                self._subs.pop(q, None)
                with contextlib.suppress(asyncio.QueueFull):
                    q.get_nowait()
                    q.put_nowait(None)

    # ---- polling ---------------------------------------------------------------------------------
    def start_cursor(self) -> None:
        db = self.pool.get()
        row = db.one("SELECT value FROM console_meta WHERE name='cursor'")
        self._high = float(row[0]) if row else 0.0
        self._refresh_stations(publish=False)
        orders.backfill(db)
        self._poll_alarms(publish=False)

    def _poll_alarms(self, *, publish: bool) -> list[FeedEvent]:
        db = self.pool.get()
        since = max(0.0, self._high - self.lookback_s)
        out = []
        high = self._high
        for row in db.rows(_SELECT_ALARMS, (since,)):
            key = (row[1], int(row[2]))
            if key in self._recent:
                continue
            self._recent[key] = row[0]
            high = max(high, float(row[0]))
            if row[3] in orders.ORDER_TYPES:
                out += _order_events(db, row)
                continue
            if row[3] == patrol.CHECKIN_TYPE:
                out.append(_checkin_event(row))
                continue
            got = _alarm_event(row)
            if got is None:
                continue
            event, inc = got
            queries.upsert_incident(db, event.station, inc, float(row[0]))
            out.append(event)
        if high > self._high:
            self._high = high
            db.run(
                "INSERT INTO console_meta VALUES ('cursor', ?) ON CONFLICT (name) DO UPDATE SET value=excluded.value",
                (repr(high),),
            )
        floor = self._high - self.lookback_s
        self._recent = {k: v for k, v in self._recent.items() if v >= floor}
        return out if publish else []

    def _refresh_stations(self, *, publish: bool) -> list[FeedEvent]:
        views = queries.stations(self.pool.get(), silent_s=self.silent_s)
        self.places = {v.station: v for v in views}
        self.districts = {v.station: v.district for v in views}
        out = []
        for v in views:
            before = self._states.get(v.station)
            if before != v.state:
                self._states[v.station] = v.state
                if publish:
                    out.append(
                        FeedEvent("station", v.station, {"station": v.station, "state": v.state, "previous": before})
                    )
        return out

    def replay(self, last_id: str, who: Principal) -> list[FeedEvent]:
        """What a reconnecting tab missed since the event it names (at most 2,000 events)."""
        after = parse_cursor(last_id)
        if after is None:
            return []
        rows = self.pool.get().rows(_SELECT_ALARMS, (after[0] - 1e-6,))
        sees = self.visible(who)
        out = []
        for row in rows:
            if (float(row[0]), row[1], int(row[2])) <= after or not sees(row[1]):
                continue
            got = _alarm_event(row)
            if got is not None:
                out.append(got[0])
        return out

    async def run(self) -> None:
        started = False
        failing = False
        next_stations = 0.0
        while True:
            events: list[FeedEvent] = []
            try:
                if not started:
                    await in_db_thread(self.start_cursor)
                    started = True
                events = await in_db_thread(lambda: self._poll_alarms(publish=True))
                now = time.monotonic()
                if now >= next_stations:
                    next_stations = now + self.station_poll_s
                    events += await in_db_thread(lambda: self._refresh_stations(publish=True))
                if failing:
                    failing = False
                    log.warning("console feed: the database answers again")
            except Exception:  # the database restarting must not end the console: say so once, poll again
                if not failing:
                    failing = True
                    log.warning("console feed: reading the database failed; retrying", exc_info=True)
            self.polls += 1
            for event in events:
                self._publish(event)
            await asyncio.sleep(self.poll_s)
