"""Station telemetry history (schema v6): raw rows per report and per-minute aggregates made as each minute
closes (sans-IO), written and kept on SQLite and PostgreSQL (time partitions there), the upgrade from v5 with
its rows, and a real hub process writing both from telemetry published on a real Mosquitto."""

from __future__ import annotations

import calendar
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from edge.sim.broker import MosquittoProcess
from edge.wire import messages as wire
from hub import pg_partitions
from hub.schema import LATEST, PG_MIGRATIONS, SQLITE_MIGRATIONS
from hub.store import PostgresStore, SqliteStore, Store, open_store
from hub.telemetry_history import (
    HistorySettings,
    HistoryWriter,
    MinuteAggregator,
    MinuteRow,
    Upkeep,
    camera_figures,
    merge_minutes,
    sample_of,
)
from hub.web.db import Db
from tests.support.hubtest import wait_hub_listening
from tests.support.mqtt import TestClient
from tests.support.procs import HubProc, wait_until

T0 = 1_800_000_000.0  # 2027-01-15 08:00 UTC, on a minute
DAY = 86400.0


def telemetry(depth: int = 3, *, link: str = "connected", frames: int = 1200, load: float = 0.75) -> wire.Telemetry:
    return wire.Telemetry(
        ts=wire.utc_now_iso(T0),
        outbox=wire.OutboxHealth(
            depth=depth,
            by_priority={},
            bytes=0,
            oldest_age_s=0.0,
            accepted_total=0,
            rejected_total=0,
            confirmed_total=0,
        ),
        link=wire.LinkHealth(
            state=link, connects=1, in_flight=0, published_total=0, resent_total=0, publish_failures=0
        ),
        host=wire.HostHealth(load1=load, mem_available_mb=512.0, disk_free_mb=8000.0, uptime_s=60.0),
        cameras={"gate-east": {"connected": True, "frames_in": frames, "lag_ms": 140.0 + depth, "reconnects": 0}},
    )


def rows(store: Store | str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(store, str):
        db = Db(store)
        try:
            return db.rows(sql, params)
        finally:
            db.close()
    if isinstance(store, SqliteStore):
        return store.db.execute(sql, params).fetchall()
    assert isinstance(store, PostgresStore)
    with store.conn.transaction(), store.conn.cursor() as cur:
        cur.execute(sql.replace("?", "%s"), params)
        return list(cur.fetchall())


def minutes_of(store: Store | str, station: str) -> list[MinuteRow]:
    got = rows(store, "SELECT * FROM telemetry_minute WHERE station=? ORDER BY ts", (station,))
    return [MinuteRow.of_row(tuple(r)) for r in got]


def test_the_sample_keeps_the_charted_figures() -> None:
    s = sample_of(telemetry(7, link="connecting"))
    assert (s.outbox_depth, s.link, s.load1, s.disk_free_mb) == (7, "connecting", 0.75, 8000.0)
    assert camera_figures(s.cameras) == {"gate-east": (1200.0, 147.0, True)}
    assert camera_figures("not json") == {}


def test_a_minute_closes_with_its_min_mean_max_worst_link_and_frame_rate() -> None:
    agg = MinuteAggregator()
    closed = []
    links = ["connected", "connected", "disconnected", "connecting", "connected", "connected"]
    for i in range(6):  # a report every 10 s, 125 frames each: 12.5 frames/s
        s = sample_of(telemetry(i, link=links[i], frames=1000 + 125 * i, load=0.5 + i / 10))
        closed += agg.add("ST-1", s, T0 + 10 * i)
    assert closed == [] and agg.close(T0 + 59.9) == []
    closed += agg.add("ST-1", sample_of(telemetry(9, frames=2000)), T0 + 61)  # the next minute closes this one
    [m] = closed
    assert (m.station, m.ts, m.n) == ("ST-1", T0, 6)
    assert (m.outbox.lo, m.outbox.total / m.n, m.outbox.hi) == (0, 2.5, 5)
    assert (round(m.load.lo, 3), round(m.load.hi, 3)) == (0.5, 1.0)
    assert (m.link, m.link_up) == ("disconnected", 4)  # the worst seen, and 4 of 6 reports up
    cam = m.cameras["gate-east"]
    assert (cam.frames / cam.span_s, cam.lag_max, cam.up, cam.n) == (12.5, 145.0, 6, 6)
    assert [r.ts for r in agg.close(T0 + 125)] == [T0 + 60]  # a station gone quiet: closed by time
    agg.add("ST-1", sample_of(telemetry(frames=50)), T0 + 130)  # the camera restarted: no rate from a drop
    [after] = agg.flush()
    assert after.cameras["gate-east"].span_s == 0 and agg.flush() == []
    assert MinuteRow.of_row(m.row()).row() == m.row()


def test_two_partial_rows_of_a_minute_merge_into_the_whole() -> None:
    whole, a, b = MinuteAggregator(), MinuteAggregator(), MinuteAggregator()
    for i in range(6):
        s = sample_of(telemetry(i, link="connecting" if i == 4 else "connected", frames=100 * i))
        whole.add("ST-1", s, T0 + 10 * i)
        (a if i % 2 else b).add("ST-1", s, T0 + 10 * i)  # two hubs sharing the station's reports
    [w], [pa], [pb] = whole.flush(), a.flush(), b.flush()
    [m] = merge_minutes([pa], {("ST-1", T0): pb})
    assert (m.n, m.outbox.total, m.link, m.link_up) == (w.n, w.outbox.total, "connecting", 5)
    assert m.cameras["gate-east"].frames / m.cameras["gate-east"].span_s == 10.0  # the same rate
    assert merge_minutes([pa], {}) == []


def test_the_writer_keeps_raw_rows_minutes_and_schedules_the_upkeep() -> None:
    w = HistoryWriter(HistorySettings(raw_days=2, keep_days=30, raw_every_s=0, upkeep_interval=300))
    s = sample_of(telemetry())
    assert [st for st, _, _ in w.due({"A": s, "B": s}, T0)] == ["A", "B"]
    assert [st for st, _, _ in w.due({"A": s}, T0 + 10)] == ["A"]
    assert w.aggregate([("A", s), ("A", s)], T0) == []
    assert [(m.station, m.n) for m in w.aggregate([], T0 + 60)] == [("A", 2)]
    assert w.upkeep(T0) == Upkeep(T0, T0 - 2 * DAY, T0 - 30 * DAY)
    assert w.upkeep(T0 + 10) is None
    assert w.upkeep(T0 + 300) is not None
    off = HistoryWriter(HistorySettings(raw_days=0, keep_days=0))
    assert off.due({"A": s}, T0) == [] and off.aggregate([("A", s)], T0) == []


def test_raw_rows_and_minutes_are_written_merged_and_kept_for_their_days(store: Store) -> None:
    report = [("ST-1", wire.utc_now_iso(T0), wire.encode(telemetry()))]
    agg = MinuteAggregator()
    for i in range(5):
        s = sample_of(telemetry(i))
        store.update_telemetry_many(report, [("ST-1", T0 + 30 * i, s)], agg.add("ST-1", s, T0 + 30 * i))
    store.update_telemetry_many(report, [("ST-1", T0, sample_of(telemetry(9)))])  # the same key again: kept once
    raw = rows(store, "SELECT ts, outbox_depth FROM telemetry_raw WHERE station='ST-1' ORDER BY ts")
    assert [(float(a), int(b)) for a, b in raw] == [(T0 + 30 * i, i) for i in range(5)]
    assert [(m.ts, m.n, m.outbox.total) for m in minutes_of(store, "ST-1")] == [(T0, 2, 1), (T0 + 60, 2, 5)]
    # A hub stopped in the middle of a minute wrote it partial; the rest of that minute merges into it.
    store.update_telemetry_many([], (), agg.flush())
    late = MinuteAggregator()
    late.add("ST-1", sample_of(telemetry(6)), T0 + 150)
    store.update_telemetry_many([], (), late.flush())
    assert [(m.ts, m.n, m.outbox.total) for m in minutes_of(store, "ST-1")][-1] == (T0 + 120, 2, 10)
    # Raw rows past their 2 days go, minutes past their 30 days go; the rest stays.
    old = MinuteAggregator()
    old.add("ST-1", sample_of(telemetry(1)), T0 - 40 * DAY)
    store.update_telemetry_many([], [("ST-1", T0 - 3 * DAY, sample_of(telemetry(1)))], old.flush())
    now = T0 + 200
    store.telemetry_upkeep(Upkeep(now, now - 2 * DAY, now - 30 * DAY))
    assert len(rows(store, "SELECT ts FROM telemetry_raw WHERE ts < ?", (T0,))) == 0
    assert [m.ts for m in minutes_of(store, "ST-1")] == [T0, T0 + 60, T0 + 120]
    assert len(rows(store, "SELECT ts FROM telemetry_raw")) == 5


def partitions(store: PostgresStore, table: str) -> list[str]:
    got = rows(
        store,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = ?::regclass ORDER BY 1",
        (table,),
    )
    return [str(n) for (n,) in got]


def test_postgres_partitions_are_made_ahead_filled_from_default_and_dropped_whole(pg_db_url: str) -> None:
    store = PostgresStore(pg_db_url)
    try:
        assert partitions(store, "telemetry_raw") == ["telemetry_raw_default"]
        # A row for a time no partition covers yet (the hub never ran then) lands in the default partition.
        s = sample_of(telemetry(4))
        far = MinuteAggregator()
        far.add("ST-1", s, T0 + 90 * DAY)
        store.update_telemetry_many([], [("ST-1", T0 + 90 * DAY, s)], far.flush())
        assert len(rows(store, "SELECT * FROM telemetry_raw_default")) == 1
        store.telemetry_upkeep(Upkeep(T0, T0 - 3 * DAY, T0 - 365 * DAY))
        raw = partitions(store, "telemetry_raw")
        assert raw[:5] == ["telemetry_raw_default"] + [f"telemetry_raw_p202701{d}" for d in (15, 16, 17, 18)]
        assert "telemetry_raw_p20270415" in raw  # made for the row that waited in the default partition
        assert partitions(store, "telemetry_minute") == [
            "telemetry_minute_default", "telemetry_minute_p202701", "telemetry_minute_p202702",
            "telemetry_minute_p202704",
        ]  # fmt: skip
        assert rows(store, "SELECT COUNT(*) FROM telemetry_raw_default") == [(0,)]
        assert rows(store, "SELECT COUNT(*) FROM telemetry_raw_p20270415") == [(1,)]
        # Retention: the days wholly past it are dropped, not deleted row by row (the 17th ends after it).
        later = T0 + 5 * DAY
        store.update_telemetry_many([], [("ST-1", T0 + 60, s)])
        dropped = store.telemetry_upkeep(Upkeep(later, later - 3 * DAY, later - 365 * DAY))
        raw = partitions(store, "telemetry_raw")
        assert dropped == 2 and "telemetry_raw_p20270116" not in raw and "telemetry_raw_p20270117" in raw
        assert rows(store, "SELECT COUNT(*) FROM telemetry_raw WHERE ts < ?", (later,)) == [(0,)]
    finally:
        store.close()


def test_two_hubs_make_the_partitions_at_once(pg_db_url: str) -> None:
    stores = [PostgresStore(pg_db_url) for _ in range(3)]
    errors: list[BaseException] = []

    def upkeep(s: PostgresStore) -> None:
        try:
            s.telemetry_upkeep(Upkeep(T0, T0 - 3 * DAY, T0 - 365 * DAY))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upkeep, args=(s,)) for s in stores]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(partitions(stores[0], "telemetry_raw")) == 1 + pg_partitions.AHEAD_DAYS + 1
    finally:
        for s in stores:
            s.close()


V4_ROWS = [  # telemetry_history as v5 kept it: one row a minute; the camera counter rises 600 a minute
    ("ST-OLD", T0 - 3600 * 24 * 10 + 60 * i, i, "connected" if i != 2 else "disconnected", 0.5, 9000.0, 800.0,
     json.dumps({"cam": [600.0 * i, 120.0, 1]}))
    for i in range(4)
] + [("ST-OLD", T0 - 60, 7, "connected", 0.5, 9000.0, 800.0, json.dumps({}))]  # fmt: skip


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_upgrade_from_v5_keeps_the_history(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    def v5(execute: Any, migrations: list[str]) -> None:  # the v5 schema as that hub made it, with its rows
        for stmt in ["CREATE TABLE schema_version (version INTEGER NOT NULL)", "INSERT INTO schema_version VALUES (5)"]:
            execute(stmt)
        for script in migrations[:5]:
            for stmt in (x for x in script.split(";") if x.strip()):
                execute(stmt)

    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'v5.db'}"
        con = sqlite3.connect(tmp_path / "v5.db", isolation_level=None)
        v5(con.execute, SQLITE_MIGRATIONS)
        con.executemany("INSERT INTO telemetry_history VALUES (?, ?, ?, ?, ?, ?, ?, ?)", V4_ROWS)
        con.close()
    else:
        import psycopg

        url = str(request.getfixturevalue("pg_db_url"))
        with psycopg.connect(url) as pg, pg.cursor() as cur:
            v5(cur.execute, PG_MIGRATIONS)
            cur.executemany("INSERT INTO telemetry_history VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", V4_ROWS)
    store = open_store(url)
    try:
        assert int(rows(store, "SELECT version FROM schema_version")[0][0]) == LATEST == 6
        got = minutes_of(store, "ST-OLD")
        assert [(m.ts, m.n, m.outbox.total, m.link, m.link_up) for m in got] == [
            (r[1], 1, r[2], r[3], int(r[3] == "connected")) for r in V4_ROWS
        ]
        rates = [c.frames / c.span_s if c.span_s else None for m in got[:4] for c in m.cameras.values()]
        assert rates == [None, 10.0, 10.0, 10.0]  # from each row's counter and the row before it
        assert got[-1].cameras == {}
        raw = rows(store, "SELECT ts FROM telemetry_raw ORDER BY ts")
        if kind == "sqlite":  # renamed as it was; the upkeep deletes what is past the raw days
            assert [float(t) for (t,) in raw] == [r[1] for r in V4_ROWS]
        else:  # the last 3 days copied (into the default partition, until the upkeep gives them theirs)
            assert [float(t) for (t,) in raw] == [T0 - 60]
            store.telemetry_upkeep(Upkeep(T0, T0 - 3 * DAY, T0 - 365 * DAY))
            assert rows(store, "SELECT COUNT(*) FROM telemetry_minute_default") == [(0,)]
            assert len(minutes_of(store, "ST-OLD")) == 5
        assert rows(store, "SELECT COUNT(*) FROM telemetry_minute WHERE ts = ?", (T0 - 60,)) == [(1,)]
    finally:
        store.close()


def test_a_real_hub_appends_each_report_and_its_minute(tmp_path: Path, mosquitto: MosquittoProcess) -> None:
    db_url = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = HubProc(tmp_path, broker_url=mosquitto.url, db_url=db_url)
    client = TestClient(mosquitto.url, client_id="tele")
    raw = "SELECT outbox_depth FROM telemetry_raw WHERE station='ST-TELE' ORDER BY ts"
    try:
        hub.start()
        wait_hub_listening(hub, client, db_url)
        for depth in (4, 5, 6):
            client.publish(wire.topic("ST-TELE", "telemetry"), wire.encode(telemetry(depth)), qos=0)
            wait_until(lambda want=depth - 3: len(rows(db_url, raw)) >= want, timeout=20, what=f"report {depth}")
        assert [r[0] for r in rows(db_url, raw)] == [4, 5, 6]
        assert hub.stop() == 0  # the open minute is written at stop
        assert sum(m.n for m in minutes_of(db_url, "ST-TELE")) == 3
        assert sum(m.outbox.total for m in minutes_of(db_url, "ST-TELE")) == 15
    finally:
        client.close()
        hub.stop()


def test_month_and_day_partitions_cover_their_ranges() -> None:
    p = pg_partitions.month_partition(calendar.timegm((2026, 12, 31, 23, 59, 59)))
    assert (p.name, p.end) == ("telemetry_minute_p202612", calendar.timegm((2027, 1, 1, 0, 0, 0)))
    d = pg_partitions.day_partition(T0)
    assert d.start <= T0 < d.end and d.end - d.start == DAY
