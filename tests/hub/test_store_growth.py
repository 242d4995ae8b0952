"""Storage that grows for years: JSONB bodies on PostgreSQL with the same export as SQLite, per-station
event counters instead of counting, and indexes under every query the hub and the console run periodically."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest

from edge.wire import messages as wire
from hub.store import PostgresStore, SqliteStore, Store
from hub.web.db import Db

AWKWARD: list[dict[str, Any]] = [
    {"z": 1, "a": 2, "m": {"y": [3, 2, 1], "b": None}},  # keys out of order, nested
    {"f": 0.1, "g": 1.5e-10, "h": 1e20, "i": -2.0, "j": 9007199254740993, "k": 1.0},  # numbers
    {"list": [], "text": '路灯不亮 "quoted" \\ back\nslash\ttab \u2028 😀', "empty": ""},  # JSONB's key order
]


def events(station: str, first: int = 1) -> list[wire.Event]:
    return [
        wire.Event(
            id=wire.new_event_id(),
            station=station,
            seq=first + i,
            ts="2026-12-03T08:00:00.000Z",
            type="demo.tick",
            priority=wire.Priority.INFO,
            data=data,
        )
        for i, data in enumerate(AWKWARD)
    ]


def test_export_prints_the_bytes_the_hub_stored_on_both_backends(tmp_path: Path, pg_db_url: str) -> None:
    evs = events("ST-A") + events("ST-B")
    bodies = [wire.encode(e) for e in evs]
    lite, pg = SqliteStore(tmp_path / "hub.db"), PostgresStore(pg_db_url)
    try:
        for s in (lite, pg):
            s.store_events(evs, bodies)
        assert list(lite.export()) == bodies
        # JSONB reorders and spaces keys: the export encodes each event again, so the envelope is the
        # bytes the hub wrote and the content is the same; keys inside `data` come in JSONB's order.
        lines = list(pg.export())
        assert [msgspec.json.decode(b, type=wire.Event) for b in lines] == evs  # 1e20 comes back as 10**20
        assert all(b"\n" not in b for b in lines)
        assert [b.split(b',"data":')[0] for b in lines] == [b.split(b',"data":')[0] for b in bodies]
        assert lines[2] == bodies[2]  # a body whose keys JSONB keeps in order: byte for byte
        assert [msgspec.json.decode(b, type=wire.Event) for b in pg.export("ST-B")] == evs[3:]
        with pg.conn.transaction(), pg.conn.cursor() as cur:
            cur.execute(
                "SELECT data_type FROM information_schema.columns WHERE table_name='events' AND column_name='body'"
            )
            assert cur.fetchone() == ("jsonb",)
    finally:
        lite.close()
        pg.close()


def test_station_counters_count_new_events_only(store: Store) -> None:
    first = events("ST-A")
    store.store_events(first, [wire.encode(e) for e in first])
    store.store_events(first[:2], [wire.encode(e) for e in first[:2]])  # a resend: duplicates
    other = events("ST-A", first=3)  # seq 3 again with another id: a conflict, kept aside, not an event
    res = store.store_events(other, [wire.encode(e) for e in other])
    assert (res.stored, res.conflicts) == (2, 1)
    mixed = events("ST-B") + events("ST-C", first=10)
    store.store_events(mixed, [wire.encode(e) for e in mixed])
    assert {r.station: r.events for r in store.stations()} == {"ST-A": 5, "ST-B": 3, "ST-C": 3}


def test_periodic_paths_never_read_the_events_table(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "hub.db")
    try:
        evs = events("ST-A")
        s.store_events(evs, [wire.encode(e) for e in evs])
        seen: list[str] = []
        s.db.set_trace_callback(seen.append)
        s.stations()
        s.count_stations()
        s.heard({"ST-A": 3, "ST-NEW": None}, 1.0e9)
        s.check_liveness(2.0e9, silent_after=5.0, offline_after=60.0)
        s.dead_letters()
        s.db.set_trace_callback(None)
        assert seen
        assert not [q for q in seen if re.search(r"(FROM|JOIN|INTO|UPDATE)\s+events\b", q)], seen
    finally:
        s.close()


# The console's and the hub's periodic queries over the tables that grow (hub/web/feed.py, hub/web/patrol.py,
# hub/retention.py, hub/bulletin_desk.py, hub/kiosk_services.py, export), as they run them.
PERIODIC = [
    (
        "SELECT received_at, station, seq, type, body FROM events WHERE received_at > %s "
        "AND type >= 'alarm.' AND type < 'alarm/' ORDER BY received_at, station, seq LIMIT 2000",
        (1.0,),
    ),
    (
        "SELECT station, seq, body, received_at FROM events WHERE type='patrol.checkin' AND received_at > %s "
        "ORDER BY received_at",
        (1.0,),
    ),
    (
        "SELECT station, seq, body FROM events WHERE type IN ('kiosk.report', 'kiosk.request') AND received_at < %s "
        "AND CAST(body AS TEXT) NOT LIKE '%%x%%' ORDER BY received_at LIMIT 500",
        (1.0,),
    ),
    ("SELECT station, ts, body FROM events WHERE type='kiosk.report' AND ts >= %s", ("2026",)),
    ("SELECT body FROM events WHERE station=%s AND seq=%s AND type='kiosk.request'", ("ST-A", 1)),
    ("SELECT body::text FROM events WHERE station=%s ORDER BY seq", ("ST-A",)),
    ("DELETE FROM dead_letters WHERE received_at < %s", (1.0,)),
]


@pytest.mark.parametrize(("query", "args"), PERIODIC)
def test_the_periodic_queries_have_an_index_on_postgres(pg_db_url: str, query: str, args: tuple[Any, ...]) -> None:
    s = PostgresStore(pg_db_url)
    try:
        with s.conn.transaction(), s.conn.cursor() as cur:
            cur.execute("SET LOCAL enable_seqscan = off")  # with no index to use, the plan still scans
            cur.execute("EXPLAIN " + query, args)
            plan = "\n".join(str(r[0]) for r in cur.fetchall())
        assert "Seq Scan on events" not in plan and "Seq Scan on dead_letters" not in plan, plan
    finally:
        s.close()


def test_the_periodic_queries_have_an_index_on_sqlite(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "hub.db").close()
    db = sqlite3.connect(tmp_path / "hub.db")
    try:
        for query, args in PERIODIC:
            lite = query.replace("%s", "?").replace("%%", "%").replace("body::text", "body")
            plan = " | ".join(str(r[-1]) for r in db.execute("EXPLAIN QUERY PLAN " + lite, args))
            assert "SCAN events" not in plan and "SCAN dead_letters" not in plan, (lite, plan)
    finally:
        db.close()


def test_console_connections_read_jsonb_as_json_text_as_on_sqlite(pg_db_url: str) -> None:
    s = PostgresStore(pg_db_url)
    evs = events("ST-A")
    s.store_events(evs, [wire.encode(e) for e in evs])
    s.update_telemetry("ST-A", "2026-12-03T08:00:00.000Z", '{"place":{"district":"东城"}}'.encode())
    s.close()
    db = Db(pg_db_url)
    try:
        row = db.one("SELECT body FROM events WHERE station=? AND seq=?", ("ST-A", 1))
        assert row is not None and isinstance(row[0], str)  # readers json.loads it, as on SQLite
        assert json.loads(row[0])["data"] == AWKWARD[0]
        tele = db.one("SELECT telemetry FROM stations WHERE station=?", ("ST-A",))
        assert tele is not None and json.loads(tele[0]) == {"place": {"district": "东城"}}
    finally:
        db.close()
    again = PostgresStore(pg_db_url)
    try:
        assert [r.telemetry for r in again.stations()] == [{"place": {"district": "东城"}}]
    finally:
        again.close()
