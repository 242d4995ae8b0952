"""The hub's core tables (events, stations, dead letters, central commands, telemetry history, hub state):
their schema versions and the ordered migrations between them, on SQLite and PostgreSQL.

The core is one part of the database (`CORE`), migrated by the runner every part uses (hub/migrations.py):
at start-up, in order, in one transaction, under a lock (`BEGIN IMMEDIATE` on SQLite, an advisory lock on
PostgreSQL), so several hubs starting together migrate once. Version 1 is the schema that shipped before
versions were recorded (no `schema_version` table, an `events` table); its DDL is `IF NOT EXISTS`, so such
a database is adopted as version 1 and upgraded. A database whose version is newer than this code knows
is refused (`SchemaTooNewError`), and nothing in it is touched.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from hub.migrations import Part, migrate

if TYPE_CHECKING:
    import psycopg

__all__ = ["CORE", "LATEST", "PG_MIGRATIONS", "SQLITE_MIGRATIONS", "migrate_postgres", "migrate_sqlite"]

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

# v5: no periodic path counts or scans the events. Each station's row counts its stored events (kept in
# the transaction that stores them); indexes for the console's queries by time (the alarm feed, patrol
# check-ins, retention). Per station by time is the primary key: a station's seqs grow with its time.
_SQLITE_V5 = """
ALTER TABLE stations ADD COLUMN events INTEGER NOT NULL DEFAULT 0;
INSERT OR IGNORE INTO stations (station, state, counter, status_ts, last_seen)
    SELECT DISTINCT station, 'unknown', 0, '', 0 FROM events;
UPDATE stations SET events = (SELECT COUNT(*) FROM events e WHERE e.station = stations.station);
CREATE INDEX events_received ON events (received_at);
CREATE INDEX events_type_received ON events (type, received_at);
CREATE INDEX dead_letters_received ON dead_letters (received_at)
"""

SQLITE_MIGRATIONS: list[str] = [_SQLITE_V1, _SQLITE_V2, _SQLITE_V3, _SQLITE_V4, _SQLITE_V5]

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

# v5: as SQLite's v5, and event bodies become JSONB (what the hub stores is JSON it encoded itself; a
# rewrite of the table: on a large database plan the upgrade, see docs/operations.md). Conflicting copies
# stay TEXT, byte for byte as received.
_PG_V5 = """
ALTER TABLE events ALTER COLUMN body TYPE JSONB USING body::jsonb;
ALTER TABLE stations ADD COLUMN events BIGINT NOT NULL DEFAULT 0;
INSERT INTO stations (station, state, counter, status_ts, last_seen)
    SELECT DISTINCT station, 'unknown', 0, '', 0 FROM events ON CONFLICT DO NOTHING;
UPDATE stations s SET events = c.n FROM (SELECT station, COUNT(*) AS n FROM events GROUP BY station) c
    WHERE s.station = c.station;
CREATE INDEX events_received ON events (received_at);
CREATE INDEX events_type_received ON events (type, received_at);
CREATE INDEX dead_letters_received ON dead_letters (received_at)
"""

PG_MIGRATIONS: list[str] = [_PG_V1, _PG_V2, _PG_V3, _PG_V4, _PG_V5]

# The core keeps its version in `schema_version` (not a row of `schema_components`): the hubs that shipped
# before parts read it there, so an older hub still refuses a newer core instead of migrating it again.
CORE = Part("core", tuple(SQLITE_MIGRATIONS), postgres=tuple(PG_MIGRATIONS), in_schema_version=True)
LATEST = CORE.latest


def migrate_sqlite(db: sqlite3.Connection, where: str | None = None) -> int:
    """Bring an SQLite hub database's core to `LATEST`. Returns the version found before (0: none recorded)."""
    return migrate(db, [CORE], where=where)[CORE.name]


def migrate_postgres(conn: psycopg.Connection[Any], where: str | None = None) -> int:
    """Bring a PostgreSQL hub database's core to `LATEST`. Returns the version found before."""
    return migrate(conn, [CORE], where=where)[CORE.name]
