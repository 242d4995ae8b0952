"""The kiosk reference services' tables, on SQLite or PostgreSQL, behind one small adapter.

`KioskDb(store)` runs `?`-style SQL on either store's connection inside one transaction
(`BEGIN IMMEDIATE` on SQLite, a psycopg transaction on PostgreSQL). The first time a connection is used
it migrates the `kiosk` part (`PART`, hub/migrations.py; the hub's start-up has usually done so already)
and seeds the demo traffic data.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import weakref
from collections.abc import Iterator
from typing import Any, Final

from hub.migrations import Part, migrate
from hub.store import PostgresStore, SqliteStore, Store

__all__ = ["PART", "KioskDb", "owner_key"]


def owner_key(id_number: str) -> str:
    """How central keeps an ID number it only needs to compare (a vehicle's owner, a booking's holder)."""
    return hashlib.sha256(f"pk-person:{id_number.strip().upper()}".encode()).hexdigest()


# Version 1: the tables as they shipped before versions were recorded. Never edit a shipped version:
# a change is a new entry at the end of PART (hub/migrations.py).
_V1: Final = """
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
"""
PART: Final = Part("kiosk", (_V1,))

# Demo data for the traffic-matters lookup (the reference implementation; a real one asks the traffic police).
_TRAFFIC = [
    ("粤B12345", "2026-03-02", "深南大道华强路口", "闯红灯", "Ran a red light", 6, 200, 0),
    ("粤B12345", "2026-04-18", "滨河大道", "超速 20% 以下", "Speeding (under 20%)", 3, 200, 0),
    ("粤BD12345", "2026-02-11", "福华路", "违法停车", "Illegal parking", 0, 150, 1),
]

# Demo registrations: plate -> the owner's ID number as `kiosk_services.person_key` stores it (a hash).
_OWNERS = [("粤B12345", "11010519491231002X"), ("粤BD12345", "440304198001011239")]

_ready: weakref.WeakSet[Any] = weakref.WeakSet()


class KioskDb:
    def __init__(self, store: Store) -> None:
        if isinstance(store, SqliteStore):
            self._sqlite: sqlite3.Connection | None = store.db
            self._pg: Any = None
        elif isinstance(store, PostgresStore):
            self._sqlite, self._pg = None, store.conn
        else:
            raise TypeError(f"the kiosk services need a SQLite or PostgreSQL store, not {type(store).__name__}")
        self._cur: Any = None
        if store not in _ready:
            self._create()
            _ready.add(store)

    def migrate(self, *parts: Part) -> None:
        """Bring these parts of the database to their latest version (outside a transaction)."""
        migrate(self._sqlite if self._sqlite is not None else self._pg, parts)

    def _create(self) -> None:
        self.migrate(PART)
        with self.transaction():
            if self._pg is not None:
                self.execute("SELECT pg_advisory_xact_lock(727275)")  # several workers and hubs start together
            if self.one("SELECT COUNT(*) FROM kiosk_traffic")[0] == 0:
                for row in _TRAFFIC:
                    self.execute("INSERT INTO kiosk_traffic VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            if self.one("SELECT COUNT(*) FROM kiosk_vehicle_owners")[0] == 0:
                for plate, id_number in _OWNERS:
                    self.execute("INSERT INTO kiosk_vehicle_owners VALUES (?, ?)", (plate, owner_key(id_number)))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._sqlite is not None:
            db = self._sqlite
            db.execute("BEGIN IMMEDIATE")
            self._cur = db
            try:
                yield
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            finally:
                self._cur = None
            return
        with self._pg.transaction(), self._pg.cursor() as cur:
            self._cur = cur
            try:
                yield
            finally:
                self._cur = None

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        if self._cur is None:
            raise RuntimeError("KioskDb.execute outside a transaction")
        if self._pg is not None:
            sql = sql.replace("?", "%s")
        cur = self._cur.execute(sql, params)
        return cur if self._sqlite is not None else self._cur

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return list(self.execute(sql, params).fetchall())
