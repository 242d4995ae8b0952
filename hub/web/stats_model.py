"""The response statistics' values: the query, a group's or a period's figures (`Summary`) and the report,
as the page, the CSV export and `GET /api/v1/stats/response` show them (computed by `hub.web.stats`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from typing import Any, Final, Literal

from hub.web.response_months import KINDS, midnight
from hub.web.response_times import TARGETS

__all__ = [
    "GROUPS",
    "KINDS",
    "MAX_DAYS",
    "MEASURES",
    "PERIODS",
    "TARGETS",
    "Bucket",
    "Query",
    "Report",
    "StatsError",
    "Summary",
    "nearest_rank",
    "parse_query",
]

GROUPS: Final = ("station", "district")
PERIODS: Final = ("day", "week", "month")
MEASURES: Final = ("respond", "arrive", "close")
MAX_DAYS: Final = 400
WEEK_S: Final = 7 * 86400.0

Group = Literal["station", "district"]
Period = Literal["day", "week", "month"]


class StatsError(ValueError):
    """A bad parameter (names which and why)."""


@dataclass(frozen=True, slots=True)
class Query:
    start: date
    end: date  # inclusive
    group: Group = "station"
    period: Period = "day"

    def bounds(self, tz: tzinfo) -> tuple[float, float]:
        return midnight(self.start, tz), midnight(self.end + timedelta(days=1), tz)

    def as_params(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "group": self.group, "period": self.period}


@dataclass(slots=True)
class Summary:
    key: str  # station id, district, a period's label, or "" for everything one may see
    label: str = ""
    district: str = ""
    alarms: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    met: list[int] = field(default_factory=lambda: [0, 0, 0])  # per target
    decided: list[int] = field(default_factory=lambda: [0, 0, 0])
    timed: list[int] = field(default_factory=lambda: [0, 0, 0])  # incidents with a time, per measure
    pcts: dict[tuple[int, int], float] = field(default_factory=dict)  # (measure, 50 | 90) -> seconds
    week: list[int] = field(default_factory=lambda: [0, 0])  # alarms: this week, the week before
    week_met: list[int] = field(default_factory=lambda: [0, 0])  # respond met: this week, the week before
    week_decided: list[int] = field(default_factory=lambda: [0, 0])

    def add(self, kind: str, count: int, figures: Sequence[int | None]) -> None:
        """`figures`: met and decided of each target in turn (as the counting query returns them)."""
        self.alarms += count
        self.by_kind[kind] = self.by_kind.get(kind, 0) + count
        self.add_figures(figures)

    def add_cells(self, alarms: int, counts: Sequence[Any]) -> None:
        """Sums of month cells: `counts` holds the alarms of each of `KINDS` in turn (other kinds are added to
        `by_kind` apart), then met and decided of each target in turn (and anything after, ignored)."""
        self.alarms += alarms
        for kind, count in zip(KINDS, counts):
            if count:
                self.by_kind[kind] = self.by_kind.get(kind, 0) + int(count)
        self.add_figures(counts[len(KINDS) :])

    def add_figures(self, figures: Sequence[int | None]) -> None:
        for i in range(3):
            self.met[i] += int(figures[2 * i] or 0)
            self.decided[i] += int(figures[2 * i + 1] or 0)

    def share(self, target: int) -> float | None:
        """The share (0..1) within target `target` (0 respond, 1 arrive, 2 resolve), or None if none decided."""
        return self.met[target] / self.decided[target] if self.decided[target] else None

    def pct(self, measure: int, p: int) -> float | None:
        """The nearest-rank p-th percentile (50 or 90) of the seconds to respond, arrive or close."""
        return self.pcts.get((measure, p))

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
                name: {"p50": _round(self.pct(i, 50), 1), "p90": _round(self.pct(i, 90), 1), "n": self.timed[i]}
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
