"""Response statistics from the month cells (`hub.web.response_months`) against the straightforward computation
over every incident row, on SQLite and PostgreSQL: the same report, to the last percentile.

Random incidents (seeded) at four known stations in two districts and one the hub does not know, over fourteen
months, each stored revision by revision as the feed stores them; some are raised just before or after a
midnight or a month's end and a later revision moves their raised time across it, some steps are late, some
incidents stay open, some revisions arrive out of order, some are of a kind not in `stats.KINDS`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.web import queries, response_months, stats
from hub.web.console import prepare_database
from hub.web.db import Db
from tests.support.console import advanced, make_incident

DISTRICTS = {"ST-1": "东城", "ST-2": "东城", "ST-3": "西城", "ST-4": "西城"}
NAMES = {"ST-1": "一", "ST-2": "二", "ST-3": "三", "ST-4": "四"}
STATIONS = [*DISTRICTS, "ST-UNKNOWN"]  # the last is not in the hub's stations: never counted
BEIJING = timezone(timedelta(hours=8))
FIRST = date(2025, 11, 1)
LAST = date(2026, 12, 31)


def revisions(rng: random.Random, iid: str, raised: float) -> list[dict[str, Any]]:
    """One incident's revisions in order: raised, then some of dispatched, on scene and closed (each step
    40-400 s after the last), sometimes an escalation, sometimes a raised time moved by up to three hours."""
    kind = rng.choice(["panic", "panic", "duress", "holdup", "emergency", "officer_call"])
    revs = [make_incident(iid, raised_at=raised, kind=kind)]
    t = raised
    for state in ("acknowledged", "dispatched", "on_scene", "closed"):
        if rng.random() < 0.2:
            break  # still open
        if state != "closed" and rng.random() < 0.25:
            continue  # a skipped step: closing meets what is left
        t += rng.uniform(5, 400)
        revs.append(advanced(revs[-1], state, t))
    if rng.random() < 0.15:
        revs[-1] = {**revs[-1], "missed": ["arrive"], "escalations": 1}
    if rng.random() < 0.25:
        moved = raised + rng.choice([-1, 1]) * rng.uniform(60, 3 * 3600)
        last = revs[-1]
        revs.append({**last, "raised_at": moved, "rev": last["rev"] + 1})
    return revs


def near_edges(rng: random.Random, tz: tzinfo, n: int) -> list[float]:
    """Raised times within a few hours of a midnight (often a month's first) in `tz`."""
    out = []
    for _ in range(n):
        day = FIRST + timedelta(days=rng.randrange((LAST - FIRST).days))
        if rng.random() < 0.5:
            day = day.replace(day=1)
        out.append(response_months.midnight(day, tz) + rng.uniform(-3 * 3600, 3 * 3600))
    return out


def store(db: Db, rng: random.Random, prefix: str, raised: list[float]) -> None:
    """Every incident's revisions as the feed stores them; now and then an older revision again (ignored)."""
    for n, t in enumerate(raised):
        station = rng.choice(STATIONS)
        revs = revisions(rng, f"{prefix}-{n}", t)
        for rev in revs:
            queries.upsert_incident(db, station, rev, rev["raised_at"])
        if len(revs) > 1 and rng.random() < 0.2:
            old = revs[rng.randrange(len(revs) - 1)]
            queries.upsert_incident(db, station, old, old["raised_at"])


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    url = f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_db_url")
    prepare_database(url)  # builds the (empty) cells in this machine's zone
    handle = Db(url)
    rng = random.Random(20261203)
    span = (response_months.midnight(FIRST, UTC), response_months.midnight(LAST, UTC))
    raised = [rng.uniform(*span) for _ in range(260)] + near_edges(rng, UTC, 60) + near_edges(rng, BEIJING, 60)
    with handle.transaction():
        store(handle, rng, "inc", raised)
    try:
        yield handle
    finally:
        handle.close()


def both(db: Db, q: stats.Query, tz: tzinfo, district: str = "") -> tuple[stats.Report, stats.Report]:
    def run(straight: bool) -> stats.Report:
        return stats.report(
            db,
            q,
            tz=tz,
            districts=DISTRICTS,
            names=NAMES,
            sees=lambda d: not district or d == district,
            straight=straight,
        )

    return run(False), run(True)


QUERIES = [
    (date(2025, 11, 1), date(2026, 10, 31)),  # twelve whole months
    (date(2025, 12, 4), date(2026, 12, 3)),  # a year ending today: the days around eleven whole months
    (date(2026, 1, 15), date(2026, 3, 31)),  # one partial month, two whole ones
    (date(2026, 2, 1), date(2026, 2, 28)),  # exactly one month
    (date(2026, 5, 2), date(2026, 6, 30)),
    (date(2026, 5, 2), date(2026, 5, 30)),  # no whole month: every row
]


@pytest.mark.parametrize("tz", [UTC, BEIJING, ZoneInfo("Europe/Berlin")], ids=["utc", "beijing", "berlin"])
def test_the_month_cells_give_the_same_report_as_every_row(db: Db, tz: tzinfo) -> None:
    compared = 0
    for start, end in QUERIES:
        for group in stats.GROUPS:
            for district in ("", "西城"):
                fast, straight = both(db, stats.Query(start, end, group, "month"), tz, district)
                assert fast == straight, (start, end, group, district)
                assert fast.as_json() == straight.as_json()
                compared += fast.total.alarms
    assert compared > 1000  # the queries did count incidents
    assert response_months.stored_tz(db) == tz  # the cells were cut again in the report's zone
    year = stats.Query(date(2025, 11, 1), date(2026, 10, 31), "station", "month")
    whole = both(db, year, tz)[0]
    assert "ST-UNKNOWN" not in {g.key for g in whole.groups}
    assert "officer_call" in whole.kinds and whole.total.pct(2, 90) is not None
    db.run("UPDATE console_response_month SET panic = panic + 1, alarms = alarms + 1 WHERE station = 'ST-1'")
    fast, straight = both(db, year, tz)
    assert fast.total.alarms > straight.total.alarms  # (the fast path did read the cells)


def test_cells_follow_later_revisions_moved_times_and_a_zone_change(db: Db) -> None:
    q = stats.Query(date(2025, 12, 4), date(2026, 12, 3), "district", "month")
    fast, straight = both(db, q, BEIJING)
    assert fast == straight  # cells now cut in Beijing time
    rng = random.Random(7)
    store(db, rng, "later", near_edges(rng, BEIJING, 80))  # kept up to date one change at a time
    cells = db.rows("SELECT month, station, alarms FROM console_response_month ORDER BY 1, 2")
    fast, straight = both(db, q, BEIJING)
    assert fast == straight
    assert fast.total.alarms > 0
    assert response_months.rebuild(db, BEIJING)  # built from scratch: the very same cells
    assert db.rows("SELECT month, station, alarms FROM console_response_month ORDER BY 1, 2") == cells
    fast, straight = both(db, q, UTC)  # the zone changed: cells cut again
    assert fast == straight and response_months.stored_tz(db) == UTC


def test_a_revision_that_moves_an_incident_into_another_month_leaves_the_first(db: Db) -> None:
    tz = UTC
    db.run("DELETE FROM console_incidents")
    db.run("DELETE FROM console_response")
    assert response_months.rebuild(db, tz)
    end_of_may = response_months.midnight(date(2026, 6, 1), tz) - 30
    first = make_incident("moved", raised_at=end_of_may, kind="holdup")
    queries.upsert_incident(db, "ST-3", first, end_of_may)
    assert db.rows("SELECT month, alarms, holdup FROM console_response_month") == [("2026-05", 1, 1)]
    moved = {**advanced(first, "dispatched", end_of_may + 100), "raised_at": end_of_may + 60}
    queries.upsert_incident(db, "ST-3", moved, end_of_may + 100)
    assert db.rows("SELECT month, alarms, respond_times FROM console_response_month") == [("2026-06", 1, "40.0")]
    queries.upsert_incident(db, "ST-3", first, end_of_may)  # the older revision again: nothing changes
    assert db.rows("SELECT month, alarms FROM console_response_month") == [("2026-06", 1)]
    report = stats.report(
        db, stats.Query(date(2026, 5, 1), date(2026, 6, 30), "station", "month"),
        tz=tz, districts=DISTRICTS, names=NAMES, sees=lambda d: True,
    )  # fmt: skip
    assert [(b.label, b.summary.alarms) for b in report.series] == [("2026-05", 0), ("2026-06", 1)]
    assert report.total.pct(0, 50) == 40.0


def test_the_kth_value_of_sorted_runs_is_the_kth_of_them_merged() -> None:
    rng = random.Random(3)
    for _ in range(200):
        runs = [sorted(rng.choice([1.0, 2.0, 2.5, 7.0]) * rng.randint(0, 5) for _ in range(rng.randint(0, 9)))]
        runs += [sorted(rng.uniform(0, 10) for _ in range(rng.randint(0, 9))) for _ in range(rng.randint(0, 4))]
        merged = sorted(v for r in runs for v in r)
        for k in range(1, len(merged) + 1):
            assert stats.kth_of_sorted(runs, k) == merged[k - 1]


@pytest.mark.parametrize("count", [3, 40, 365])  # searched (few runs) and merged (the days of a year)
def test_the_whole_of_many_periods_has_the_nearest_rank_percentiles_of_all_their_times(count: int) -> None:
    rng = random.Random(count)
    runs: list[response_months.Times] = []
    for _ in range(count):
        run = tuple(sorted(round(rng.uniform(0, 600), 1) for _ in range(rng.randint(0, 6))) for _ in range(3))
        runs.append((run[0], run[1], run[2]))
    whole = stats.Summary("")
    stats._fill_from_sorted(whole, runs)
    for m in range(3):
        every = sorted(v for r in runs for v in r[m])
        assert whole.timed[m] == len(every)
        for p in (50, 90):
            assert whole.pct(m, p) == stats.nearest_rank(every, p)


def test_a_local_day_is_cut_at_the_very_midnight_the_queries_use() -> None:
    for tz in (UTC, BEIJING, ZoneInfo("Europe/Berlin")):
        for day in (date(2026, 3, 29), date(2026, 10, 25), date(2026, 12, 1)):
            m = response_months.midnight(day, tz)
            just_before = math.nextafter(m, 0.0)  # rounds to the microsecond of midnight itself
            assert datetime.fromtimestamp(just_before, tz).date() == day  # (why local_day does not trust it)
            assert response_months.local_day(just_before, tz) == day - timedelta(days=1)
            assert response_months.local_day(m, tz) == day
            assert response_months.local_day(math.nextafter(m, math.inf), tz) == day
