"""Response statistics: alarms by kind, the share within each 1-3-5 target and p50/p90 times, per station,
per district and city-wide, over a period split by day, week or month, with the week-on-week change.

Counted in the database (SQLite or PostgreSQL, the same SQL) from `console_response` (one narrow row per
incident, `hub.web.response_times`, read from its covering index); only the times cross into Python, where
they are sorted for the percentiles. A query by month takes the months it covers whole from the stations'
month cells instead (`hub.web.response_months`: the same counts and the very same times, kept as incidents
change), and only the days before and after them from the rows: a year is a few thousand cells, not 200,000
rows. An incident counts in the period its ``raised_at`` falls in, in the console's time zone. Definitions
(docs/central-api.md):

* share within a target: of the incidents whose target is decided (met or late), the share met; an open
  incident whose deadline has not passed yet is not counted either way;
* times: seconds from raised to respond (dispatched), arrive (on scene) and close; p50 and p90 are the
  nearest-rank percentiles (the value at rank ceil(p/100 * n) of the n sorted times);
* week-on-week: the 7 days ending at ``to`` against the 7 days before them (alarms, and the share within
  the respond target).
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from datetime import date, timedelta, tzinfo
from typing import Any, Final

from hub.web import response_months
from hub.web.db import Db
from hub.web.response_months import KINDS, Times, midnight
from hub.web.response_times import TARGETS
from hub.web.stats_model import (
    GROUPS,
    MAX_DAYS,
    MEASURES,
    PERIODS,
    WEEK_S,
    Bucket,
    Query,
    Report,
    StatsError,
    Summary,
    nearest_rank,
    parse_query,
)

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
    "kth_of_sorted",
    "nearest_rank",
    "parse_query",
    "report",
]


def _bucket_starts(q: Query, tz: tzinfo) -> list[tuple[float, str]]:
    """The start of each day, week (Monday) or month that overlaps the query, with its label."""
    out: list[tuple[float, str]] = []
    if q.period == "day":
        d = q.start
        while d <= q.end:
            out.append((midnight(d, tz), d.isoformat()))
            d += timedelta(days=1)
    elif q.period == "week":
        d = q.start - timedelta(days=q.start.weekday())
        while d <= q.end:
            iso = d.isocalendar()
            out.append((midnight(d, tz), f"{iso.year}-W{iso.week:02d}"))
            d += timedelta(days=7)
    else:
        d = q.start.replace(day=1)
        while d <= q.end:
            out.append((midnight(d, tz), f"{d.year}-{d.month:02d}"))
            d = (d + timedelta(days=32)).replace(day=1)
    return out


_FROM = "FROM console_response r JOIN stats_scope s ON s.station = r.station WHERE r.raised_at >= ? AND r.raised_at < ?"
_COUNTS = (
    "SELECT {key}, r.kind, COUNT(*), SUM(r.respond_ok), COUNT(r.respond_ok), SUM(r.arrive_ok), COUNT(r.arrive_ok), "
    "SUM(r.resolve_ok), COUNT(r.resolve_ok) " + _FROM + " GROUP BY 1, 2"
)
_WEEKS = (
    "SELECT s.grp, CASE WHEN r.raised_at >= ? THEN 0 ELSE 1 END, COUNT(*), SUM(r.respond_ok), COUNT(r.respond_ok) "
    + _FROM
    + " GROUP BY 1, 2"
)
# The times themselves: percentiles need every value (sorted in Python: faster than a window function
# over a year of rows on either database).
_TIMES = (
    "SELECT s.grp, {bucket}, r.respond_s, r.arrive_s, r.close_s "
    + _FROM
    + " AND (r.respond_s IS NOT NULL OR r.arrive_s IS NOT NULL OR r.close_s IS NOT NULL)"
)


def _scope(db: Db, groups: dict[str, str]) -> None:
    """The stations one may see, each with its group (itself or its district), for the queries to join."""
    db.run("CREATE TEMP TABLE IF NOT EXISTS stats_scope (station TEXT PRIMARY KEY, grp TEXT NOT NULL)")
    db.run("DELETE FROM stats_scope")
    items = list(groups.items())
    for i in range(0, len(items), 500):
        chunk = items[i : i + 500]
        marks = ", ".join(["(?, ?)"] * len(chunk))  # placeholders only: the values are parameters
        db.run(f"INSERT INTO stats_scope VALUES {marks}", [v for kv in chunk for v in kv])  # noqa: S608


def _bucket_key(db: Db, edges: list[float]) -> tuple[str, list[Any]]:
    """SQL for the index of the period an incident falls in: arithmetic when the periods are equally long
    (days and weeks in a time zone without daylight saving), else a CASE over the edges (months)."""
    widths = {round(b - a, 3) for a, b in itertools.pairwise(edges)}
    if len(widths) <= 1:
        width = widths.pop() if widths else 86400.0
        expr = "FLOOR((r.raised_at - ?) / ?)::int" if db.pg else "CAST((r.raised_at - ?) / ? AS INTEGER)"
        return expr, [edges[0], width]
    whens = " ".join(f"WHEN r.raised_at < ? THEN {i}" for i in range(len(edges) - 1))
    return f"CASE {whens} ELSE {len(edges) - 1} END", list(edges[1:])


def _counts(db: Db, key: str, key_params: list[Any], start: float, end: float) -> list[tuple[Any, ...]]:
    return db.rows(_COUNTS.format(key=key), [*key_params, start, end])


def _times(
    db: Db,
    bucket: str,
    params: list[Any],
    *,
    start: float,
    end: float,
    per_group: dict[str, Times],
    per_bucket: list[Times],
) -> None:
    """Every time to respond, arrive and close in [start, end), added to its group's and its period's."""
    last = len(per_bucket) - 1
    for g, b, r, a, c in db.rows(_TIMES.format(bucket=bucket), [*params, start, end]):
        lg = per_group.get(g)
        if lg is None:
            lg = per_group[g] = ([], [], [])
        lb = per_bucket[min(max(int(b), 0), last)]
        if r is not None:
            lg[0].append(r)
            lb[0].append(r)
        if a is not None:
            lg[1].append(a)
            lb[1].append(a)
        if c is not None:
            lg[2].append(c)
            lb[2].append(c)


def _rank(n: int, p: int) -> int:
    """The nearest rank (1-based) of the p-th percentile of n values."""
    return max(1, math.ceil(p / 100 * n))


def _fill(summary: Summary, times: Times) -> None:
    summary.timed = [len(t) for t in times]
    for m, values in enumerate(times):
        values.sort()
        for p in (50, 90):
            if values:
                summary.pcts[(m, p)] = float(values[_rank(len(values), p) - 1])


_SEARCH_RUNS: Final = 16  # up to this many sorted runs, search them; more (days of a year), merge them


def kth_of_sorted(runs: Sequence[list[float]], k: int) -> float:
    """The k-th smallest (1-based) value of the sorted lists `runs` taken together, without merging them: the
    smallest value v of some run with at least k values <= v (a binary search in each run, counting with
    bisect across all of them)."""
    for run in runs:
        lo, hi = 0, len(run)
        while lo < hi:  # the first index whose value has at least k values <= it, over every run
            mid = (lo + hi) // 2
            if sum(bisect_right(r, run[mid]) for r in runs) >= k:
                hi = mid
            else:
                lo = mid + 1
        if lo < len(run) and sum(bisect_left(r, run[lo]) for r in runs) < k:
            return run[lo]
    raise ValueError(f"no {k}-th value in {sum(map(len, runs))}")


def _fill_from_sorted(summary: Summary, runs: Sequence[Times]) -> None:
    """Like `_fill` over the sorted lists of each of `runs` taken together (the periods' times: the whole's)."""
    summary.timed = [sum(len(r[m]) for r in runs) for m in range(3)]
    for m, n in enumerate(summary.timed):
        if not n:
            continue
        lists = [r[m] for r in runs if r[m]]
        if len(lists) > _SEARCH_RUNS:  # many runs (a year by day): one merge beats a search of each run in each
            merged = sorted(itertools.chain.from_iterable(lists))  # Timsort merges the sorted runs it finds
            for p in (50, 90):
                summary.pcts[(m, p)] = float(merged[_rank(n, p) - 1])
            continue
        for p in (50, 90):
            summary.pcts[(m, p)] = float(kth_of_sorted(lists, _rank(n, p)))


# The same figures from the month cells (`hub.web.response_months`) of the months a query covers whole.
_CELLS = " FROM console_response_month c JOIN stats_scope s ON s.station = c.station WHERE c.month >= ? AND c.month < ?"
_CELL_SUMS = (
    "SELECT {key}, SUM(c.alarms), SUM(c.panic), SUM(c.duress), SUM(c.holdup), SUM(c.emergency), SUM(c.respond_met), "
    "SUM(c.respond_decided), SUM(c.arrive_met), SUM(c.arrive_decided), SUM(c.resolve_met), SUM(c.resolve_decided), "
    "{agg}(NULLIF(c.respond_times, ''), ','), {agg}(NULLIF(c.arrive_times, ''), ','), "
    "{agg}(NULLIF(c.close_times, ''), ',')" + _CELLS + " GROUP BY 1"
)
_CELL_OTHER_KINDS = "SELECT s.grp, c.month, c.other_kinds" + _CELLS + " AND c.other_kinds <> ''"


def _whole_months(q: Query, db: Db, tz: tzinfo) -> tuple[date, date] | None:
    """The first and the end (exclusive) of the whole months of a query by month that the month cells can
    answer, or None (a query by day or week, no whole month, cells that cannot be cut in `tz`)."""
    if q.period != "month":
        return None
    first = q.start if q.start.day == 1 else response_months.next_month(q.start)
    stop = (q.end + timedelta(days=1)).replace(day=1)
    if first >= stop or not response_months.ensure(db, tz):
        return None
    return first, stop


def report(
    db: Db,
    q: Query,
    *,
    tz: tzinfo,
    districts: dict[str, str],
    names: dict[str, str],
    sees: Callable[[str], bool],
    straight: bool = False,
) -> Report:
    """`districts` and `names`: station -> its district and name (the stations' telemetry); `sees(district)`:
    the asker's rights (a district officer's statistics are their district's). Only stations the hub knows
    (its `stations` table, as in `districts`) are counted.

    A query by month reads the months it covers whole from the month cells and only the days before and
    after them from the incidents' rows; `straight=True` reads every row (the tests' reference: both give
    the same report)."""
    start, end = q.bounds(tz)
    starts = _bucket_starts(q, tz)
    edges = [s for s, _ in starts]
    by_station = q.group == "station"
    _scope(db, {st: st if by_station else d for st, d in districts.items() if sees(d)})
    total = Summary("")
    groups: dict[str, Summary] = {}

    def group(key: str) -> Summary:
        g = groups.get(key)
        if g is None:
            g = groups[key] = Summary(key, names.get(key, "") if by_station else key)
            g.district = districts.get(key, "") if by_station else key
        return g

    months = None if straight else _whole_months(q, db, tz)
    spans = [(start, end)]
    if months is not None:
        spans = [(start, midnight(months[0], tz)), (midnight(months[1], tz), end)]
    spans = [(a, b) for a, b in spans if a < b]
    series = [Summary(label) for _, label in starts]
    bucket, bucket_params = _bucket_key(db, edges)
    per_group: dict[str, Times] = {}
    per_bucket: list[Times] = [([], [], []) for _ in series]
    for a, b in spans:
        for key, kind, count, *figures in _counts(db, "s.grp", [], a, b):
            group(key).add(kind, count, figures)
            total.add(kind, count, figures)
        for index, kind, count, *figures in _counts(db, bucket, bucket_params, a, b):
            series[min(max(int(index), 0), len(series) - 1)].add(kind, count, figures)
        _times(db, bucket, bucket_params, start=a, end=b, per_group=per_group, per_bucket=per_bucket)
    if months is not None:
        _from_cells(db, months, group=group, total=total, series=series, per_group=per_group, per_bucket=per_bucket)
    for key, which, count, met, decided in db.rows(_WEEKS, [end - WEEK_S, end - 2 * WEEK_S, end]):
        for summary in (group(key), total):
            summary.week[which] += count
            summary.week_met[which] += int(met or 0)
            summary.week_decided[which] += int(decided or 0)
    for key, times in per_group.items():
        _fill(group(key), times)
    for summary, times in zip(series, per_bucket):
        _fill(summary, times)
    _fill_from_sorted(total, per_bucket)
    shown = sorted((g for g in groups.values() if g.alarms or g.week[0] or g.week[1]), key=lambda g: (-g.alarms, g.key))
    kinds = [k for k in KINDS if total.by_kind.get(k)] + sorted(k for k in total.by_kind if k not in KINDS)
    return Report(q, total, shown, [Bucket(s, label, sm) for (s, label), sm in zip(starts, series)], kinds)


def _from_cells(
    db: Db,
    months: tuple[date, date],
    *,
    group: Callable[[str], Summary],
    total: Summary,
    series: list[Summary],
    per_group: dict[str, Times],
    per_bucket: list[Times],
) -> None:
    """Add the whole months' figures from the month cells (a series by month: a cell's month is its period)."""
    keys = [response_months.month_key(months[0]), response_months.month_key(months[1])]
    index = {s.key: i for i, s in enumerate(series)}
    agg = "string_agg" if db.pg else "group_concat"
    for key, alarms, *counts in db.rows(_CELL_SUMS.format(key="s.grp", agg=agg), keys):
        group(key).add_cells(int(alarms), counts)
        lg = per_group.get(key)
        if lg is None:
            lg = per_group[key] = ([], [], [])
        for m in range(3):
            lg[m].extend(response_months.decode_values(counts[-3 + m]))
    for month, alarms, *counts in db.rows(_CELL_SUMS.format(key="c.month", agg=agg), keys):
        series[index[month]].add_cells(int(alarms), counts)
        total.add_cells(int(alarms), counts)
        lb = per_bucket[index[month]]
        for m in range(3):
            lb[m].extend(response_months.decode_values(counts[-3 + m]))
    for key, month, text in db.rows(_CELL_OTHER_KINDS, keys):
        for kind, count in response_months.decode_kinds(text).items():
            for summary in (group(key), series[index[month]], total):
                summary.by_kind[kind] = summary.by_kind.get(kind, 0) + count
