"""Schema versions of the hub database: the upgrade from the schema that shipped before versions were
recorded (created here with its own DDL, as it was), ordered migrations, and the refusal of a newer one."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from edge.wire import messages as wire
from hub.schema import LATEST
from hub.store import PostgresStore, SchemaTooNewError, SqliteStore, Store, open_store
from tests.support.procs import PYTHON

# The DDL of the hub as shipped before schema versions (hub/store.py at commit c7d3d00), verbatim.
OLD_SQLITE = """
CREATE TABLE IF NOT EXISTS events (
    station TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, ts TEXT NOT NULL, type TEXT NOT NULL,
    priority INTEGER NOT NULL, body TEXT NOT NULL, received_at REAL NOT NULL,
    PRIMARY KEY (station, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_type ON events (type, ts);
CREATE TABLE IF NOT EXISTS event_conflicts (
    station TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, received_at REAL NOT NULL,
    PRIMARY KEY (station, seq, id)
);
CREATE TABLE IF NOT EXISTS stations (
    station TEXT PRIMARY KEY, state TEXT NOT NULL, counter INTEGER NOT NULL, status_ts TEXT NOT NULL,
    last_seen REAL NOT NULL, telemetry TEXT, telemetry_ts TEXT
);
"""
OLD_PG = """
CREATE TABLE IF NOT EXISTS events (
    station TEXT NOT NULL, seq BIGINT NOT NULL, id TEXT NOT NULL, ts TEXT NOT NULL, type TEXT NOT NULL,
    priority SMALLINT NOT NULL, body TEXT NOT NULL, received_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (station, seq)
);
CREATE INDEX IF NOT EXISTS events_type ON events (type, ts);
CREATE TABLE IF NOT EXISTS event_conflicts (
    station TEXT NOT NULL, seq BIGINT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
    received_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (station, seq, id)
);
CREATE TABLE IF NOT EXISTS stations (
    station TEXT PRIMARY KEY, state TEXT NOT NULL, counter BIGINT NOT NULL, status_ts TEXT NOT NULL,
    last_seen DOUBLE PRECISION NOT NULL, telemetry JSONB, telemetry_ts TEXT
);
"""

EVENTS = [
    wire.Event(
        id=wire.new_event_id(),
        station="ST-OLD",
        seq=s,
        ts="2026-11-23T07:00:00.000Z",
        type="demo.tick",
        priority=wire.Priority.INFO,
        data={"n": s},
    )
    for s in (1, 2, 3)
]
OLD_ROWS: list[tuple[Any, ...]] = [
    ("ST-OLD", "online", 17, "2026-11-23T07:00:00.000Z", 1_800_000_000.0, '{"outbox": {"depth": 0}}', "t"),
    ("ST-GONE", "offline", 5, "2026-11-22T07:00:00.000Z", 1_700_000_000.0, None, None),
]


def old_database(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database as the previous hub left it: its schema, events, a conflict and two stations."""
    event_rows = [(e.station, e.seq, e.id, e.ts, e.type, 1, wire.encode(e).decode(), 1.0) for e in EVENTS]
    if kind == "sqlite":
        path = tmp_path / "old.db"
        db = sqlite3.connect(path)
        db.executescript(OLD_SQLITE)
        db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", event_rows)
        db.execute("INSERT INTO event_conflicts VALUES ('ST-OLD', 2, 'other-id', '{}', 1.0)")
        db.executemany("INSERT INTO stations VALUES (?, ?, ?, ?, ?, ?, ?)", OLD_ROWS)
        db.commit()
        db.close()
        return f"sqlite:///{path}"
    import psycopg

    url: str = request.getfixturevalue("pg_db_url")
    with psycopg.connect(url) as con:
        con.execute(OLD_PG)
        with con.cursor() as cur:
            cur.executemany("INSERT INTO events VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", event_rows)
            cur.execute("INSERT INTO event_conflicts VALUES ('ST-OLD', 2, 'other-id', '{}', 1.0)")
            cur.executemany("INSERT INTO stations VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s)", OLD_ROWS)
    return url


def version_of(s: Store) -> int:
    if isinstance(s, SqliteStore):
        return int(s.db.execute("SELECT version FROM schema_version").fetchone()[0])
    assert isinstance(s, PostgresStore)
    with s.conn.transaction(), s.conn.cursor() as cur:
        cur.execute("SELECT version FROM schema_version")
        row = cur.fetchone()
        assert row is not None
        return int(row[0])


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_schema_that_shipped_before_is_upgraded_with_its_data(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = old_database(kind, tmp_path, request)
    s = open_store(url)
    try:
        assert version_of(s) == LATEST
        assert [wire.decode_event(b) for b in s.export()] == EVENTS
        rows = {r.station: r for r in s.stations()}
        assert (rows["ST-OLD"].state, rows["ST-OLD"].counter, rows["ST-OLD"].events) == ("online", 17, 3)
        assert rows["ST-OLD"].telemetry == {"outbox": {"depth": 0}}
        assert (rows["ST-OLD"].liveness, rows["ST-OLD"].last_heard) == ("online", 1_800_000_000.0)
        assert rows["ST-GONE"].liveness == "offline"
        assert rows["ST-OLD"].dead_letters == 0
        assert rows["ST-GONE"].events == 0
        if isinstance(s, PostgresStore):  # v4: the text bodies became JSONB, every event kept
            with s.conn.transaction(), s.conn.cursor() as cur:
                cur.execute("SELECT DISTINCT pg_typeof(body)::text, COUNT(*) OVER () FROM events")
                assert cur.fetchall() == [("jsonb", 3)]
        # The new tables and columns work on the upgraded database.
        assert s.apply_status("ST-OLD", wire.Status(state="online", counter=16, ts="t"), 1.9e9) == (False, None)
        res = s.store_events(EVENTS[:1], [wire.encode(EVENTS[0])])
        assert (res.stored, res.duplicates) == (0, 1)
    finally:
        s.close()
    again = open_store(url)  # a second start migrates nothing
    try:
        assert version_of(again) == LATEST
        assert len(list(again.export())) == 3
    finally:
        again.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_newer_schema_is_refused_and_left_untouched(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}" if kind == "sqlite" else str(request.getfixturevalue("pg_db_url"))
    s = open_store(url)
    if isinstance(s, SqliteStore):
        s.db.execute("UPDATE schema_version SET version = ?", (LATEST + 1,))
    else:
        assert isinstance(s, PostgresStore)
        with s.conn.transaction():
            s.conn.execute("UPDATE schema_version SET version = %s", (LATEST + 1,))
    s.close()
    with pytest.raises(SchemaTooNewError, match=f"schema version {LATEST + 1}, newer than this hub knows"):
        open_store(url)
    res = subprocess.run(
        [*PYTHON, "hub", "--db", url, "--broker", "mqtt://127.0.0.1:9"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 1
    assert "refusing to start" in res.stderr and "nothing was changed" in res.stderr
    if kind == "sqlite":
        con = sqlite3.connect(tmp_path / "hub.db")
        assert con.execute("SELECT version FROM schema_version").fetchone() == (LATEST + 1,)
        con.close()


def test_hubs_starting_together_migrate_once(pg_db_url: str) -> None:
    stores: list[Store] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            stores.append(open_store(pg_db_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert {version_of(s) for s in stores} == {LATEST}
    finally:
        for s in stores:
            s.close()
