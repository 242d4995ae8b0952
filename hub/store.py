"""Central storage: SQLite (default, one machine) or PostgreSQL (by URL, psycopg 3).

Events are keyed by (station, seq): storing the same event twice stores it once. A different event
under a (station, seq) already taken (a station box replaced without its outbox) is kept in a
conflicts table and logged, never silently dropped. Every write is one transaction, committed (and
fsynced) before the caller acknowledges anything to a station.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from edge.wire.messages import Event, Status

__all__ = ["PostgresStore", "SqliteStore", "StationRow", "Store", "StoreResult", "open_store"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoreResult:
    acked: dict[str, list[int]]  # station -> seqs now safely stored (new or duplicate)
    stored: int
    duplicates: int
    conflicts: int


@dataclass(frozen=True, slots=True)
class StationRow:
    station: str
    state: str
    counter: int
    status_ts: str
    last_seen: float
    events: int
    telemetry: dict[str, Any] | None


class Store(Protocol):
    def store_events(self, events: list[Event], bodies: list[bytes]) -> StoreResult: ...
    def update_status(self, station: str, status: Status) -> bool: ...
    def update_telemetry(self, station: str, ts: str, body: bytes) -> None: ...
    def export(self, station: str | None = None) -> Iterator[bytes]: ...
    def stations(self) -> list[StationRow]: ...
    def close(self) -> None: ...


_SQLITE_SCHEMA = """
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


def _private(path: Path) -> None:
    """The database (and the WAL, which SQLite creates with the database's mode) 0640, whatever the umask."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o640))
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(p, 0o640)


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _private(self.path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA secure_delete=ON")  # deleted rows (personal data) are overwritten
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA busy_timeout=10000")
        self.db.executescript(_SQLITE_SCHEMA)

    def store_events(self, events: list[Event], bodies: list[bytes]) -> StoreResult:
        now = time.time()
        rows = [(e.station, e.seq, e.id, e.ts, e.type, int(e.priority), b.decode(), now)
                for e, b in zip(events, bodies)]
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            stored = db.total_changes - before
            conflicts = 0
            if stored < len(rows):
                for e, body in zip(events, bodies):
                    got = db.execute("SELECT id FROM events WHERE station=? AND seq=?", (e.station, e.seq)).fetchone()
                    if got is not None and got[0] != e.id:
                        conflicts += 1
                        db.execute("INSERT OR IGNORE INTO event_conflicts VALUES (?, ?, ?, ?, ?)",
                                   (e.station, e.seq, e.id, body.decode(), now))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        if conflicts:
            log.error("%d events reused a (station, seq) already stored with another id: kept in event_conflicts",
                      conflicts)
        return StoreResult(_acks(events), stored, len(rows) - stored - conflicts, conflicts)

    def update_status(self, station: str, status: Status) -> bool:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT counter FROM stations WHERE station=?", (station,)).fetchone()
            if row is not None and status.counter < row[0]:
                db.execute("ROLLBACK")
                return False
            db.execute(
                "INSERT INTO stations (station, state, counter, status_ts, last_seen) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(station) DO UPDATE SET state=excluded.state, counter=excluded.counter, "
                "status_ts=excluded.status_ts, last_seen=excluded.last_seen",
                (station, status.state, status.counter, status.ts, time.time()),
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return True

    def update_telemetry(self, station: str, ts: str, body: bytes) -> None:
        self.db.execute(
            "INSERT INTO stations (station, state, counter, status_ts, last_seen, telemetry, telemetry_ts) "
            "VALUES (?, 'unknown', 0, '', ?, ?, ?) ON CONFLICT(station) DO UPDATE SET "
            "telemetry=excluded.telemetry, telemetry_ts=excluded.telemetry_ts, last_seen=excluded.last_seen",
            (station, time.time(), body.decode(), ts),
        )

    def export(self, station: str | None = None) -> Iterator[bytes]:
        if station is None:
            cur = self.db.execute("SELECT body FROM events ORDER BY station, seq")
        else:
            cur = self.db.execute("SELECT body FROM events WHERE station=? ORDER BY seq", (station,))
        for (body,) in cur:
            yield body.encode()

    def stations(self) -> list[StationRow]:
        counts = dict(self.db.execute("SELECT station, COUNT(*) FROM events GROUP BY station").fetchall())
        out = []
        for st, state, counter, status_ts, last_seen, tele in self.db.execute(
            "SELECT station, state, counter, status_ts, last_seen, telemetry FROM stations ORDER BY station"
        ):
            out.append(StationRow(st, state, counter, status_ts, last_seen, counts.get(st, 0),
                                  json.loads(tele) if tele else None))
        return out

    def close(self) -> None:
        self.db.close()


_PG_SCHEMA = """
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


class PostgresStore:
    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=False)
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(727274)")  # several hubs may start together
            cur.execute(_PG_SCHEMA)

    def store_events(self, events: list[Event], bodies: list[bytes]) -> StoreResult:
        now = time.time()
        cols: list[list[Any]] = [[], [], [], [], [], [], []]
        for e, b in zip(events, bodies):
            for col, val in zip(cols, (e.station, e.seq, e.id, e.ts, e.type, int(e.priority), b.decode())):
                col.append(val)
        conflicts = 0
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO events (station, seq, id, ts, type, priority, body, received_at) "
                "SELECT s, q, i, t, ty, p, b, %s FROM unnest(%s::text[], %s::bigint[], %s::text[], "
                "%s::text[], %s::text[], %s::smallint[], %s::text[]) AS u(s, q, i, t, ty, p, b) "
                "ON CONFLICT (station, seq) DO NOTHING RETURNING station, seq",
                (now, *cols),
            )
            stored = len(cur.fetchall())
            if stored < len(events):
                cur.execute(
                    "SELECT e.station, e.seq, u.i, u.b FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::text[]) "
                    "AS u(s, q, i, b) JOIN events e ON e.station = u.s AND e.seq = u.q WHERE e.id <> u.i",
                    (cols[0], cols[1], cols[2], cols[6]),
                )
                for st, seq, eid, body in cur.fetchall():
                    conflicts += 1
                    cur.execute(
                        "INSERT INTO event_conflicts VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                        (st, seq, eid, body, now),
                    )
        if conflicts:
            log.error("%d events reused a (station, seq) already stored with another id: kept in event_conflicts",
                      conflicts)
        return StoreResult(_acks(events), stored, len(events) - stored - conflicts, conflicts)

    def update_status(self, station: str, status: Status) -> bool:
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO stations (station, state, counter, status_ts, last_seen) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (station) DO UPDATE SET state=excluded.state, counter=excluded.counter, "
                "status_ts=excluded.status_ts, last_seen=excluded.last_seen "
                "WHERE stations.counter <= excluded.counter RETURNING station",
                (station, status.state, status.counter, status.ts, time.time()),
            )
            return cur.fetchone() is not None

    def update_telemetry(self, station: str, ts: str, body: bytes) -> None:
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO stations (station, state, counter, status_ts, last_seen, telemetry, telemetry_ts) "
                "VALUES (%s, 'unknown', 0, '', %s, %s::jsonb, %s) ON CONFLICT (station) DO UPDATE SET "
                "telemetry=excluded.telemetry, telemetry_ts=excluded.telemetry_ts, last_seen=excluded.last_seen",
                (station, time.time(), body.decode(), ts),
            )

    def export(self, station: str | None = None) -> Iterator[bytes]:
        with self.conn.transaction(), self.conn.cursor() as cur:
            if station is None:
                cur.execute("SELECT body FROM events ORDER BY station, seq")
            else:
                cur.execute("SELECT body FROM events WHERE station=%s ORDER BY seq", (station,))
            rows = cur.fetchall()
        for (body,) in rows:
            yield str(body).encode()

    def stations(self) -> list[StationRow]:
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("SELECT station, COUNT(*) FROM events GROUP BY station")
            counts: dict[str, int] = dict(cur.fetchall())
            cur.execute(
                "SELECT station, state, counter, status_ts, last_seen, telemetry FROM stations ORDER BY station")
            rows = cur.fetchall()
        return [StationRow(st, state, counter, ts, last, counts.get(st, 0), tele)
                for st, state, counter, ts, last, tele in rows]

    def close(self) -> None:
        self.conn.close()


def _acks(events: list[Event]) -> dict[str, list[int]]:
    acked: dict[str, list[int]] = {}
    for e in events:
        acked.setdefault(e.station, []).append(e.seq)
    return acked


def sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise ValueError(f"SQLite URLs look like sqlite:////abs/path.db or sqlite:///rel/path.db, got {url!r}")
    return Path(url.removeprefix("sqlite:///"))


def open_store(url: str) -> Store:
    """`sqlite:////abs/path.db` or `sqlite:///relative.db` (as SQLAlchemy spells them), a plain path,
    or `postgresql://...`."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url)
    if url.startswith("sqlite:"):
        return SqliteStore(sqlite_path(url))
    if "://" in url:
        raise ValueError(f"database URL must be sqlite:///PATH or postgresql://..., got {url!r}")
    return SqliteStore(Path(url))
