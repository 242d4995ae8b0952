"""Time partitions of the telemetry tables on PostgreSQL: created ahead, dropped whole past the retention.

`telemetry_raw` has one partition a day (`telemetry_raw_p20261203`), `telemetry_minute` one a month
(`telemetry_minute_p202612`), each covering [start, end) of the hub's time in epoch seconds (UTC), and each
a DEFAULT partition (schema v6) for any row no partition covers yet: an insert never fails. The hub's upkeep
(`upkeep`, from the ingest loop at start-up and every minute) runs under an advisory lock, so several hubs
do it one after another and the later ones find it done:

- creates the partitions from today to `AHEAD_DAYS` days (this month and the next) that are missing;
- gives a partition to rows left in a DEFAULT partition (the v5 rows the migration copied, or rows written
  before their partition existed), moving them into it in the same transaction;
- drops each partition whose end is past the retention (`DROP TABLE`: no row is read or deleted one by
  one), and deletes the few DEFAULT rows past it in a bounded batch.

Dropping or attaching a partition takes a short exclusive lock on the parent; it waits at most
`LOCK_TIMEOUT` for readers (a console drawing a year of charts) and otherwise is tried again next time.
"""

from __future__ import annotations

import calendar
import logging
import time
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["PG_UPKEEP_LOCK", "TABLES", "Partition", "day_partition", "month_partition", "partition_of", "upkeep"]

log = logging.getLogger(__name__)

PG_UPKEEP_LOCK: Final = 727275
AHEAD_DAYS: Final = 3
LOCK_TIMEOUT: Final = "2s"
TABLES: Final = ("telemetry_raw", "telemetry_minute")


@dataclass(frozen=True, slots=True)
class Partition:
    table: str
    name: str
    start: float
    end: float


def day_partition(at: float) -> Partition:
    t = time.gmtime(at)
    start = calendar.timegm((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0))
    return Partition(
        "telemetry_raw", f"telemetry_raw_p{t.tm_year:04d}{t.tm_mon:02d}{t.tm_mday:02d}", start, start + 86400
    )


def month_partition(at: float) -> Partition:
    t = time.gmtime(at)
    start = calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0))
    y, m = (t.tm_year + 1, 1) if t.tm_mon == 12 else (t.tm_year, t.tm_mon + 1)
    return Partition(
        "telemetry_minute",
        f"telemetry_minute_p{t.tm_year:04d}{t.tm_mon:02d}",
        start,
        calendar.timegm((y, m, 1, 0, 0, 0)),
    )


def partition_of(table: str, at: float) -> Partition:
    return day_partition(at) if table == "telemetry_raw" else month_partition(at)


def _parse(table: str, name: str) -> Partition | None:
    """A partition named as we name them, else None (the DEFAULT partition, or one made by hand)."""
    suffix = name.removeprefix(f"{table}_p")
    try:
        if table == "telemetry_raw" and len(suffix) == 8 and suffix.isdigit():
            at = calendar.timegm((int(suffix[:4]), int(suffix[4:6]), int(suffix[6:]), 12, 0, 0))
        elif table == "telemetry_minute" and len(suffix) == 6 and suffix.isdigit():
            at = calendar.timegm((int(suffix[:4]), int(suffix[4:]), 15, 0, 0, 0))
        else:
            return None
    except ValueError:
        return None
    p = partition_of(table, at)
    return p if p.name == name else None


def wanted(now: float) -> list[Partition]:
    """The partitions that should exist ahead of `now`."""
    days = [day_partition(now + d * 86400.0) for d in range(AHEAD_DAYS + 1)]
    months = {p.name: p for p in (month_partition(now), month_partition(now + 32 * 86400.0))}
    return [*days, *months.values()]


def upkeep(conn: Any, now: float, cutoffs: dict[str, float], *, limit: int = 20_000) -> int:
    """Create ahead, move DEFAULT rows home, drop past the cut-offs (table -> time). Returns partitions dropped
    plus DEFAULT rows deleted. Each step is its own transaction; a lock not had in time skips the step."""
    from psycopg.errors import LockNotAvailable

    removed = 0
    steps: list[tuple[str, Partition | None, str]] = [("create", p, p.table) for p in wanted(now)]
    for table in TABLES:
        steps += [("home", p, table) for p in _homeless(conn, table, cutoffs[table])]
        steps += [("drop", p, table) for p in _partitions(conn, table) if p.end <= cutoffs[table]]
        steps.append(("purge", None, table))
    for what, part, table in steps:
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (PG_UPKEEP_LOCK,))
                cur.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                if what in ("create", "home") and part is not None:
                    _create(cur, part)
                elif what == "drop" and part is not None:
                    cur.execute(f"DROP TABLE IF EXISTS {part.name}")
                    removed += 1
                    log.info("dropped telemetry partition %s (past the retention)", part.name)
                else:
                    cur.execute(
                        f"DELETE FROM {table}_default WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table}_default "  # noqa: S608
                        "WHERE ts < %s LIMIT %s))",
                        (cutoffs[table], limit),
                    )
                    removed += int(cur.rowcount)
        except LockNotAvailable:
            log.info("telemetry upkeep: %s %s waited too long for a lock; next time", what, part or table)
    return removed


def _partitions(conn: Any, table: str) -> list[Partition]:
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            (table,),
        )
        names = [str(n) for (n,) in cur.fetchall()]
    return sorted((p for p in (_parse(table, n) for n in names) if p is not None), key=lambda p: p.start)


def _homeless(conn: Any, table: str, cutoff: float) -> list[Partition]:
    """Partitions for the rows that sit in the DEFAULT partition (normally none: it is empty)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            f"SELECT DISTINCT floor(ts / 86400) FROM {table}_default WHERE ts >= %s LIMIT 400",  # noqa: S608
            (cutoff,),
        )
        days = [float(s) for (s,) in cur.fetchall()]
    found = {p.name: p for p in (partition_of(table, d * 86400.0) for d in days)}
    return sorted(found.values(), key=lambda p: p.start)


def _create(cur: Any, p: Partition) -> None:
    """`p`, if missing, with the DEFAULT partition's rows in its range moved into it (an attach would
    otherwise fail on them)."""
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (p.name,))
    row = cur.fetchone()
    if row is not None and row[0]:
        return
    default = f"{p.table}_default"
    cur.execute(f"SELECT 1 FROM {default} WHERE ts >= %s AND ts < %s LIMIT 1", (p.start, p.end))  # noqa: S608
    if cur.fetchone() is None:
        cur.execute(f"CREATE TABLE {p.name} PARTITION OF {p.table} FOR VALUES FROM ({p.start}) TO ({p.end})")
        return
    cur.execute(f"CREATE TEMP TABLE pk_moving (LIKE {p.table}) ON COMMIT DROP")
    cur.execute(
        f"WITH m AS (DELETE FROM {default} WHERE ts >= %s AND ts < %s RETURNING *) "  # noqa: S608
        "INSERT INTO pk_moving SELECT * FROM m",
        (p.start, p.end),
    )
    moved = int(cur.rowcount)
    cur.execute(f"CREATE TABLE {p.name} PARTITION OF {p.table} FOR VALUES FROM ({p.start}) TO ({p.end})")
    cur.execute(f"INSERT INTO {p.table} SELECT * FROM pk_moving")  # noqa: S608
    log.info("created telemetry partition %s with %d rows from the default partition", p.name, moved)
