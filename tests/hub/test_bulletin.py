"""The weekly bulletin generated from events stored through the hub's store API (ISO weeks in Asia/Shanghai)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.wire import messages as wire
from hub.bulletin import Week
from hub.bulletin_desk import BulletinDesk, Schedule
from hub.parts import migrate_parts
from hub.store import open_store
from hub.web.bulletin_demo import incident_at, report, store_at
from hub.web.db import Db

SH = ZoneInfo("Asia/Shanghai")


def local(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> float:
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH).timestamp()


def place(db_url: str, station: str, district: str) -> None:
    store = open_store(db_url)
    try:
        store.update_status(station, wire.Status(state="online", counter=1, ts=wire.utc_now_iso()))
        tele = {"v": 1, "ts": wire.utc_now_iso(), "place": {"name": station, "district": district}}
        store.update_telemetry(station, wire.utc_now_iso(), json.dumps(tele).encode())
    finally:
        store.close()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    place(url, "ST-A", "东城")
    place(url, "ST-B", "东城")
    place(url, "ST-C", "西城")
    place(url, "ST-D", "")  # no district: an area of its own
    migrate_parts(url)  # as the hub's start-up does: the desk's tables
    return url


def desk(db_url: str, now: float) -> BulletinDesk:
    return BulletinDesk(Db(db_url), clock=lambda: now)


def test_weeks_are_iso_weeks_in_local_time() -> None:
    w = Week.parse("2026-W49")
    assert w.monday == dt.date(2026, 11, 30)
    start, end = w.bounds("Asia/Shanghai")
    assert start == local(2026, 11, 30, 0, 0) == dt.datetime(2026, 11, 29, 16, tzinfo=dt.UTC).timestamp()
    assert end - start == 7 * 86400
    assert str(w.shifted(-1)) == "2026-W48"
    assert str(Week.parse("2027-W01").shifted(-1)) == "2026-W53"  # 2026 has 53 ISO weeks
    assert str(Week.of(local(2026, 11, 29, 23, 59))) == "2026-W48"  # Sunday night, local
    assert str(Week.of(local(2026, 11, 30, 0, 1))) == "2026-W49"
    for bad in ("2026-49", "2026-W60", "2025-W53", ""):
        with pytest.raises(ValueError):
            Week.parse(bad)


def test_counts_and_week_on_week_change(db_url: str) -> None:
    mon = local(2026, 11, 30, 0, 30)  # W49 begins; 00:30 local is still Sunday in UTC
    store_at(
        db_url,
        "ST-A",
        [
            (1, "kiosk.report", local(2026, 11, 24), report("dispute")),  # W48
            (2, "kiosk.report", local(2026, 11, 25), report("dispute")),  # W48
            (3, "kiosk.report", local(2026, 11, 26), report("hazard")),  # W48, none in W49: it disappears
            (4, "kiosk.report", local(2026, 11, 29, 23, 59), report("dispute")),  # W48 by local time
            (5, "kiosk.report", mon, report("dispute")),  # W49 by local time
            (6, "kiosk.report", local(2026, 12, 2), report("noise", service="report_noise")),  # new category
            (7, "kiosk.report", local(2026, 12, 7, 0, 1), report("dispute")),  # W50: not counted
        ],
    )
    t = local(2026, 12, 1, 9)
    fast = incident_at("I1", t, dispatched=t + 30, on_scene=t + 120, closed=t + 290)
    slow = incident_at("I2", t + 3600, kind="holdup", dispatched=t + 3600 + 90, on_scene=t + 3600 + 400)
    drill = incident_at("I3", t + 7200, dispatched=t + 7210, closed=t + 7230, outcome="test")
    store_at(
        db_url,
        "ST-B",
        [
            (1, "alarm.raised", t, {"incident": {**fast, "state": "raised", "rev": 1}}),
            (2, "alarm.closed", t + 290, {"incident": fast}),
            (3, "alarm.on_scene", t + 3600 + 400, {"incident": slow}),
            (4, "alarm.closed", t + 7230, {"incident": drill}),
            (5, "alarm.raised", local(2026, 11, 27), {"incident": incident_at("I0", local(2026, 11, 27))}),
        ],
    )
    store_at(db_url, "ST-C", [(1, "kiosk.report", t, report("dispute"))])  # another district
    now = local(2026, 12, 8, 8)
    b = desk(db_url, now).build("2026-W49", "东城")
    assert b.stations == ["ST-A", "ST-B"]
    assert (b.first_day, b.last_day) == ("2026-11-30", "2026-12-06")
    rows = {(c.kind, c.category): (c.this_week, c.last_week, c.change) for c in b.categories}
    assert rows == {
        ("alarm", "panic"): (1, 1, 0),
        ("alarm", "holdup"): (1, 0, 1),
        ("report", "dispute"): (1, 3, -2),
        ("report", "hazard"): (0, 1, -1),
        ("report", "noise"): (1, 0, 1),
    }
    assert [c.category for c in b.categories] == ["panic", "holdup", "dispute", "hazard", "noise"]
    assert b.incidents == 2  # the drill is not an incident
    targets = {s.name: (s.met, s.counted) for s in b.targets}
    assert targets == {"respond": (1, 2), "arrive": (1, 2), "resolve": (1, 2)}  # slow: never closed, late
    assert b.summary_zh == "本周本辖区共发生报警 2 起，较上周增加 1 起；群众报事 2 件，较上周减少 2 件。"
    assert b.summary_en == (
        "This week the area had 2 alarms, 1 more than last week, and residents filed 2 reports, 2 fewer than last week."
    )
    assert b.tip_zh and b.tip_en and not b.edited


def test_an_empty_week_and_areas_without_a_district(db_url: str) -> None:
    store_at(db_url, "ST-D", [(1, "kiosk.report", local(2026, 11, 24), report("hazard"))])
    d = desk(db_url, local(2026, 12, 8))
    assert d.areas() == {"东城": ["ST-A", "ST-B"], "西城": ["ST-C"], "ST-D": ["ST-D"]}
    b = d.build("2026-W49", "ST-D")
    assert [(c.category, c.this_week, c.last_week, c.change) for c in b.categories] == [("hazard", 0, 1, -1)]
    empty = d.build("2026-W49", "西城")
    assert empty.categories == [] and empty.incidents == 0
    assert all(s.counted == 0 and s.percent is None for s in empty.targets)


def test_a_target_still_running_is_not_counted(db_url: str) -> None:
    t = local(2026, 12, 6, 23, 58)
    running = incident_at("I9", t, dispatched=t + 20)
    store_at(db_url, "ST-A", [(1, "alarm.dispatched", t + 20, {"incident": running})])
    b = desk(db_url, t + 100).build("2026-W49", "东城")
    assert {s.name: (s.met, s.counted) for s in b.targets} == {"respond": (1, 1), "arrive": (0, 0), "resolve": (0, 0)}


def test_edits_are_laid_over_the_generated_bulletin(db_url: str) -> None:
    d = desk(db_url, local(2026, 12, 8))
    d.edit("2026-W49", "东城", summary=("本周平稳。", "A quiet week."), tip=("注意防火。", "Mind fire."), by="zhang")
    b = d.build("2026-W49", "东城")
    assert (b.summary_zh, b.summary_en, b.tip_zh, b.tip_en, b.edited) == (
        "本周平稳。",
        "A quiet week.",
        "注意防火。",
        "Mind fire.",
        True,
    )
    assert d.record("2026-W49", "东城")["edited_by"] == "zhang"
    with pytest.raises(ValueError, match="too long"):
        d.edit("2026-W49", "东城", summary=("x" * 700, ""), tip=("", ""), by="zhang")


def test_schedule_names_last_week_after_the_moment() -> None:
    s = Schedule.parse("mon 08:00", "Asia/Shanghai")
    assert s.due(local(2026, 12, 7, 8, 0)) == "2026-W49"  # Monday 08:00 of W50
    assert s.due(local(2026, 12, 7, 7, 59)) == "2026-W48"  # not yet: the moment before was a week earlier
    assert s.due(local(2026, 12, 13, 23, 0)) == "2026-W49"
    for bad in ("monday", "xyz 08:00", "mon 25:00"):
        with pytest.raises(ValueError):
            Schedule.parse(bad)


def test_the_schedule_queues_last_weeks_bulletins_once(db_url: str) -> None:
    """With an injected clock: at Monday 08:00 local every area's bulletin of the week before is queued
    for each of its stations, once, even when a second hub on the same database checks too."""
    from hub import outbound

    schedule = Schedule.parse("mon 08:00", "Asia/Shanghai")
    monday = local(2026, 12, 7, 8, 0)
    assert desk(db_url, monday).run_schedule(schedule) == "2026-W49"
    assert desk(db_url, monday + 30).run_schedule(schedule) is None  # this hub again, or another one
    db = Db(db_url)
    queued = outbound.rows(db)
    assert sorted(r.target for r in queued) == ["ST-A", "ST-B", "ST-C", "ST-D"]
    assert {(r.name, r.state) for r in queued} == {("kiosk.bulletin", "queued")}
    row = db.one("SELECT args FROM central_commands WHERE target='ST-C'")
    assert row is not None
    args = json.loads(row[0])
    assert (args["week"], args["area"], args["stations"]) == ("2026-W49", "西城", ["ST-C"])
    assert desk(db_url, monday).record("2026-W49", "东城")["pushed_by"] == "schedule"
    # a re-send of the same week (an edit, then "send now") replaces the unsent one: one row per station
    desk(db_url, monday + 60).push("2026-W49", "西城", by="zhang")
    assert [r.target for r in outbound.rows(db)].count("ST-C") == 1
    assert desk(db_url, monday + 7 * 86400).run_schedule(schedule) == "2026-W50"
    db.close()


def test_command_line_says_what_is_wrong(db_url: str) -> None:
    import subprocess

    from tests.support.procs import PYTHON

    def hub(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*PYTHON, "hub", *args], capture_output=True, text=True, timeout=60)

    bad_week = hub("bulletin", "--db", db_url, "--week", "2026-W60")
    assert bad_week.returncode == 2 and "no ISO week 60" in bad_week.stderr
    unknown = hub("bulletin", "--db", db_url, "--week", "2026-W49", "--area", "南城")
    assert unknown.returncode == 2 and "no stations in area(s) 南城" in unknown.stderr
    assert hub("run", "--db", db_url, "--bulletin-at", "someday 8").returncode == 2
    assert hub("run", "--db", db_url, "--bulletin-tz", "Mars/Olympus").returncode == 2
    ok = hub("bulletin", "--db", db_url, "--week", "2026-W49")
    assert ok.returncode == 0
    assert [json.loads(line)["area"] for line in ok.stdout.splitlines()] == ["ST-D", "东城", "西城"]
