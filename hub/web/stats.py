"""Response statistics: alarms by kind, the share within each 1-3-5 target and p50/p90 times, per station,
per district and city-wide, over a period split by day, week or month, with the week-on-week change.

Read from `console_response` (one narrow row per incident, `hub.web.response_times`). An incident counts in
the period its ``raised_at`` falls in, in the console's time zone. Definitions (docs/central-api.md):

* share within a target: of the incidents whose target is decided (met or late), the share met; an open
  incident whose deadline has not passed yet is not counted either way;
* times: seconds from raised to respond (dispatched), arrive (on scene) and close; p50 and p90 are the
  nearest-rank percentiles (the value at rank ceil(p/100 * n) of the n sorted times);
* week-on-week: the 7 days ending at ``to`` against the 7 days before them (alarms, and the share within
  the respond target).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Final, Literal

from hub.web.db import Db
from hub.web.response_times import TARGETS

__all__ = [
    "GROUPS",
    "KINDS",
    "MEASURES",
    "PERIODS",
    "Bucket",
    "Query",
    "Report",
    "Row",
    "StatsError",
    "Summary",
    "nearest_rank",
    "parse_query",
    "report",
]

GROUPS: Final = ("station", "district")
PERIODS: Final = ("day", "week", "month")
KINDS: Final = ("panic", "duress", "holdup", "emergency")
MEASURES: Final = ("respond", "arrive", "close")
MAX_DAYS: Final = 400
WEEK_S: Final = 7 * 86400.0

Group = Literal["station", "district"]
Period = Literal["day", "week", "month"]


class StatsError(ValueError):
    """A bad parameter (names which and why)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One incident, as the statistics see it."""

    station: str
    kind: str
    raised_at: float
    times: tuple[float | None, float | None, float | None]  # respond, arrive, close (seconds after raised)
    ok: tuple[int | None, int | None, int | None]  # respond, arrive, resolve: 1 met, 0 late, None pending


@dataclass(frozen=True, slots=True)
class Query:
    start: date
    end: date  # inclusive
    group: Group = "station"
    period: Period = "day"

    def bounds(self, tz: tzinfo) -> tuple[float, float]:
        return _midnight(self.start, tz), _midnight(self.end + timedelta(days=1), tz)

    def as_params(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "group": self.group, "period": self.period}


@dataclass(slots=True)
class Summary:
    key: str  # station id, district, or "" for everything one may see
    label: str = ""
    district: str = ""
    alarms: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    met: list[int] = field(default_factory=lambda: [0, 0, 0])  # per target
    decided: list[int] = field(default_factory=lambda: [0, 0, 0])
    times: list[list[float]] = field(default_factory=lambda: [[], [], []])  # per measure
    week: list[int] = field(default_factory=lambda: [0, 0])  # alarms: this week, the week before
    week_met: list[int] = field(default_factory=lambda: [0, 0])  # respond met: this week, the week before
    week_decided: list[int] = field(default_factory=lambda: [0, 0])

    def add(self, row: Row) -> None:
        self.alarms += 1
        self.by_kind[row.kind] = self.by_kind.get(row.kind, 0) + 1
        for i, ok in enumerate(row.ok):
            if ok is not None:
                self.decided[i] += 1
                self.met[i] += ok
        for i, t in enumerate(row.times):
            if t is not None:
                self.times[i].append(t)

    def add_week(self, row: Row, which: int) -> None:
        self.week[which] += 1
        if row.ok[0] is not None:
            self.week_decided[which] += 1
            self.week_met[which] += row.ok[0]

    def share(self, target: int) -> float | None:
        """The share (0..1) within target `target` (0 respond, 1 arrive, 2 resolve), or None if none decided."""
        return self.met[target] / self.decided[target] if self.decided[target] else None

    def pct(self, measure: int, p: float) -> float | None:
        return nearest_rank(self.times[measure], p)

    @property
    def wow_alarms(self) -> float | None:
        """Week-on-week change of the number of alarms, as a fraction (None: no alarms the week before)."""
        now, before = self.week
        return (now - before) / before if before else None

    @property
    def wow_respond(self) -> float | None:
        """Week-on-week change of the share within the respond target, in points of a fraction."""
        (m0, m1), (d0, d1) = self.week_met, self.week_decided
        return m0 / d0 - m1 / d1 if d0 and d1 else None

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.label,
            "district": self.district,
            "alarms": self.alarms,
            "by_kind": dict(sorted(self.by_kind.items())),
            "within": {
                name: {"met": self.met[i], "decided": self.decided[i], "share": _round(self.share(i), 4)}
                for i, name in enumerate(TARGETS)
            },
            "seconds": {
                name: {"p50": _round(self.pct(i, 50), 1), "p90": _round(self.pct(i, 90), 1), "n": len(self.times[i])}
                for i, name in enumerate(MEASURES)
            },
            "week_on_week": {
                "alarms": self.week[0],
                "alarms_week_before": self.week[1],
                "alarms_change": _round(self.wow_alarms, 4),
                "respond_share_change": _round(self.wow_respond, 4),
            },
        }


@dataclass(frozen=True, slots=True)
class Bucket:
    start: float
    label: str
    summary: Summary


@dataclass(frozen=True, slots=True)
class Report:
    query: Query
    total: Summary
    groups: list[Summary]
    series: list[Bucket]
    kinds: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.query.as_params(),
            "total": self.total.as_json(),
            "groups": [g.as_json() for g in self.groups],
            "series": [{"start": b.label, **b.summary.as_json()} for b in self.series],
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def nearest_rank(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _midnight(day: date, tz: tzinfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def parse_query(params: dict[str, str], *, today: date) -> Query:
    """`from`, `to` (YYYY-MM-DD, both included; default: the 28 days up to today), `group`, `period`."""

    def day(name: str, default: date) -> date:
        raw = params.get(name, "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise StatsError(f"{name}={raw[:40]!r}: expected a date YYYY-MM-DD") from None

    end = day("to", today)
    start = day("from", end - timedelta(days=27))
    if start > end:
        raise StatsError("from is after to")
    if (end - start).days >= MAX_DAYS:
        raise StatsError(f"at most {MAX_DAYS} days at once")
    group = params.get("group", "station") or "station"
    period = params.get("period", "day") or "day"
    if group not in GROUPS:
        raise StatsError(f"group={group[:40]!r}: one of {', '.join(GROUPS)}")
    if period not in PERIODS:
        raise StatsError(f"period={period[:40]!r}: one of {', '.join(PERIODS)}")
    return Query(start, end, group, period)  # type: ignore[arg-type]  # checked against GROUPS/PERIODS above


def _bucket_starts(q: Query, tz: tzinfo) -> list[tuple[float, str]]:
    """The start of each day, week (Monday) or month that overlaps the query, with its label."""
    out: list[tuple[float, str]] = []
    if q.period == "day":
        d = q.start
        while d <= q.end:
            out.append((_midnight(d, tz), d.isoformat()))
            d += timedelta(days=1)
    elif q.period == "week":
        d = q.start - timedelta(days=q.start.weekday())
        while d <= q.end:
            iso = d.isocalendar()
            out.append((_midnight(d, tz), f"{iso.year}-W{iso.week:02d}"))
            d += timedelta(days=7)
    else:
        d = q.start.replace(day=1)
        while d <= q.end:
            out.append((_midnight(d, tz), f"{d.year}-{d.month:02d}"))
            d = (d + timedelta(days=32)).replace(day=1)
    return out


def fetch(db: Db, start: float, end: float) -> Iterable[Row]:
    for st, kind, raised, r_s, a_s, c_s, r_ok, a_ok, c_ok in db.rows(
        "SELECT station, kind, raised_at, respond_s, arrive_s, close_s, respond_ok, arrive_ok, resolve_ok "
        "FROM console_response WHERE raised_at >= ? AND raised_at < ?",
        (start, end),
    ):
        yield Row(st, kind, float(raised), (r_s, a_s, c_s), (r_ok, a_ok, c_ok))


def report(
    db: Db,
    q: Query,
    *,
    tz: tzinfo,
    districts: dict[str, str],
    names: dict[str, str],
    sees: Callable[[str], bool],
) -> Report:
    """`districts` and `names`: station -> its district and name (the stations' telemetry); `sees(district)`:
    the asker's rights (a district officer's statistics are their district's)."""
    start, end = q.bounds(tz)
    week_from = min(start, end - 2 * WEEK_S)
    starts = _bucket_starts(q, tz)
    edges = [s for s, _ in starts]
    total = Summary("")
    groups: dict[str, Summary] = {}
    series = [Summary(label) for _, label in starts]
    for row in fetch(db, week_from, end):
        district = districts.get(row.station, "")
        if not sees(district):
            continue
        key = row.station if q.group == "station" else district
        g = groups.get(key)
        if g is None:
            label = names.get(key, "") if q.group == "station" else key
            g = groups[key] = Summary(key, label, district if q.group == "station" else key)
        if row.raised_at >= end - 2 * WEEK_S:
            which = 0 if row.raised_at >= end - WEEK_S else 1
            g.add_week(row, which)
            total.add_week(row, which)
        if row.raised_at < start:
            continue  # only in the week before, for the week-on-week change
        g.add(row)
        total.add(row)
        series[bisect.bisect_right(edges, row.raised_at) - 1].add(row)
    shown = sorted((g for g in groups.values() if g.alarms or g.week[0] or g.week[1]), key=lambda g: (-g.alarms, g.key))
    kinds = [k for k in KINDS if total.by_kind.get(k)] + sorted(k for k in total.by_kind if k not in KINDS)
    return Report(q, total, shown, [Bucket(s, label, sm) for (s, label), sm in zip(starts, series)], kinds)
