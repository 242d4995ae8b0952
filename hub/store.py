"""Central storage: SQLite (default, one machine) or PostgreSQL (by URL, psycopg 3).

Events are keyed by (station, seq): storing the same event twice stores it once. A different event
under a (station, seq) already taken (a station box replaced without its outbox) is kept in a
conflicts table and logged, never silently dropped. Every write is one transaction, committed (and
fsynced) before the caller acknowledges anything to a station. What the hub cannot store as what it
claims to be goes to the dead-letter table. The schema is versioned and migrated at start-up
(`hub.schema`).
"""

from __future__ import annotations

from pathlib import Path

from hub.pg_store import PostgresStore
from hub.sqlite_store import SqliteStore
from hub.store_base import (
    DeadLetter,
    LivenessChange,
    SchemaTooNewError,
    StationRow,
    Store,
    StoreResult,
    StoreUnavailableError,
)

__all__ = [
    "DeadLetter",
    "LivenessChange",
    "PostgresStore",
    "SchemaTooNewError",
    "SqliteStore",
    "StationRow",
    "Store",
    "StoreResult",
    "StoreUnavailableError",
    "open_store",
    "sqlite_path",
]


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
