"""A thin database handle for the console: the same SQL on SQLite and PostgreSQL (`?` placeholders).

Each thread gets its own connection (`DbPool.get`). Database work runs off the event loop in the loop's
default executor (`in_db_thread`), which the app sets to a small fixed pool of long-lived threads
(`DB_THREADS`), so a hub holds at most that many connections (anyio's own pool would create and retire
threads, leaving their connections behind). Statements are autocommitted; `transaction()` groups several.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from hub.migrations import Part, migrate

__all__ = ["DB_THREADS", "Db", "DbPool", "db_executor", "in_db_thread", "is_postgres"]

T = TypeVar("T")
DB_THREADS = 8


def db_executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="hub-console-db")


async def in_db_thread(fn: Callable[[], T]) -> T:
    """Run blocking database work in the running loop's default executor (see the module docstring)."""
    return await asyncio.get_running_loop().run_in_executor(None, fn)


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


class Db:
    def __init__(self, url: str) -> None:
        self.url = url
        self.pg = is_postgres(url)
        if self.pg:
            import psycopg

            from hub.pg_store import jsonb_as_text

            self._pg = psycopg.connect(url, autocommit=True)
            jsonb_as_text(self._pg)  # bodies and telemetry as JSON text, as on SQLite
        else:
            from hub.store import sqlite_path

            path = sqlite_path(url) if url.startswith("sqlite:") else Path(url)
            self._lite = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
            self._lite.execute("PRAGMA busy_timeout=10000")

    @property
    def broken(self) -> bool:
        return self.pg and (self._pg.closed or self._pg.broken)

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.pg else sql

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.pg:
            with self._pg.cursor() as cur:
                cur.execute(self._sql(sql), params)
                return list(cur.fetchall()) if cur.description else []
        return list(self._lite.execute(sql, params).fetchall())

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        got = self.rows(sql, params)
        return got[0] if got else None

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute one statement; returns the number of rows it changed."""
        if self.pg:
            with self._pg.cursor() as cur:
                cur.execute(self._sql(sql), params)
                return int(cur.rowcount)
        return int(self._lite.execute(sql, params).rowcount)

    def migrate(self, parts: Sequence[Part]) -> dict[str, int]:
        """Bring these parts of the database to their latest version (hub/migrations.py), outside any
        transaction; returns the version each had before."""
        return migrate(self._pg if self.pg else self._lite, parts)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; nested inside another it is a savepoint of it (psycopg does the same), so
        a helper that makes its own transaction (hub.outbound.enqueue) joins its caller's."""
        if self.pg:
            with self._pg.transaction():
                yield
            return
        if self._lite.in_transaction:
            self._lite.execute("SAVEPOINT nested")
            try:
                yield
            except BaseException:
                self._lite.execute("ROLLBACK TO nested")
                self._lite.execute("RELEASE nested")
                raise
            self._lite.execute("RELEASE nested")
            return
        self._lite.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._lite.execute("ROLLBACK")
            raise
        self._lite.execute("COMMIT")

    def close(self) -> None:
        if self.pg:
            self._pg.close()
        else:
            self._lite.close()


class DbPool:
    """One connection per thread, all closed by `close()`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self._all: list[Db] = []
        self._lock = threading.Lock()

    def get(self) -> Db:
        """This thread's connection; a new one if the last was lost (PostgreSQL restarted)."""
        db: Db | None = getattr(self._local, "db", None)
        if db is not None and db.broken:
            with self._lock:
                self._all.remove(db)
            db.close()
            db = None
        if db is None:
            db = Db(self.url)
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def close(self) -> None:
        with self._lock:
            for db in self._all:
                db.close()
            self._all.clear()
