"""Versions of the hub's database schema and the ordered migrations between them.

Version 1 is the schema that shipped before versions were recorded (no `schema_version` table, an
`events` table): a database in that state is taken as version 1 and upgraded. Migrations run at
start-up, in order, in one transaction, under a lock (`BEGIN IMMEDIATE` on SQLite, an advisory lock
on PostgreSQL), so several hubs starting together migrate once. A database whose version is newer
than this code knows is refused (`SchemaTooNewError`), and nothing in it is touched.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from hub.store_base import SchemaTooNewError

__all__ = ["LATEST", "PG_MIGRATIONS", "SQLITE_MIGRATIONS", "migrate_postgres", "migrate_sqlite"]

PG_LOCK_KEY = 727274

# ---- SQLite --------------------------------------------------------------------------------------
_SQLITE_V1 = """
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
)
"""

_SQLITE_V2 = """
CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT, received_at REAL NOT NULL, topic TEXT NOT NULL, station TEXT NOT NULL,
    size INTEGER NOT NULL, reason TEXT NOT NULL, payload BLOB NOT NULL
);
CREATE INDEX dead_letters_by_station ON dead_letters (station, received_at);
ALTER TABLE stations ADD COLUMN dead_letters INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stations ADD COLUMN last_heard REAL NOT NULL DEFAULT 0;
ALTER TABLE stations ADD COLUMN liveness TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE stations ADD COLUMN liveness_since REAL NOT NULL DEFAULT 0;
UPDATE stations SET last_heard = last_seen, liveness_since = last_seen,
    liveness = CASE state WHEN 'offline' THEN 'offline' ELSE 'online' END
"""

_SQLITE_V3 = """
CREATE TABLE central_commands (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, target TEXT NOT NULL, name TEXT NOT NULL,
    args TEXT NOT NULL, lifetime REAL NOT NULL, retain INTEGER NOT NULL, supersede TEXT NOT NULL,
    state TEXT NOT NULL, published_at REAL, attempts INTEGER NOT NULL, error TEXT NOT NULL
);
CREATE INDEX central_commands_due ON central_commands (state, id);
CREATE INDEX central_commands_by_target ON central_commands (target, id)
"""

_SQLITE_V4 = """
CREATE TABLE telemetry_history (
    station TEXT NOT NULL, ts REAL NOT NULL, outbox_depth INTEGER NOT NULL, link TEXT NOT NULL,
    load1 REAL NOT NULL, disk_free_mb REAL NOT NULL, mem_available_mb REAL NOT NULL, cameras TEXT NOT NULL,
    PRIMARY KEY (station, ts)
) WITHOUT ROWID;
CREATE TABLE hub_state (name TEXT PRIMARY KEY, value TEXT NOT NULL, since REAL NOT NULL)
"""

SQLITE_MIGRATIONS: list[str] = [_SQLITE_V1, _SQLITE_V2, _SQLITE_V3, _SQLITE_V4]

# ---- PostgreSQL ----------------------------------------------------------------------------------
_PG_V1 = """
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
)
"""

_PG_V2 = """
CREATE TABLE dead_letters (
    id BIGSERIAL PRIMARY KEY, received_at DOUBLE PRECISION NOT NULL, topic TEXT NOT NULL, station TEXT NOT NULL,
    size INTEGER NOT NULL, reason TEXT NOT NULL, payload BYTEA NOT NULL
);
CREATE INDEX dead_letters_by_station ON dead_letters (station, received_at);
ALTER TABLE stations ADD COLUMN dead_letters BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stations ADD COLUMN last_heard DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE stations ADD COLUMN liveness TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE stations ADD COLUMN liveness_since DOUBLE PRECISION NOT NULL DEFAULT 0;
UPDATE stations SET last_heard = last_seen, liveness_since = last_seen,
    liveness = CASE state WHEN 'offline' THEN 'offline' ELSE 'online' END
"""

_PG_V3 = """
CREATE TABLE central_commands (
    id BIGSERIAL PRIMARY KEY, created DOUBLE PRECISION NOT NULL, target TEXT NOT NULL, name TEXT NOT NULL,
    args TEXT NOT NULL, lifetime DOUBLE PRECISION NOT NULL, retain SMALLINT NOT NULL, supersede TEXT NOT NULL,
    state TEXT NOT NULL, published_at DOUBLE PRECISION, attempts INTEGER NOT NULL, error TEXT NOT NULL
);
CREATE INDEX central_commands_due ON central_commands (state, id);
CREATE INDEX central_commands_by_target ON central_commands (target, id)
"""

# v4: station telemetry over time (hub/telemetry_history.py), keyed (station, ts): the key is the index the
# station page reads and the purge deletes by; and the hub's own state the console shows (mass outage).
_PG_V4 = """
CREATE TABLE telemetry_history (
    station TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL, outbox_depth INTEGER NOT NULL, link TEXT NOT NULL,
    load1 REAL NOT NULL, disk_free_mb REAL NOT NULL, mem_available_mb REAL NOT NULL, cameras TEXT NOT NULL,
    PRIMARY KEY (station, ts)
);
CREATE TABLE hub_state (name TEXT PRIMARY KEY, value TEXT NOT NULL, since DOUBLE PRECISION NOT NULL)
"""

PG_MIGRATIONS: list[str] = [_PG_V1, _PG_V2, _PG_V3, _PG_V4]

LATEST = len(SQLITE_MIGRATIONS)
assert len(PG_MIGRATIONS) == LATEST


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _refuse(found: int, where: str) -> None:
    raise SchemaTooNewError(
        f"{where} has schema version {found}, newer than this hub knows ({LATEST}): "
        "run the newer hub, or restore a backup made for this version; nothing was changed"
    )


def migrate_sqlite(db: sqlite3.Connection, where: str = "the database") -> int:
    """Bring an SQLite hub database to `LATEST`. Returns the version found before."""
    db.execute("BEGIN IMMEDIATE")
    try:
        found = _sqlite_version(db)
        if found > LATEST:
            _refuse(found, where)
        if found < LATEST:
            if found == 0 or not _sqlite_has(db, "schema_version"):
                db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                db.execute("DELETE FROM schema_version")
                db.execute("INSERT INTO schema_version VALUES (0)")
            for version in range(found + 1, LATEST + 1):
                for stmt in _statements(SQLITE_MIGRATIONS[version - 1]):
                    db.execute(stmt)
                db.execute("UPDATE schema_version SET version = ?", (version,))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return found


def _sqlite_has(db: sqlite3.Connection, table: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone() is not None


def _sqlite_version(db: sqlite3.Connection) -> int:
    if _sqlite_has(db, "schema_version"):
        row = db.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row else 0
    return 1 if _sqlite_has(db, "events") else 0


def migrate_postgres(conn: Any, where: str = "the database") -> int:
    """Bring a PostgreSQL hub database to `LATEST` (psycopg 3 connection). Returns the version found."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))  # several hubs may start together
        cur.execute("SELECT to_regclass('schema_version') IS NOT NULL, to_regclass('events') IS NOT NULL")
        has_version, has_events = cur.fetchone()
        if has_version:
            cur.execute("SELECT version FROM schema_version")
            row = cur.fetchone()
            found = int(row[0]) if row else 0
        else:
            found = 1 if has_events else 0
        if found > LATEST:
            _refuse(found, where)
        if found < LATEST:
            if not has_version:
                cur.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                cur.execute("INSERT INTO schema_version VALUES (0)")
            for version in range(found + 1, LATEST + 1):
                for stmt in _statements(PG_MIGRATIONS[version - 1]):
                    cur.execute(stmt)
                cur.execute("UPDATE schema_version SET version = %s", (version,))
    return found
