"""Schema versions of every part of the hub's database (hub/migrations.py, hub/parts.py), on SQLite and a
real PostgreSQL: a new database, the upgrade from the tables the release before parts left (their DDL copied
here verbatim, a row in every table), the refusal of a newer part, and processes migrating together.

The core's own upgrade path (v1 to v5) is tests/hub/test_schema.py."""

from __future__ import annotations

import hashlib
import re
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from hub.migrations import Part, versions
from hub.parts import PARTS, migrate_parts
from hub.schema import CORE
from hub.store import SchemaTooNewError, open_store
from hub.web.console import prepare_database
from hub.web.db import Db
from tests.support.procs import PYTHON

# The tables of every part as the release before parts created them (main at 47d7ed7: each module's
# SCHEMA, hub/kiosk_db.py's _TABLES), verbatim, in the order that release created them. Not imported from
# the modules on purpose: the test must keep failing if a shipped version 1 is edited.
OLD_PARTS = """
-- hub/kiosk_db.py (_TABLES)
CREATE TABLE IF NOT EXISTS kiosk_answers (
    station TEXT NOT NULL, request_id TEXT NOT NULL, kind TEXT NOT NULL, answer TEXT NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (station, request_id));
CREATE TABLE IF NOT EXISTS kiosk_station_slots (
    station TEXT NOT NULL, category TEXT NOT NULL, day TEXT NOT NULL, start TEXT NOT NULL, period TEXT NOT NULL,
    capacity INTEGER NOT NULL, taken INTEGER NOT NULL, PRIMARY KEY (station, category, day, start));
CREATE TABLE IF NOT EXISTS kiosk_booking_holders (
    category TEXT NOT NULL, person TEXT NOT NULL, day TEXT NOT NULL, station TEXT NOT NULL,
    request_id TEXT NOT NULL, PRIMARY KEY (category, person, day));
CREATE TABLE IF NOT EXISTS kiosk_bookings (
    station TEXT NOT NULL, request_id TEXT NOT NULL, category TEXT NOT NULL, day TEXT NOT NULL,
    start TEXT NOT NULL, ref TEXT NOT NULL, fields TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (station, request_id));
CREATE TABLE IF NOT EXISTS kiosk_tickets (
    station TEXT NOT NULL, day TEXT NOT NULL, queue TEXT NOT NULL, last INTEGER NOT NULL,
    PRIMARY KEY (station, day, queue));
CREATE TABLE IF NOT EXISTS kiosk_vehicle_owners (
    plate TEXT PRIMARY KEY, owner TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kiosk_traffic (
    plate TEXT NOT NULL, day TEXT NOT NULL, place TEXT NOT NULL, what_zh TEXT NOT NULL, what_en TEXT NOT NULL,
    points INTEGER NOT NULL, fine INTEGER NOT NULL, handled INTEGER NOT NULL, PRIMARY KEY (plate, day, place));
-- hub/web/accounts.py (SCHEMA)
CREATE TABLE IF NOT EXISTS console_users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, district TEXT NOT NULL, pw TEXT NOT NULL,
    failures INTEGER NOT NULL, locked_until DOUBLE PRECISION NOT NULL, created DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS console_tokens (
    digest TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, district TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS console_sessions (
    digest TEXT PRIMARY KEY, user_name TEXT NOT NULL, csrf TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS console_audit (
    at DOUBLE PRECISION NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_audit_at ON console_audit (at);
-- hub/web/queries.py (SCHEMA)
CREATE TABLE IF NOT EXISTS console_incidents (
    station TEXT NOT NULL, incident_id TEXT NOT NULL, rev INTEGER NOT NULL, state TEXT NOT NULL,
    raised_at DOUBLE PRECISION NOT NULL, updated DOUBLE PRECISION NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (station, incident_id)
);
CREATE INDEX IF NOT EXISTS console_incidents_state ON console_incidents (state, raised_at);
CREATE TABLE IF NOT EXISTS console_seen (
    station TEXT NOT NULL, incident_id TEXT NOT NULL, escalations INTEGER NOT NULL, by_name TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL, PRIMARY KEY (station, incident_id)
);
CREATE TABLE IF NOT EXISTS console_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS console_events_received ON events (received_at);
-- hub/web/response_times.py (SCHEMA)
CREATE TABLE IF NOT EXISTS console_response (
    station TEXT NOT NULL, incident_id TEXT NOT NULL, rev INTEGER NOT NULL, kind TEXT NOT NULL,
    raised_at DOUBLE PRECISION NOT NULL, respond_s DOUBLE PRECISION, arrive_s DOUBLE PRECISION,
    close_s DOUBLE PRECISION, respond_ok INTEGER, arrive_ok INTEGER, resolve_ok INTEGER,
    PRIMARY KEY (station, incident_id)
);
CREATE INDEX IF NOT EXISTS console_response_by_time ON console_response (
    raised_at, station, kind, respond_s, arrive_s, close_s, respond_ok, arrive_ok, resolve_ok
);
-- hub/web/pushlog.py (SCHEMA)
CREATE TABLE IF NOT EXISTS console_pushes (
    id TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL, by_name TEXT NOT NULL, name TEXT NOT NULL,
    scope TEXT NOT NULL, detail TEXT NOT NULL, row_ids TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_pushes_at ON console_pushes (name, at);
-- hub/web/watchlist.py (SCHEMA)
CREATE TABLE IF NOT EXISTS console_watchlist (
    id TEXT PRIMARY KEY, plate TEXT NOT NULL, reason TEXT NOT NULL, priority INTEGER NOT NULL,
    scope TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL, added_by TEXT NOT NULL,
    added_at DOUBLE PRECISION NOT NULL, removed_by TEXT NOT NULL, removed_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS console_watchlist_live ON console_watchlist (removed_at, plate);
-- hub/web/notices.py (SCHEMA)
CREATE TABLE IF NOT EXISTS console_notices (
    id TEXT PRIMARY KEY, scope TEXT NOT NULL, kind TEXT NOT NULL, title_zh TEXT NOT NULL, title_en TEXT NOT NULL,
    body_zh TEXT NOT NULL, body_en TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL,
    created DOUBLE PRECISION NOT NULL, created_by TEXT NOT NULL, withdrawn_by TEXT NOT NULL,
    withdrawn_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS console_notices_live ON console_notices (withdrawn_at, created);
-- hub/web/plate_hits.py (SCHEMA)
CREATE TABLE IF NOT EXISTS console_plate_hits (
    station TEXT NOT NULL, seq BIGINT NOT NULL, event_id TEXT NOT NULL, seen_at DOUBLE PRECISION NOT NULL,
    received_at DOUBLE PRECISION NOT NULL, camera TEXT NOT NULL, camera_name TEXT NOT NULL, plate TEXT NOT NULL,
    listed_plate TEXT NOT NULL, reason TEXT NOT NULL, priority INTEGER NOT NULL, distance DOUBLE PRECISION NOT NULL,
    confidence DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL, snapshot INTEGER NOT NULL, crop INTEGER NOT NULL,
    privacy TEXT NOT NULL, PRIMARY KEY (station, seq)
);
CREATE INDEX IF NOT EXISTS console_plate_hits_seen ON console_plate_hits (seen_at);
-- hub/web/patrol.py (SCHEMA)
CREATE TABLE IF NOT EXISTS patrol_members (
    id_hash TEXT PRIMARY KEY, display_name TEXT NOT NULL, role TEXT NOT NULL, id_masked TEXT NOT NULL,
    code_hash TEXT NOT NULL, active INTEGER NOT NULL, created DOUBLE PRECISION NOT NULL, created_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS patrol_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS patrol_checkins (
    station TEXT NOT NULL, seq BIGINT NOT NULL, at DOUBLE PRECISION NOT NULL, day TEXT NOT NULL,
    id_hash TEXT NOT NULL, display_name TEXT NOT NULL, role TEXT NOT NULL, method TEXT NOT NULL,
    PRIMARY KEY (station, seq)
);
CREATE INDEX IF NOT EXISTS patrol_checkins_day ON patrol_checkins (day);
-- hub/web/orders.py (SCHEMA)
CREATE TABLE IF NOT EXISTS console_orders (
    ticket TEXT PRIMARY KEY, station TEXT NOT NULL, seq BIGINT NOT NULL, district TEXT NOT NULL,
    state TEXT NOT NULL, triage TEXT NOT NULL, officer TEXT NOT NULL, rev BIGINT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_orders_state ON console_orders (state, created_at);
CREATE INDEX IF NOT EXISTS console_orders_station ON console_orders (station, created_at);
CREATE TABLE IF NOT EXISTS console_order_waiting (
    change_id TEXT PRIMARY KEY, ticket TEXT NOT NULL, station TEXT NOT NULL, seq BIGINT NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_order_waiting_ticket ON console_order_waiting (ticket, station, seq);
-- hub/bulletin_desk.py (SCHEMA)
CREATE TABLE IF NOT EXISTS console_bulletins (
    week TEXT NOT NULL, area TEXT NOT NULL, summary_zh TEXT NOT NULL, summary_en TEXT NOT NULL,
    tip_zh TEXT NOT NULL, tip_en TEXT NOT NULL, edited_by TEXT NOT NULL, edited_at DOUBLE PRECISION NOT NULL,
    pushed_by TEXT NOT NULL, pushed_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (week, area)
);
CREATE TABLE IF NOT EXISTS console_bulletin_runs (week TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL);
"""
OLD_TABLES = re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", OLD_PARTS)

# sha256 of each shipped migration (SQLite and PostgreSQL text), per part: a shipped migration is never
# edited, a change is a new entry. A version that never left this repository in a release may be re-pinned.
SHIPPED = {
    "core": ["00d7fb2da714ad04", "1f81be869ae61c39", "0edf8e0f79f8406b", "0c17cb60222b2e3d", "e5e10f37e345ee58"],
    "kiosk": ["aa59844757e07cd8"],
    "accounts": ["f67d376b7d9dfe2a"],
    "incidents": ["9371bc58a33f11bf"],
    "response_times": ["ebd35a61c608c511"],
    "pushes": ["8470e64ea9f1e646"],
    "watchlist": ["0205e2e1fb000f27"],
    "notices": ["04c9861cccb7688e"],
    "plate_hits": ["f1370e2b675f46c2"],
    "patrol": ["4352442ccd1e289c"],
    "orders": ["6c808d2d954a0771"],
    "bulletins": ["1920bebdbbd45082"],
}


def run_script(db: Db, sql: str) -> None:
    for statement in (s.strip() for s in sql.split(";")):
        if statement:
            db.run(statement)


def columns(db: Db, table: str) -> list[tuple[str, str]]:
    """(name, type) of each column, in order."""
    if db.pg:
        rows = db.rows(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
    else:
        rows = [(r[1], r[2]) for r in db.rows(f"PRAGMA table_info({table})")]
    return [(str(n), str(t).lower()) for n, t in rows]


def shape(db: Db) -> dict[str, Any]:
    """The database's tables with their columns, and its indexes: what a migration changes."""
    if db.pg:
        tables = [r[0] for r in db.rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        indexes = [r[0] for r in db.rows("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")]
    else:
        tables = [r[0] for r in db.rows("SELECT name FROM sqlite_master WHERE type = 'table'")]
        indexes = [r[0] for r in db.rows("SELECT name FROM sqlite_master WHERE type = 'index'")]
    return {"tables": {t: columns(db, t) for t in sorted(tables)}, "indexes": sorted(indexes)}


def contents(db: Db, tables: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    return {t: sorted(db.rows(f"SELECT * FROM {t}"), key=repr) for t in tables}


def a_row(db: Db, table: str) -> None:
    """One row of plausible values (a body that is JSON, as the console reads bodies)."""
    values: list[Any] = []
    for name, kind in columns(db, table):
        if name == "body":
            values.append("{}")
        elif "int" in kind:
            values.append(7)
        elif "double" in kind or "real" in kind:
            values.append(1.5)
        else:
            values.append(f"{table}.{name}")
    db.run(f"INSERT INTO {table} VALUES ({', '.join('?' * len(values))})", tuple(values))


def recorded(url: str) -> dict[str, int]:
    db = Db(url)
    try:
        return versions(db._pg if db.pg else db._lite, PARTS)
    finally:
        db.close()


LATEST = {part.name: part.latest for part in PARTS}


def test_every_part_is_listed_once_and_its_shipped_migrations_are_unchanged() -> None:
    assert [p.name for p in PARTS][0] == CORE.name  # parts may index core tables
    assert len({p.name for p in PARTS}) == len(PARTS)
    for part in PARTS:
        pinned = SHIPPED[part.name]
        got = [
            hashlib.sha256((m + "\0" + p).encode()).hexdigest()[:16]
            for m, p in zip(part.migrations, part.scripts(pg=True), strict=True)
        ]
        assert got[: len(pinned)] == pinned, f"part {part.name!r}: a shipped migration was edited; add a new one"
    # Every table the release before parts created belongs to a part now, in a version 1.
    declared = set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", "".join(p.migrations[0] for p in PARTS)))
    assert set(OLD_TABLES) <= declared


def test_a_new_database_has_every_part_at_its_latest_version(empty_db_url: str) -> None:
    url = empty_db_url
    prepare_database(url)
    assert recorded(url) == LATEST
    db = Db(url)
    try:
        rows = dict(db.rows("SELECT component, version FROM schema_components"))
        assert rows == {name: v for name, v in LATEST.items() if name != CORE.name}
        assert db.rows("SELECT version FROM schema_version") == [(CORE.latest,)]
        assert set(OLD_TABLES) <= set(shape(db)["tables"])
    finally:
        db.close()
    assert migrate_parts(url) == LATEST  # the next start finds every part done


def test_the_tables_the_release_before_left_are_adopted_with_their_rows(empty_db_url: str, tmp_path: Path) -> None:
    url = empty_db_url
    open_store(url).close()  # the core as that release left it (v5; its own upgrades: test_schema.py)
    db = Db(url)
    try:
        run_script(db, OLD_PARTS)
        for table in OLD_TABLES:
            a_row(db, table)
        before = contents(db, OLD_TABLES)
        assert "schema_components" not in shape(db)["tables"]
    finally:
        db.close()
    assert all(rows for rows in before.values())

    prepare_database(url)  # what the hub's start-up and the console run

    assert recorded(url) == LATEST
    db = Db(url)
    try:
        after = contents(db, OLD_TABLES)
        # every row kept as it was; a later version may add its own (the month cells' time zone in console_meta)
        assert {t: [r for r in rows if r in before[t]] for t, rows in after.items()} == before
        upgraded = shape(db)
    finally:
        db.close()
    if url.startswith("sqlite"):  # an adopted database has the shape of a new one
        new_url = f"sqlite:///{tmp_path / 'new.db'}"
        prepare_database(new_url)
        new = Db(new_url)
        try:
            assert shape(new) == upgraded
        finally:
            new.close()


def test_a_newer_part_is_refused_and_nothing_is_touched(console_db_url: str, tmp_path: Path) -> None:
    url = console_db_url
    db = Db(url)
    try:
        db.run("UPDATE schema_components SET version = ? WHERE component = 'patrol'", (LATEST["patrol"] + 1,))
        # What a migration would mend if it ran: a part with no version and a missing table.
        db.run("DELETE FROM schema_components WHERE component = 'kiosk'")
        db.run("DROP TABLE kiosk_tickets")
        before = shape(db), contents(db, ["schema_components", "schema_version"])
    finally:
        db.close()

    with pytest.raises(SchemaTooNewError) as refused:
        migrate_parts(url)
    message = str(refused.value)
    assert f"part 'patrol' has schema version {LATEST['patrol'] + 1}, newer than this hub knows" in message
    assert f"({LATEST['patrol']})" in message and "nothing was changed" in message
    assert (str(tmp_path / "hub.db") if url.startswith("sqlite") else "the PostgreSQL database") in message

    res = subprocess.run(
        [*PYTHON, "hub", "--db", url, "--broker", "mqtt://127.0.0.1:9"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 1, res.stderr
    assert "refusing to start" in res.stderr and "part 'patrol'" in res.stderr, res.stderr
    with pytest.raises(SchemaTooNewError, match="part 'patrol'"):
        prepare_database(url)  # the console, `hub user add`, `hub bulletin`

    db = Db(url)
    try:
        assert (shape(db), contents(db, ["schema_components", "schema_version"])) == before
    finally:
        db.close()


PROBE = Part(
    "probe",
    (
        "CREATE TABLE IF NOT EXISTS probe_runs (n INTEGER NOT NULL)",
        "INSERT INTO probe_runs VALUES (1)",  # not idempotent: run twice, it shows
        "CREATE TABLE probe_after (n INTEGER NOT NULL); INSERT INTO probe_after SELECT n + 1 FROM probe_runs",
    ),
)


def test_processes_starting_together_migrate_once(empty_db_url: str) -> None:
    url = empty_db_url
    open_store(url).close()
    n = 4
    barrier = threading.Barrier(n)
    found: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def start() -> None:
        db = Db(url)
        try:
            barrier.wait()
            found.append(db.migrate([*PARTS, PROBE]))
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=start) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(f["probe"] for f in found) == [0, 3, 3, 3]  # one migrated, the others found it done
    assert sorted(f["kiosk"] for f in found) == [0, 1, 1, 1]
    db = Db(url)
    try:
        assert db.rows("SELECT n FROM probe_runs") == [(1,)]
        assert db.rows("SELECT n FROM probe_after") == [(2,)]
    finally:
        db.close()
    assert recorded(url) == LATEST


def test_migrations_run_in_order_from_the_version_found_and_a_failure_changes_nothing(empty_db_url: str) -> None:
    url = empty_db_url
    open_store(url).close()
    db = Db(url)
    try:
        assert db.migrate([Part("probe", PROBE.migrations[:2])]) == {"probe": 0}
        broken = Part("probe", (*PROBE.migrations, "CREATE TABLE probe_bad (n INTEGER NOT NULL); SELECT nothing"))
        with pytest.raises(Exception, match="nothing"):
            db.migrate([broken])
        assert db.rows("SELECT version FROM schema_components WHERE component = 'probe'") == [(2,)]
        assert "probe_after" not in shape(db)["tables"] and "probe_bad" not in shape(db)["tables"]
        assert db.migrate([PROBE]) == {"probe": 2}  # v3 only: v2's insert is not repeated
        assert db.rows("SELECT n FROM probe_runs") == [(1,)]
        assert db.rows("SELECT n FROM probe_after") == [(2,)]
    finally:
        db.close()


def test_a_part_must_say_the_same_number_of_versions_on_both_engines() -> None:
    with pytest.raises(ValueError, match="PostgreSQL migrations"):
        Part("x", ("A", "B"), postgres=("A",))
    with pytest.raises(ValueError, match="no migrations"):
        Part("x", ())
