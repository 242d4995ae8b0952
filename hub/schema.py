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

# v6: telemetry kept for years (hub/telemetry_history.py): every report's narrow row in `telemetry_raw` (kept a
# few days) and one row per station per minute in `telemetry_minute` (kept a year). The v4 rows (at most one a
# minute) become the raw table as they are (a rename) and each also one minute row (n = 1; the frame rate from
# the counters of the row before it, as the station page drew it).
_SQLITE_V6 = """
ALTER TABLE telemetry_history RENAME TO telemetry_raw;
CREATE TABLE telemetry_minute (
    station TEXT NOT NULL, ts REAL NOT NULL, n INTEGER NOT NULL,
    outbox_min INTEGER NOT NULL, outbox_sum INTEGER NOT NULL, outbox_max INTEGER NOT NULL,
    load_min REAL NOT NULL, load_sum REAL NOT NULL, load_max REAL NOT NULL,
    disk_min REAL NOT NULL, disk_sum REAL NOT NULL, disk_max REAL NOT NULL,
    mem_min REAL NOT NULL, mem_sum REAL NOT NULL, mem_max REAL NOT NULL,
    link TEXT NOT NULL, link_up INTEGER NOT NULL, cameras TEXT NOT NULL,
    PRIMARY KEY (station, ts)
) WITHOUT ROWID;
WITH c AS (
    SELECT h.station, h.ts, e.key AS cam, e.value AS v,
        json_extract(e.value, '$[0]') - LAG(json_extract(e.value, '$[0]')) OVER w AS df,
        h.ts - LAG(h.ts) OVER w AS dt
    FROM telemetry_raw h, json_each(h.cameras) e
    WINDOW w AS (PARTITION BY h.station, e.key ORDER BY h.ts)
), cams AS (
    SELECT station, ts, json_group_object(cam, json_array(
        CASE WHEN df >= 0 AND dt <= 180 THEN df ELSE 0 END, CASE WHEN df >= 0 AND dt <= 180 THEN dt ELSE 0 END,
        json_extract(v, '$[1]'), COALESCE(json_extract(v, '$[2]'), 0), 1)) AS j
    FROM c GROUP BY station, ts
)
INSERT OR IGNORE INTO telemetry_minute
    SELECT h.station, CAST(h.ts / 60 AS INTEGER) * 60.0, 1, h.outbox_depth, h.outbox_depth, h.outbox_depth,
        h.load1, h.load1, h.load1, h.disk_free_mb, h.disk_free_mb, h.disk_free_mb,
        h.mem_available_mb, h.mem_available_mb, h.mem_available_mb, h.link,
        CASE WHEN h.link = 'connected' THEN 1 ELSE 0 END, COALESCE(cams.j, '{}')
    FROM telemetry_raw h LEFT JOIN cams ON cams.station = h.station AND cams.ts = h.ts
"""

SQLITE_MIGRATIONS: list[str] = [_SQLITE_V1, _SQLITE_V2, _SQLITE_V3, _SQLITE_V4, _SQLITE_V5, _SQLITE_V6]

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

# v6: as SQLite's v6, both tables partitioned by range of `ts` (the hub's time, epoch seconds): raw by day,
# minutes by month (hub/pg_partitions.py creates them ahead and drops them whole past the retention). The
# DEFAULT partitions take any row no partition covers yet, so an insert never fails; the hub's upkeep moves
# such rows into their partition when it creates it. The v4 rows go into the new tables (the default
# partitions, moved out by the first upkeep): all of them as minute rows, and the last 3 days' as raw rows.
_PG_V6 = """
CREATE TABLE telemetry_raw (
    station TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL, outbox_depth INTEGER NOT NULL, link TEXT NOT NULL,
    load1 REAL NOT NULL, disk_free_mb REAL NOT NULL, mem_available_mb REAL NOT NULL, cameras TEXT NOT NULL,
    PRIMARY KEY (station, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE telemetry_raw_default PARTITION OF telemetry_raw DEFAULT;
CREATE TABLE telemetry_minute (
    station TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL, n INTEGER NOT NULL,
    outbox_min INTEGER NOT NULL, outbox_sum BIGINT NOT NULL, outbox_max INTEGER NOT NULL,
    load_min REAL NOT NULL, load_sum REAL NOT NULL, load_max REAL NOT NULL,
    disk_min REAL NOT NULL, disk_sum DOUBLE PRECISION NOT NULL, disk_max REAL NOT NULL,
    mem_min REAL NOT NULL, mem_sum DOUBLE PRECISION NOT NULL, mem_max REAL NOT NULL,
    link TEXT NOT NULL, link_up INTEGER NOT NULL, cameras TEXT NOT NULL,
    PRIMARY KEY (station, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE telemetry_minute_default PARTITION OF telemetry_minute DEFAULT;
INSERT INTO telemetry_raw SELECT * FROM telemetry_history
    WHERE ts >= (SELECT MAX(ts) FROM telemetry_history) - 3 * 86400;
WITH c AS (
    SELECT h.station, h.ts, e.key AS cam, e.value AS v,
        (e.value->>0)::float8 - LAG((e.value->>0)::float8) OVER w AS df, h.ts - LAG(h.ts) OVER w AS dt
    FROM telemetry_history h, jsonb_each(h.cameras::jsonb) e
    WINDOW w AS (PARTITION BY h.station, e.key ORDER BY h.ts)
), cams AS (
    SELECT station, ts, jsonb_object_agg(cam, jsonb_build_array(
        CASE WHEN df >= 0 AND dt <= 180 THEN df ELSE 0 END, CASE WHEN df >= 0 AND dt <= 180 THEN dt ELSE 0 END,
        v->1, COALESCE((v->>2)::int, 0), 1)) AS j
    FROM c GROUP BY station, ts
)
INSERT INTO telemetry_minute
    SELECT h.station, floor(h.ts / 60) * 60, 1, h.outbox_depth, h.outbox_depth, h.outbox_depth,
        h.load1, h.load1, h.load1, h.disk_free_mb, h.disk_free_mb, h.disk_free_mb,
        h.mem_available_mb, h.mem_available_mb, h.mem_available_mb, h.link,
        CASE WHEN h.link = 'connected' THEN 1 ELSE 0 END, COALESCE(cams.j::text, '{}')
    FROM telemetry_history h LEFT JOIN cams ON cams.station = h.station AND cams.ts = h.ts
    ON CONFLICT DO NOTHING;
DROP TABLE telemetry_history
"""

PG_MIGRATIONS: list[str] = [_PG_V1, _PG_V2, _PG_V3, _PG_V4, _PG_V5, _PG_V6]

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
