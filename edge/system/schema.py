"""Schema versions of the station's own SQLite databases (the outbox, the work orders), and their migrations.

Each database keeps its version in a one-row table `schema_version`. A store lists its migrations in
order: `migrations[0]` creates the schema that shipped before versions were recorded (version 1), and
every later entry takes the database one version further. `migrate()` runs at start-up, inside one
`BEGIN IMMEDIATE` transaction (the database's write lock: a second process opening the same file waits,
then finds the work done), and either brings the database to the latest version or leaves it untouched:

* no `schema_version` table and none of the store's tables: a new database, created at the latest version;
* no `schema_version` table but the store's tables are there: the schema that shipped before (version 1),
  upgraded in place, every row kept;
* a version newer than this code knows: `SchemaTooNewError`, naming the file. Nothing is changed and
  nothing is moved aside; the daemon does not start until a newer version runs (or a backup is restored).

The hub has its own migrations (`hub/schema.py`) on the same idea; it does not import this module.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

__all__ = ["SchemaTooNewError", "migrate", "version_of"]


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer version of this software: refuse to start, change nothing."""


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    row = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone()
    return row is not None


def version_of(db: sqlite3.Connection, legacy_table: str) -> int:
    """The schema version of an open database: 0 empty, 1 the unversioned schema that shipped first."""
    if _has_table(db, "schema_version"):
        row = db.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row else 0
    return 1 if _has_table(db, legacy_table) else 0


def migrate(db: sqlite3.Connection, path: Path, migrations: Sequence[str], *, legacy_table: str) -> int:
    """Bring the database at `path` (open as `db`, autocommit mode) to `len(migrations)`; returns the
    version found. `legacy_table` is a table the first shipped schema has (it marks an unversioned
    database as version 1)."""
    latest = len(migrations)
    db.execute("BEGIN IMMEDIATE")
    try:
        found = version_of(db, legacy_table)
        if found > latest:
            raise SchemaTooNewError(
                f"{path} has schema version {found}, newer than this version of the software knows "
                f"({latest}): run the newer version, or restore a backup made for this one; nothing was changed"
            )
        if found < latest:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            db.execute("DELETE FROM schema_version")
            db.execute("INSERT INTO schema_version VALUES (?)", (found,))
            for version in range(found + 1, latest + 1):
                for statement in _statements(migrations[version - 1]):
                    db.execute(statement)
                db.execute("UPDATE schema_version SET version = ?", (version,))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return found
