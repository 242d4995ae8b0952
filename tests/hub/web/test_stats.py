"""Response statistics on SQLite and PostgreSQL, against answers worked out by hand.

The seeded week is Monday 2026-11-30 to Sunday 2026-12-06 (UTC unless a test says otherwise); the week
before holds two more incidents, and one falls just after the period. Targets are 60 / 180 / 300 s.

| # | station | kind | raised (UTC) | respond / arrive / close after (s) | respond, arrive, resolve |
|---|---|---|---|---|---|
| 1 | A | panic | 12-01 10:00 | 40 / 150 / 280 | met, met, met |
| 2 | A | panic | 12-01 12:00 | 90 / 200 / 400 | late, late, late |
| 3 | A | duress | 12-02 09:00 | closed at 30 (closing meets all) | met, met, met |
| 4 | B | panic | 12-03 08:00 | dispatched 50, open, arrive escalated | met, late, pending |
| 5 | C | holdup | 12-05 23:30 | 70 / 170 / 290 | late, met, met |
| 6 | B | panic | 12-06 12:00 | open, nothing yet | pending x3 |
| 7 | A | panic | 11-25 10:00 | 30 / 100 / 200 (week before) | met, met, met |
| 8 | C | panic | 11-28 10:00 | 120, closed 250 (week before) | late, late, met |
| 9 | A | panic | 12-07 00:30 | after the period | - |
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from hub.web import queries, response_times, stats
from hub.web.console import prepare_database
from hub.web.db import Db
from tests.support.console import advanced, make_incident

A, B, C = "ST-A", "ST-B", "ST-C"
DISTRICTS = {A: "东城", B: "东城", C: "西城"}
NAMES = {A: "东城一号", B: "东城二号", C: "西城一号"}
WEEK = stats.Query(date(2026, 11, 30), date(2026, 12, 6))


def at(month: int, day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC).timestamp()


def steps(iid: str, kind: str, raised: float, *changes: tuple[str, float], **last: Any) -> list[dict[str, Any]]:
    """Every revision of one incident, as the feed would store them in turn."""
    revs = [make_incident(iid, raised_at=raised, kind=kind)]
    for state, after in changes:
        revs.append(advanced(revs[-1], state, raised + after))
    revs[-1] = {**revs[-1], **last}
    return revs


SEEDED: list[tuple[str, list[dict[str, Any]]]] = [
    (
        A,
        steps(
            "i1", "panic", at(12, 1, 10), ("acknowledged", 20), ("dispatched", 40), ("on_scene", 150), ("closed", 280)
        ),
    ),
    (A, steps("i2", "panic", at(12, 1, 12), ("dispatched", 90), ("on_scene", 200), ("closed", 400))),
    (A, steps("i3", "duress", at(12, 2, 9), ("closed", 30))),
    (B, steps("i4", "panic", at(12, 3, 8), ("dispatched", 50), missed=["arrive"], escalations=1)),
    (C, steps("i5", "holdup", at(12, 5, 23, 30), ("dispatched", 70), ("on_scene", 170), ("closed", 290))),
    (B, steps("i6", "panic", at(12, 6, 12))),
    (A, steps("i7", "panic", at(11, 25, 10), ("dispatched", 30), ("on_scene", 100), ("closed", 200))),
    (C, steps("i8", "panic", at(11, 28, 10), ("dispatched", 120), ("closed", 250))),
    (A, steps("i9", "panic", at(12, 7, 0, 30), ("closed", 10))),
]


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    url = f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_db_url")
    prepare_database(url)
    handle = Db(url)
    try:
        for station, revisions in SEEDED:
            for rev in revisions:
                queries.upsert_incident(handle, station, rev, rev["raised_at"])
        yield handle
    finally:
        handle.close()


def run(db: Db, q: stats.Query = WEEK, *, district: str = "", tz: timezone = UTC) -> stats.Report:
    return stats.report(db, q, tz=tz, districts=DISTRICTS, names=NAMES, sees=lambda d: not district or d == district)


def test_city_wide_counts_shares_percentiles_and_week_on_week(db: Db) -> None:
    tot = run(db).total
    assert tot.alarms == 6
    assert tot.by_kind == {"panic": 4, "duress": 1, "holdup": 1}
    assert (tot.met, tot.decided) == ([3, 3, 3], [5, 5, 4])
    assert [tot.share(i) for i in range(3)] == [0.6, 0.6, 0.75]
    assert (tot.pct(0, 50), tot.pct(0, 90)) == (50, 90)  # respond: 30 40 50 70 90
    assert (tot.pct(1, 50), tot.pct(1, 90)) == (150, 200)  # arrive: 30 150 170 200
    assert (tot.pct(2, 50), tot.pct(2, 90)) == (280, 400)  # close: 30 280 290 400
    assert tot.week == [6, 2]
    assert tot.wow_alarms == 2.0
    assert tot.wow_respond == pytest.approx(0.6 - 0.5)


def test_per_station_and_per_district(db: Db) -> None:
    by_station = {g.key: g for g in run(db).groups}
    assert list(by_station) == [A, B, C]  # most alarms first
    a, b, c = by_station[A], by_station[B], by_station[C]
    assert (a.label, a.district, a.alarms, a.by_kind) == ("东城一号", "东城", 3, {"panic": 2, "duress": 1})
    assert (a.met, a.decided) == ([2, 2, 2], [3, 3, 3])
    assert (a.pct(0, 50), a.pct(0, 90)) == (40, 90)
    assert a.week == [3, 1] and a.wow_alarms == 2.0 and a.wow_respond == pytest.approx(2 / 3 - 1)
    assert (b.alarms, b.met, b.decided, b.share(2)) == (2, [1, 0, 0], [1, 1, 0], None)
    assert b.week == [2, 0] and b.wow_alarms is None
    assert (c.alarms, c.met, c.decided, c.wow_alarms, c.wow_respond) == (1, [0, 1, 1], [1, 1, 1], 0.0, 0.0)

    districts = {g.key: g for g in run(db, stats.Query(WEEK.start, WEEK.end, "district")).groups}
    assert {k: g.alarms for k, g in districts.items()} == {"东城": 5, "西城": 1}
    assert districts["东城"].met == [3, 2, 2]


def test_a_district_officer_counts_only_their_district(db: Db) -> None:
    report = run(db, district="西城")
    assert [g.key for g in report.groups] == [C]
    assert report.total.alarms == 1 and report.total.by_kind == {"holdup": 1}


def test_series_by_day_week_and_month_in_the_consoles_time_zone(db: Db) -> None:
    days = {b.label: b.summary.alarms for b in run(db).series}
    assert days == {
        "2026-11-30": 0, "2026-12-01": 2, "2026-12-02": 1, "2026-12-03": 1,
        "2026-12-04": 0, "2026-12-05": 1, "2026-12-06": 1,
    }  # fmt: skip
    beijing = {b.label: b.summary.alarms for b in run(db, tz=timezone(timedelta(hours=8))).series}
    assert beijing["2026-12-05"] == 0 and beijing["2026-12-06"] == 2  # 23:30 UTC is the next morning there
    weeks = run(db, stats.Query(date(2026, 11, 23), date(2026, 12, 6), period="week")).series
    assert [(b.label, b.summary.alarms) for b in weeks] == [("2026-W48", 2), ("2026-W49", 6)]
    months = run(db, stats.Query(date(2026, 11, 1), date(2026, 12, 31), period="month")).series
    assert [(b.label, b.summary.alarms) for b in months] == [("2026-11", 2), ("2026-12", 7)]
    assert months[1].summary.share(0) == pytest.approx(4 / 6)


def test_an_older_revision_does_not_undo_a_newer_one_and_old_incidents_are_backfilled(db: Db) -> None:
    first = SEEDED[0][1][0]  # i1 as raised: replaying it changes nothing
    queries.upsert_incident(db, A, first, first["raised_at"])
    assert run(db).total.met == [3, 3, 3]
    db.run("DELETE FROM console_response")
    assert run(db).total.alarms == 0
    assert response_times.backfill(db) == 9
    assert run(db).total.alarms == 6


def test_bad_parameters_say_what_is_wrong() -> None:
    today = date(2026, 12, 3)
    q = stats.parse_query({}, today=today)
    assert (q.start, q.end, q.group, q.period) == (date(2026, 11, 6), today, "station", "day")
    for params, message in (
        ({"from": "2026-13-01"}, "from='2026-13-01'"),
        ({"from": "2026-12-05", "to": "2026-12-01"}, "after"),
        ({"from": "2020-01-01"}, "at most 400 days"),
        ({"group": "school"}, "group='school'"),
        ({"period": "year"}, "period='year'"),
    ):
        with pytest.raises(stats.StatsError, match=message):
            stats.parse_query(params, today=today)
    assert stats.nearest_rank([], 50) is None
    assert stats.nearest_rank([5.0], 90) == 5.0
