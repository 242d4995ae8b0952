"""Where bulletins are made, edited and sent: stored rows in, `Bulletin`s and queued commands out.

An area is a district (from the `place` in each station's telemetry); a station without a district is an
area of its own, named by its id. A bulletin is generated afresh from the stored events whenever it is
shown or sent, so late events count; what a person edits (summary, tip) is kept per week and area in
`console_bulletins` and laid over it. Sending queues one signed `kiosk.bulletin` command per station of
the area (`hub.outbound`, superseding an unsent one of the same week); the hub service signs and
publishes it. The weekly schedule (`Schedule`) sends last week's bulletin of every area once, recorded in
`console_bulletin_runs` so that several hubs on one database send it once.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

import msgspec

from edge.wire.api.incidents import Incident
from edge.wire.bulletin import BULLETIN_COMMAND, Bulletin
from edge.wire.ids import utc_now_iso
from hub import outbound
from hub.bulletin import DEFAULT_TZ, ReportRow, Week, generate
from hub.migrations import Part
from hub.web.db import Db
from hub.web.queries import INCIDENT_TYPES

__all__ = ["PART", "BulletinDesk", "Schedule", "Sent", "desk_for"]

# Version 1: the tables as they shipped before versions were recorded. Never edit a shipped version:
# a change is a new entry at the end of PART (hub/migrations.py).
_V1: Final = """
CREATE TABLE IF NOT EXISTS console_bulletins (
    week TEXT NOT NULL, area TEXT NOT NULL, summary_zh TEXT NOT NULL, summary_en TEXT NOT NULL,
    tip_zh TEXT NOT NULL, tip_en TEXT NOT NULL, edited_by TEXT NOT NULL, edited_at DOUBLE PRECISION NOT NULL,
    pushed_by TEXT NOT NULL, pushed_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (week, area)
);
CREATE TABLE IF NOT EXISTS console_bulletin_runs (week TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL)
"""
PART: Final = Part("bulletins", (_V1,))
_WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Sent:
    """What a push queued: the area, its stations and the outbound row ids."""

    area: str
    stations: list[str]
    rows: list[int]


def _body(raw: Any) -> dict[str, Any]:
    data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    return data if isinstance(data, dict) else {}


def _iso(t: float) -> str:
    return utc_now_iso(t)


class BulletinDesk:
    def __init__(self, db: Db, *, tz: str = DEFAULT_TZ, clock: Callable[[], float] = time.time) -> None:
        ZoneInfo(tz)  # an unknown zone fails here, not at the first bulletin
        self.db = db
        self.tz = tz
        self.clock = clock

    # ---- reading -------------------------------------------------------------------------------
    def areas(self) -> dict[str, list[str]]:
        """Area -> its stations, from what every station last reported about its place."""
        out: dict[str, list[str]] = {}
        for station, tele in self.db.rows("SELECT station, telemetry FROM stations ORDER BY station"):
            place = _body(tele).get("place") if tele else None
            district = str(place.get("district") or "") if isinstance(place, dict) else ""
            out.setdefault(district or station, []).append(station)
        return out

    def _reports(self, stations: list[str], since: float) -> list[ReportRow]:
        inside = set(stations)
        rows = self.db.rows(
            "SELECT station, ts, body FROM events WHERE type='kiosk.report' AND ts >= ?", (_iso(since),)
        )
        out = []
        for station, ts, body in rows:
            if station not in inside:
                continue
            data = _body(body).get("data") or {}
            category = str(data.get("category") or data.get("service") or "")
            at = dt.datetime.fromisoformat(str(ts).replace("Z", "+00:00")).timestamp()
            out.append(ReportRow(station=station, at=at, category=category))
        return out

    def _incidents(self, stations: list[str], since: float) -> list[Incident]:
        """The latest revision of every incident whose events were accepted since `since`."""
        inside = set(stations)
        rows = self.db.rows(
            "SELECT station, type, body FROM events WHERE type >= 'alarm.' AND type < 'alarm/' AND ts >= ?",
            (_iso(since),),
        )
        latest: dict[tuple[str, str], Incident] = {}
        for station, etype, body in rows:
            if station not in inside or etype not in INCIDENT_TYPES:
                continue
            raw = (_body(body).get("data") or {}).get("incident")
            try:
                inc = msgspec.convert(raw, Incident)
            except msgspec.ValidationError:
                continue  # stored, but not an incident this hub can read: not counted
            key = (station, inc.id)
            held = latest.get(key)
            if held is None or inc.progress > held.progress:
                latest[key] = inc
        return list(latest.values())

    def build(self, week: str, area: str, stations: list[str] | None = None) -> Bulletin:
        """The bulletin as it stands now: generated from the stored events, with any edits laid over it."""
        members = stations if stations is not None else self.areas().get(area, [])
        since = Week.parse(week).shifted(-1).bounds(self.tz)[0]
        bulletin = generate(
            week,
            area,
            members,
            reports=self._reports(members, since) if members else [],
            incidents=self._incidents(members, since) if members else [],
            now=self.clock(),
            tz=self.tz,
        )
        row = self.db.one(
            "SELECT summary_zh, summary_en, tip_zh, tip_en, edited_at FROM console_bulletins WHERE week=? AND area=?",
            (bulletin.week, area),
        )
        if row is None or not row[4]:
            return bulletin
        return msgspec.structs.replace(
            bulletin, summary_zh=row[0], summary_en=row[1], tip_zh=row[2], tip_en=row[3], edited=True
        )

    def all(self, week: str) -> list[Bulletin]:
        return [self.build(week, area, members) for area, members in sorted(self.areas().items())]

    def record(self, week: str, area: str) -> dict[str, Any]:
        """Who edited and who sent an area's bulletin of a week, and when (0: never)."""
        row = self.db.one(
            "SELECT edited_by, edited_at, pushed_by, pushed_at FROM console_bulletins WHERE week=? AND area=?",
            (week, area),
        )
        keys = ("edited_by", "edited_at", "pushed_by", "pushed_at")
        return dict(zip(keys, row, strict=True)) if row else dict(zip(keys, ("", 0.0, "", 0.0), strict=True))

    # ---- writing -------------------------------------------------------------------------------
    def _ensure_row(self, week: str, area: str) -> None:
        self.db.run(
            "INSERT INTO console_bulletins VALUES (?, ?, '', '', '', '', '', 0, '', 0) "
            "ON CONFLICT (week, area) DO NOTHING",
            (week, area),
        )

    def edit(self, week: str, area: str, *, summary: tuple[str, str], tip: tuple[str, str], by: str) -> Bulletin:
        """Keep a person's summary and tip (each checked against the wire's bounds); returns the result."""
        current = self.build(week, area)
        edited = msgspec.structs.replace(
            current, summary_zh=summary[0], summary_en=summary[1], tip_zh=tip[0], tip_en=tip[1], edited=True
        )
        try:
            msgspec.convert(msgspec.to_builtins(edited), Bulletin)
        except msgspec.ValidationError as exc:
            raise ValueError(f"the edited text is too long: {exc}") from None
        with self.db.transaction():
            self._ensure_row(current.week, area)
            self.db.run(
                "UPDATE console_bulletins SET summary_zh=?, summary_en=?, tip_zh=?, tip_en=?, edited_by=?, "
                "edited_at=? WHERE week=? AND area=?",
                (*summary, *tip, by, self.clock(), current.week, area),
            )
        return edited

    def push(self, week: str, area: str, *, by: str) -> Sent:
        """Queue the bulletin for every station of the area (signed and published by the hub service)."""
        members = self.areas().get(area, [])
        bulletin = self.build(week, area, members)
        args = msgspec.to_builtins(bulletin)
        ids = [
            outbound.enqueue(
                self.db,
                target=station,
                name=BULLETIN_COMMAND,
                args=args,
                retain=True,
                supersede=f"bulletin:{bulletin.week}",
            )
            for station in members
        ]
        self._ensure_row(bulletin.week, area)
        self.db.run(
            "UPDATE console_bulletins SET pushed_by=?, pushed_at=? WHERE week=? AND area=?",
            (by, self.clock(), bulletin.week, area),
        )
        return Sent(area=area, stations=members, rows=ids)

    def run_schedule(self, schedule: Schedule) -> str | None:
        """Send last week's bulletin of every area if the scheduled moment passed and nobody sent it yet;
        returns the week sent."""
        week = schedule.due(self.clock())
        if (
            self.db.run(
                "INSERT INTO console_bulletin_runs VALUES (?, ?) ON CONFLICT (week) DO NOTHING", (week, self.clock())
            )
            != 1
        ):
            return None
        for area in sorted(self.areas()):
            self.push(week, area, by="schedule")
        return week


def desk_for(db: Db, tz: str | None = None) -> BulletinDesk:
    """A desk in the time zone given, else the one the running hub recorded (`--bulletin-tz`), else
    Asia/Shanghai."""
    if tz is None:
        row = db.one("SELECT value FROM console_meta WHERE name='bulletin_tz'")
        tz = str(row[0]) if row else DEFAULT_TZ
    return BulletinDesk(db, tz=tz)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A weekly moment in local time ("mon 08:00") at which last week's bulletins go out."""

    weekday: int  # 0 = Monday
    hour: int
    minute: int
    tz: str = DEFAULT_TZ

    @classmethod
    def parse(cls, text: str, tz: str = DEFAULT_TZ) -> Schedule:
        try:
            day, clock = text.lower().split()
            hour, minute = (int(x) for x in clock.split(":"))
            weekday = _WEEKDAYS.index(day[:3])
            dt.time(hour, minute)
            ZoneInfo(tz)
        except (ValueError, LookupError) as exc:
            raise ValueError(
                f"a schedule looks like 'mon 08:00' (and a known time zone), got {text!r}: {exc}"
            ) from None
        return cls(weekday, hour, minute, tz)

    def last_moment(self, now: float) -> float:
        """The latest scheduled moment at or before `now`."""
        zone = ZoneInfo(self.tz)
        local = dt.datetime.fromtimestamp(now, zone)
        day = local.date() - dt.timedelta(days=(local.weekday() - self.weekday) % 7)
        moment = dt.datetime.combine(day, dt.time(self.hour, self.minute), zone)
        if moment.timestamp() > now:
            moment = dt.datetime.combine(day - dt.timedelta(weeks=1), dt.time(self.hour, self.minute), zone)
        return moment.timestamp()

    def due(self, now: float) -> str:
        """The week whose bulletin the latest moment sends: the week before the one it falls in."""
        return str(Week.of(self.last_moment(now), self.tz).shifted(-1))
