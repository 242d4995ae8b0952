"""Parts of the hub's database, each with its own schema version, and the one runner that migrates them.

A part is a group of tables one module owns (the kiosk services' `kiosk_*`, the console's accounts, its
work orders ...). It declares its ordered migrations next to its code as a `Part`: entry 1 is the DDL that
shipped before versions were recorded, written `CREATE ... IF NOT EXISTS`, so a database made by that
release (its tables there, no version recorded) is adopted as version 1 and upgraded from there, its rows
kept. A shipped entry is never edited; a change is a new entry at the end.

`migrate()` runs at start-up on a sqlite3 or psycopg connection (`hub.web.db.Db.migrate` for the console's
handle), in one transaction, under a lock (`BEGIN IMMEDIATE` on SQLite, an advisory lock on PostgreSQL):
processes starting together migrate once, the others wait and find the work done. The versions are rows of
`schema_components (component, version)`; the core (hub/schema.py) keeps its own in `schema_version`, where
the hubs that shipped before parts look for it, so that an older hub still refuses a newer core. A part
newer than this code knows is refused (`SchemaTooNewError`, naming the database, the part, the version
found and the version known) before anything runs: nothing is changed, nothing is moved aside.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from hub.store_base import SchemaTooNewError

if TYPE_CHECKING:
    import psycopg

__all__ = ["COMPONENTS", "PG_LOCK_KEY", "Part", "describe", "migrate", "versions"]

COMPONENTS: Final = "schema_components"
PG_LOCK_KEY: Final = 727274  # one lock for every part: a run sees the versions no other run is changing


@dataclass(frozen=True, slots=True)
class Part:
    """A named part of the database and its migrations, `migrations[v - 1]` taking it to version v.

    The same SQL serves both engines unless `postgres` gives PostgreSQL its own list (of the same length).
    `in_schema_version`: the version is the one row of the table `schema_version` instead of a row of
    `schema_components` (only the core, where hubs before parts read it)."""

    name: str
    migrations: tuple[str, ...]
    postgres: tuple[str, ...] | None = None
    in_schema_version: bool = False

    def __post_init__(self) -> None:
        if not self.migrations:
            raise ValueError(f"part {self.name!r} has no migrations")
        if self.postgres is not None and len(self.postgres) != len(self.migrations):
            raise ValueError(f"part {self.name!r}: {len(self.postgres)} PostgreSQL migrations for {self.latest}")

    @property
    def latest(self) -> int:
        return len(self.migrations)

    def scripts(self, *, pg: bool) -> tuple[str, ...]:
        return self.postgres if pg and self.postgres is not None else self.migrations


class _Tx:
    """The few statements the runner needs, on either engine, inside its transaction (`?` placeholders)."""

    def __init__(self, cur: Any, *, pg: bool) -> None:
        self.cur = cur
        self.pg = pg

    def run(self, sql: str, params: tuple[Any, ...] | None = None) -> None:
        if params is None:  # a migration's own SQL: passed as written (no placeholders, `%` is literal)
            self.cur.execute(sql)
        else:
            self.cur.execute(sql.replace("?", "%s") if self.pg else sql, params)

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        self.run(sql, params)
        row: tuple[Any, ...] | None = self.cur.fetchone()
        return row

    def has_table(self, name: str) -> bool:
        if self.pg:
            return bool((self.one("SELECT to_regclass(?) IS NOT NULL", (name,)) or (False,))[0])
        return self.one("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)) is not None


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _version(tx: _Tx, part: Part) -> int:
    """The part's recorded version; 0 when none is (a new database, or the release before versions, whose
    tables migration 1 adopts)."""
    if part.in_schema_version:
        if not tx.has_table("schema_version"):
            return 0
        row = tx.one("SELECT version FROM schema_version")
    else:
        if not tx.has_table(COMPONENTS):
            return 0
        row = tx.one("SELECT version FROM schema_components WHERE component = ?", (part.name,))
    return int(row[0]) if row else 0


def _record(tx: _Tx, part: Part) -> None:
    if part.in_schema_version:
        tx.run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        tx.run("DELETE FROM schema_version", ())
        tx.run("INSERT INTO schema_version VALUES (?)", (part.latest,))
        return
    tx.run("CREATE TABLE IF NOT EXISTS schema_components (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    tx.run(
        "INSERT INTO schema_components VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version",
        (part.name, part.latest),
    )


def _run(tx: _Tx, parts: Sequence[Part], where: str) -> dict[str, int]:
    found = {part.name: _version(tx, part) for part in parts}
    for part in parts:  # every part checked before any runs: a refusal changes nothing
        if found[part.name] > part.latest:
            raise SchemaTooNewError(
                f"{where}: part {part.name!r} has schema version {found[part.name]}, newer than this hub knows "
                f"({part.latest}): run the newer hub, or restore a backup made for this version; nothing was changed"
            )
    for part in parts:
        if found[part.name] == part.latest:
            continue
        for script in part.scripts(pg=tx.pg)[found[part.name] :]:
            for statement in _statements(script):
                tx.run(statement)
        _record(tx, part)
    return found


def describe(conn: sqlite3.Connection | psycopg.Connection[Any]) -> str:
    """The database, as an operator finds it: the SQLite file, or the PostgreSQL database and server."""
    if isinstance(conn, sqlite3.Connection):
        for _seq, name, file in conn.execute("PRAGMA database_list"):
            if name == "main":
                return str(file) if file else "an in-memory SQLite database"
        return "the SQLite database"
    info = conn.info
    return f"the PostgreSQL database {info.dbname!r} on {info.host}:{info.port}"


def migrate(
    conn: sqlite3.Connection | psycopg.Connection[Any], parts: Sequence[Part], *, where: str | None = None
) -> dict[str, int]:
    """Bring every part to its latest version, in one transaction under the migration lock; returns the
    version each part had before. A SQLite connection must be outside a transaction (autocommit mode)."""
    if len({part.name for part in parts}) != len(parts):
        raise ValueError(f"parts named twice: {[part.name for part in parts]}")
    where = where or describe(conn)
    if isinstance(conn, sqlite3.Connection):
        conn.execute("BEGIN IMMEDIATE")
        try:
            found = _run(_Tx(conn.cursor(), pg=False), parts, where)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return found
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))
        return _run(_Tx(cur, pg=True), parts, where)


def versions(conn: sqlite3.Connection | psycopg.Connection[Any], parts: Sequence[Part]) -> dict[str, int]:
    """Each part's recorded version (0: none), read without migrating anything."""
    if isinstance(conn, sqlite3.Connection):
        tx = _Tx(conn.cursor(), pg=False)
        return {part.name: _version(tx, part) for part in parts}
    with conn.transaction(), conn.cursor() as cur:
        tx = _Tx(cur, pg=True)
        return {part.name: _version(tx, part) for part in parts}
