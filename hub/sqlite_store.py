"""The hub's store on SQLite (the embedded default for one machine).

Every write is one transaction, committed (and fsynced) before the caller acknowledges anything. An
`sqlite3.OperationalError` (disk full, I/O error, a locked or vanished file) is `StoreUnavailableError`:
the hub exits and the service manager restarts it. Anything else a write raises is about the data.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from edge.wire.messages import Event, Status
from hub import liveness as rules
from hub.schema import migrate_sqlite
from hub.store_base import DeadLetter, LivenessChange, StationRow, StoreResult, StoreUnavailableError, acks_of
from hub.telemetry_history import MINUTE_COLUMNS, MinuteRow, Sample, Upkeep, merge_minutes

__all__ = ["SqliteStore"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


def _unavailable(fn: Callable[P, R]) -> Callable[P, R]:
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailableError(f"SQLite: {exc}") from exc

    return wrapper


def _private(path: Path) -> None:
    """The database (and the WAL, which SQLite creates with the database's mode) 0640, whatever the umask."""
    # Create only: never open and close an existing database file. Closing any descriptor of a file drops
    # every POSIX lock this process holds on it, SQLite's included (the hub opens its database more than
    # once): a reader in another process would then take the WAL for unused and delete it under the writer,
    # and what the hub committed afterwards would be seen by nobody until it stopped.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640))
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
        migrate_sqlite(self.db, str(self.path))

    def _tx(self, work: Callable[[sqlite3.Connection], R]) -> R:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            out = work(db)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return out

    @_unavailable
    def store_events(self, events: list[Event], bodies: list[bytes]) -> StoreResult:
        now = time.time()
        rows = [
            (e.station, e.seq, e.id, e.ts, e.type, int(e.priority), b.decode(), now) for e, b in zip(events, bodies)
        ]

        by_station: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            by_station.setdefault(row[0], []).append(row)

        def work(db: sqlite3.Connection) -> tuple[int, int]:
            new: list[tuple[str, float, int]] = []
            for station, group in by_station.items():  # one executemany per station: what was new, counted
                before = db.total_changes
                db.executemany("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", group)
                if db.total_changes > before:
                    new.append((station, now, db.total_changes - before))
            db.executemany(
                "INSERT INTO stations (station, state, counter, status_ts, last_seen, events) "
                "VALUES (?, 'unknown', 0, '', ?, ?) "
                "ON CONFLICT(station) DO UPDATE SET events = events + excluded.events",
                new,
            )
            stored = sum(n for _, _, n in new)
            conflicts = 0
            if stored < len(rows):
                for e, body in zip(events, bodies):
                    got = db.execute("SELECT id FROM events WHERE station=? AND seq=?", (e.station, e.seq)).fetchone()
                    if got is not None and got[0] != e.id:
                        conflicts += 1
                        db.execute(
                            "INSERT OR IGNORE INTO event_conflicts VALUES (?, ?, ?, ?, ?)",
                            (e.station, e.seq, e.id, body.decode(), now),
                        )
            return stored, conflicts

        stored, conflicts = self._tx(work)
        if conflicts:
            log.error(
                "%d events reused a (station, seq) already stored with another id: kept in event_conflicts", conflicts
            )
        return StoreResult(acks_of(events), stored, len(rows) - stored - conflicts, conflicts)

    def update_status(self, station: str, status: Status) -> bool:
        return self.apply_status(station, status, time.time())[0]

    def apply_status(self, station: str, status: Status, now: float) -> tuple[bool, LivenessChange | None]:
        return self.apply_statuses([(station, status)], now)[0]

    @_unavailable
    def apply_statuses(self, items: list[tuple[str, Status]], now: float) -> list[tuple[bool, LivenessChange | None]]:
        """Each station's own status, in order, in one transaction: applied if its counter is not older
        than the one stored (a stale will is ignored), with the liveness it implies."""

        def one(db: sqlite3.Connection, station: str, status: Status) -> tuple[bool, LivenessChange | None]:
            row = db.execute(
                "SELECT counter, liveness, last_heard FROM stations WHERE station=?", (station,)
            ).fetchone()
            if row is not None and status.counter < row[0]:
                return False, None
            old = row[1] if row else "unknown"
            new = rules.liveness_of_status(status)
            heard = now if new != "offline" else (row[2] if row else 0.0)
            db.execute(
                "INSERT INTO stations (station, state, counter, status_ts, last_seen, last_heard, liveness, "
                "liveness_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(station) DO UPDATE SET "
                "state=excluded.state, counter=excluded.counter, status_ts=excluded.status_ts, "
                "last_seen=excluded.last_seen, last_heard=excluded.last_heard, liveness=excluded.liveness, "
                "liveness_since=CASE WHEN liveness=excluded.liveness THEN liveness_since "
                "ELSE excluded.liveness_since END",
                (station, status.state, status.counter, status.ts, now, heard, new, now),
            )
            return True, (LivenessChange(station, old, new) if old != new else None)

        return self._tx(lambda db: [one(db, st, status) for st, status in items])

    def update_telemetry(self, station: str, ts: str, body: bytes) -> None:
        self.update_telemetry_many([(station, ts, body)])

    @_unavailable
    def update_telemetry_many(
        self,
        reports: list[tuple[str, str, bytes]],
        history: Sequence[tuple[str, float, Sample]] = (),
        minutes: Sequence[MinuteRow] = (),
    ) -> None:
        """The latest report of each station, the raw rows due and the minutes closed, in one transaction."""
        now = time.time()

        def work(db: sqlite3.Connection) -> None:
            db.executemany(
                "INSERT INTO stations (station, state, counter, status_ts, last_seen, telemetry, telemetry_ts) "
                "VALUES (?, 'unknown', 0, '', ?, ?, ?) ON CONFLICT(station) DO UPDATE SET "
                "telemetry=excluded.telemetry, telemetry_ts=excluded.telemetry_ts, last_seen=excluded.last_seen",
                [(st, now, body.decode(), ts) for st, ts, body in reports],
            )
            if history:
                db.executemany(
                    "INSERT OR IGNORE INTO telemetry_raw VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [sample.row(st, at) for st, at, sample in history],
                )
            if minutes:
                self._minutes(db, minutes)

        self._tx(work)

    @staticmethod
    def _minutes(db: sqlite3.Connection, minutes: Sequence[MinuteRow]) -> None:
        """New minutes inserted; a minute stored already (a restarted hub's partial one) merged into it."""
        marks = ", ".join("?" * 18)
        taken = []
        for m in minutes:
            if db.execute(f"INSERT OR IGNORE INTO telemetry_minute VALUES ({marks})", m.row()).rowcount == 0:  # noqa: S608
                taken.append(m)
        stored = {}
        for m in taken:
            got = db.execute(
                f"SELECT {MINUTE_COLUMNS} FROM telemetry_minute WHERE station=? AND ts=?",  # noqa: S608 - our columns
                (m.station, m.ts),
            ).fetchone()
            if got is not None:
                stored[(m.station, m.ts)] = MinuteRow.of_row(tuple(got))
        db.executemany(
            f"REPLACE INTO telemetry_minute VALUES ({marks})",  # noqa: S608 - placeholders only
            [r.row() for r in merge_minutes(taken, stored)],
        )

    @_unavailable
    def telemetry_upkeep(self, upkeep: Upkeep, limit: int = 20_000) -> int:
        """Delete at most `limit` rows of each table older than its cut-off (by the key: no table scan)."""

        def work(db: sqlite3.Connection) -> int:
            gone = 0
            for table, before in (("telemetry_raw", upkeep.raw_before), ("telemetry_minute", upkeep.minutes_before)):
                gone += db.execute(
                    f"DELETE FROM {table} WHERE (station, ts) IN (SELECT h.station, h.ts FROM stations s "  # noqa: S608
                    f"JOIN {table} h ON h.station = s.station AND h.ts < ? LIMIT ?)",
                    (before, limit),
                ).rowcount
            return gone

        return self._tx(work)

    @_unavailable
    def set_hub_state(self, name: str, value: str, now: float) -> None:
        self._tx(
            lambda db: db.execute(
                "INSERT INTO hub_state VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value, "
                "since=excluded.since",
                (name, value, now),
            )
        )

    @_unavailable
    def heard(self, stations: dict[str, int | None], now: float) -> list[LivenessChange]:
        """These stations were heard from just now (any message; a heartbeat names its counter)."""
        if not stations:
            return []

        def work(db: sqlite3.Connection) -> list[LivenessChange]:
            names = json.dumps(list(stations))
            known = {
                st: (state, counter, live)
                for st, state, counter, live in db.execute(
                    "SELECT station, state, counter, liveness FROM stations "
                    "WHERE station IN (SELECT value FROM json_each(?))",
                    (names,),
                )
            }
            changes, updates, inserts = rules.heard(stations, known)
            db.executemany(
                "UPDATE stations SET last_heard=?, liveness_since=CASE WHEN liveness=? THEN "
                "liveness_since ELSE ? END, liveness=? WHERE station=?",
                [(now, live, now, live, st) for st, live in updates],
            )
            db.executemany(
                "INSERT OR IGNORE INTO stations (station, state, counter, status_ts, last_seen, "
                "last_heard, liveness, liveness_since) VALUES (?, 'unknown', 0, '', ?, ?, 'online', ?)",
                [(st, now, now, now) for st in inserts],
            )
            return changes

        return self._tx(work)

    @_unavailable
    def check_liveness(self, now: float, *, silent_after: float, offline_after: float) -> list[LivenessChange]:
        def work(db: sqlite3.Connection) -> list[LivenessChange]:
            out: list[LivenessChange] = []
            for old, new, after in rules.TIMEOUTS:
                limit = now - (silent_after if after == "silent_after" else offline_after)
                for (st,) in db.execute(
                    "UPDATE stations SET liveness=?, liveness_since=? WHERE liveness=? "
                    "AND last_heard < ? RETURNING station",
                    (new, now, old, limit),
                ).fetchall():
                    out.append(LivenessChange(st, old, new))
            return out

        return self._tx(work)

    @_unavailable
    def dead_letter(self, letter: DeadLetter) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO dead_letters (received_at, topic, station, size, reason, payload) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (letter.received_at, letter.topic, letter.station, letter.size, letter.reason, letter.payload),
            )
            if rules.is_station_id(letter.station):
                db.execute(
                    "INSERT INTO stations (station, state, counter, status_ts, last_seen, dead_letters) "
                    "VALUES (?, 'unknown', 0, '', ?, 1) ON CONFLICT(station) DO UPDATE SET "
                    "dead_letters = dead_letters + 1",
                    (letter.station, letter.received_at),
                )

        self._tx(work)

    @_unavailable
    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        rows = self.db.execute(
            "SELECT received_at, topic, station, size, reason, payload FROM dead_letters ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [DeadLetter(float(a), str(b), str(c), int(d), str(e), bytes(f)) for a, b, c, d, e, f in rows]

    @_unavailable
    def count_stations(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM stations").fetchone()[0])

    def export(self, station: str | None = None) -> Iterator[bytes]:
        if station is None:
            cur = self.db.execute("SELECT body FROM events ORDER BY station, seq")
        else:
            cur = self.db.execute("SELECT body FROM events WHERE station=? ORDER BY seq", (station,))
        for (body,) in cur:
            yield body.encode()

    @_unavailable
    def stations(self) -> list[StationRow]:
        out = []
        for st, state, counter, status_ts, last_seen, n, tele, live, heard, dead, since in self.db.execute(
            "SELECT station, state, counter, status_ts, last_seen, events, telemetry, liveness, last_heard, "
            "dead_letters, liveness_since FROM stations ORDER BY station"
        ):
            tel: dict[str, Any] | None = json.loads(tele) if tele else None
            out.append(StationRow(st, state, counter, status_ts, last_seen, n, tel, live, heard, dead, since))
        return out

    def close(self) -> None:
        self.db.close()
