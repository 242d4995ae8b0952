"""The hub's store on PostgreSQL (psycopg 3), the production store.

A lost connection (`OperationalError`, `InterfaceError`) is `StoreUnavailableError`: the hub exits and
the service manager restarts it. Anything else a write raises (`DataError`, a constraint) is about the
data, and the transaction it happened in is rolled back whole.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ParamSpec, TypeVar

from edge.wire.messages import Event, Status
from hub import liveness as rules
from hub import pg_partitions
from hub.schema import migrate_postgres
from hub.store_base import (
    DeadLetter,
    LivenessChange,
    StationRow,
    StoreResult,
    StoreUnavailableError,
    acks_of,
    canonical_body,
)
from hub.telemetry_history import MINUTE_COLUMNS, MinuteRow, Sample, Upkeep, merge_minutes

__all__ = ["PostgresStore", "jsonb_as_text"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


#: Where store_events() stages a delivery: this connection's own, not logged, emptied by every commit.
_EVENTS_IN = (
    "CREATE TEMPORARY TABLE events_in (n INTEGER, station TEXT, seq BIGINT, id TEXT, ts TEXT, type TEXT, "
    "priority SMALLINT, body TEXT) ON COMMIT DELETE ROWS"
)
_EVENTS_IN_TYPES = ["int4", "text", "int8", "text", "text", "text", "int2", "text"]


def _unavailable(fn: Callable[P, R]) -> Callable[P, R]:
    """A deadlock or serialisation failure (another hub process) is retried; a lost connection is
    StoreUnavailableError."""
    import psycopg
    from psycopg.errors import DeadlockDetected, SerializationFailure, TransactionRollback

    retry = (DeadlockDetected, SerializationFailure, TransactionRollback)

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(3):
            try:
                return fn(*args, **kwargs)
            except retry as exc:
                if attempt == 2:
                    raise StoreUnavailableError(f"PostgreSQL: {exc}") from exc
                log.info("retrying after %s", exc)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                raise StoreUnavailableError(f"PostgreSQL: {exc}") from exc
        raise AssertionError("unreachable")

    return wrapper


def jsonb_as_text(conn: Any) -> None:
    """JSONB values (event bodies, telemetry) read as JSON text on this connection, as SQLite gives them:
    every reader decodes the same thing on either engine (psycopg would otherwise hand out dicts)."""
    from psycopg.types.string import TextLoader

    conn.adapters.register_loader("jsonb", TextLoader)


_MINUTE_TYPES = (
    "text", "float8", "int", "int", "int8", "int", "real", "real", "real", "real", "float8", "real",
    "real", "float8", "real", "text", "int", "text",
)  # fmt: skip


def _write_minutes(cur: Any, minutes: Sequence[MinuteRow]) -> None:
    """New minutes inserted in one statement; those stored already (a restarted hub's partial minute, or
    another hub's share of the same reports) locked, merged and written back. Rows go in key order, so
    hubs writing the same minutes wait for each other instead of deadlocking."""
    rows = sorted((m.row() for m in minutes), key=lambda r: (r[0], r[1]))
    arrays = ", ".join(f"%s::{t}[]" for t in _MINUTE_TYPES)
    cur.execute(
        f"INSERT INTO telemetry_minute SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING RETURNING station, ts",  # noqa: S608
        [list(c) for c in zip(*rows)],
    )
    new = {(str(st), float(ts)) for st, ts in cur.fetchall()}
    taken = [m for m in minutes if (m.station, m.ts) not in new]
    if not taken:
        return
    cur.execute(
        f"SELECT {MINUTE_COLUMNS} FROM telemetry_minute WHERE (station, ts) IN "  # noqa: S608
        "(SELECT * FROM unnest(%s::text[], %s::float8[])) ORDER BY station, ts FOR UPDATE",
        ([m.station for m in taken], [m.ts for m in taken]),
    )
    stored = {(str(r[0]), float(r[1])): MinuteRow.of_row(tuple(r)) for r in cur.fetchall()}
    merged = [r.row() for r in merge_minutes(taken, stored)]
    names = ", ".join(f"c{i}" for i in range(len(_MINUTE_TYPES)))
    cur.execute(
        f"UPDATE telemetry_minute t SET ({MINUTE_COLUMNS}) = ({names}) FROM unnest({arrays}) AS u({names}) "  # noqa: S608
        "WHERE t.station = u.c0 AND t.ts = u.c1",
        [list(c) for c in zip(*merged)],
    )


class PostgresStore:
    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=False)
        jsonb_as_text(self.conn)
        migrate_postgres(self.conn)
        self._staging = False  # events_in made on this connection (by the first store_events)

    @_unavailable
    def store_events(self, events: list[Event], bodies: list[bytes]) -> StoreResult:
        """The delivery goes in by binary COPY into a temporary table (psycopg writes the rows in C; a text
        array of 5,000 JSON bodies cost the hub 40 us of Python per event to quote), then one INSERT from it
        in (station, seq) order, so that hubs storing overlapping deliveries wait for each other instead of
        deadlocking (the row's place in the delivery breaks ties: the first of two events under one seq is
        the one stored); each station's event counter moves in the same transaction, by what was new."""
        now = time.time()
        with self.conn.transaction(), self.conn.cursor() as cur:
            if not self._staging:
                cur.execute(_EVENTS_IN)
            with cur.copy("COPY events_in FROM STDIN (FORMAT BINARY)") as cp:
                cp.set_types(_EVENTS_IN_TYPES)
                for n, (e, body) in enumerate(zip(events, bodies)):
                    cp.write_row((n, e.station, e.seq, e.id, e.ts, e.type, int(e.priority), body.decode()))
            cur.execute(
                "INSERT INTO events (station, seq, id, ts, type, priority, body, received_at) "
                "SELECT station, seq, id, ts, type, priority, body::jsonb, %s FROM events_in "
                "ORDER BY station, seq, n ON CONFLICT (station, seq) DO NOTHING RETURNING station",
                (now,),
            )
            new = Counter(str(st) for (st,) in cur.fetchall())
            stored = sum(new.values())
            if new:
                names = sorted(new)  # locked in station order, as heard() and apply_statuses() do
                cur.execute(
                    "INSERT INTO stations (station, state, counter, status_ts, last_seen, events) "
                    "SELECT s, 'unknown', 0, '', %s, n FROM unnest(%s::text[], %s::bigint[]) AS u(s, n) ORDER BY s "
                    "ON CONFLICT (station) DO UPDATE SET events = stations.events + excluded.events",
                    (now, names, [new[n] for n in names]),
                )
            conflicts = 0
            if stored < len(events):  # each other event under a stored (station, seq) is kept aside
                # A subquery per row, not a join: the staged rows have no statistics, and a join planned
                # as a hash of the whole events table would read every event ever stored.
                cur.execute(
                    "WITH c AS (SELECT station, seq, id, body FROM events_in u WHERE u.id <> (SELECT e.id "
                    "FROM events e WHERE e.station = u.station AND e.seq = u.seq)), "
                    "kept AS (INSERT INTO event_conflicts SELECT station, seq, id, body, %s FROM c "
                    "ON CONFLICT DO NOTHING) SELECT COUNT(*) FROM c",
                    (now,),
                )
                row = cur.fetchone()
                conflicts = int(row[0]) if row else 0
        self._staging = True  # the temporary table outlives the transaction that made it, not a rollback
        if conflicts:
            log.error(
                "%d events reused a (station, seq) already stored with another id: kept in event_conflicts", conflicts
            )
        return StoreResult(acks_of(events), stored, len(events) - stored - conflicts, conflicts)

    def update_status(self, station: str, status: Status) -> bool:
        return self.apply_status(station, status, time.time())[0]

    def apply_status(self, station: str, status: Status, now: float) -> tuple[bool, LivenessChange | None]:
        return self.apply_statuses([(station, status)], now)[0]

    @_unavailable
    def apply_statuses(self, items: list[tuple[str, Status]], now: float) -> list[tuple[bool, LivenessChange | None]]:
        """Each station's own status, in one transaction: applied unless its counter is older than the
        stored one (idempotent by counter in the database, whichever hub process handles it), with the
        liveness it implies. Rows are locked in station order (a stable sort keeps each station's own
        order), so hubs handling the same wills at once cannot deadlock."""
        order = sorted(range(len(items)), key=lambda i: items[i][0])
        out: list[tuple[bool, LivenessChange | None]] = [(False, None)] * len(items)
        with self.conn.transaction(), self.conn.cursor() as cur:
            for i in order:
                station, status = items[i]
                new = rules.liveness_of_status(status)
                cur.execute(
                    "INSERT INTO stations (station, state, counter, status_ts, last_seen) "
                    "VALUES (%s, 'unknown', 0, '', %s) ON CONFLICT DO NOTHING",
                    (station, now),
                )
                cur.execute("SELECT counter, liveness FROM stations WHERE station = %s FOR UPDATE", (station,))
                row = cur.fetchone()
                assert row is not None
                if status.counter < row[0]:
                    continue
                cur.execute(
                    "UPDATE stations SET state=%s, counter=%s, status_ts=%s, last_seen=%s, "
                    "liveness_since = CASE WHEN liveness = %s THEN liveness_since ELSE %s END, liveness=%s, "
                    "last_heard = CASE WHEN %s THEN last_heard ELSE %s END WHERE station=%s",
                    (status.state, status.counter, status.ts, now, new, now, new, new == "offline", now, station),
                )
                old = str(row[1])
                out[i] = (True, LivenessChange(station, old, new) if old != new else None)
        return out

    def update_telemetry(self, station: str, ts: str, body: bytes) -> None:
        self.update_telemetry_many([(station, ts, body)])

    @_unavailable
    def update_telemetry_many(
        self,
        reports: list[tuple[str, str, bytes]],
        history: Sequence[tuple[str, float, Sample]] = (),
        minutes: Sequence[MinuteRow] = (),
    ) -> None:
        """The latest report of each station, the raw rows due and the minutes closed: one statement each,
        one transaction."""
        with self.conn.transaction(), self.conn.cursor() as cur:
            if reports:
                cur.execute(
                    "INSERT INTO stations (station, state, counter, status_ts, last_seen, telemetry, telemetry_ts) "
                    "SELECT s, 'unknown', 0, '', %s, b::jsonb, t FROM unnest(%s::text[], %s::text[], %s::text[]) "
                    "AS u(s, t, b) ON CONFLICT (station) DO UPDATE SET telemetry=excluded.telemetry, "
                    "telemetry_ts=excluded.telemetry_ts, last_seen=excluded.last_seen",
                    (time.time(), [r[0] for r in reports], [r[1] for r in reports], [r[2].decode() for r in reports]),
                )
            if history:
                cols = list(zip(*(sample.row(st, at) for st, at, sample in history)))
                cur.execute(
                    "INSERT INTO telemetry_raw SELECT * FROM unnest(%s::text[], %s::float8[], %s::int[], "
                    "%s::text[], %s::real[], %s::real[], %s::real[], %s::text[]) ON CONFLICT DO NOTHING",
                    [list(c) for c in cols],
                )
            if minutes:
                _write_minutes(cur, minutes)

    @_unavailable
    def telemetry_upkeep(self, upkeep: Upkeep, limit: int = 20_000) -> int:
        """Partitions created ahead, dropped whole past the retention (hub/pg_partitions.py)."""
        cutoffs = {"telemetry_raw": upkeep.raw_before, "telemetry_minute": upkeep.minutes_before}
        return pg_partitions.upkeep(self.conn, upkeep.now, cutoffs, limit=limit)

    @_unavailable
    def set_hub_state(self, name: str, value: str, now: float) -> None:
        with self.conn.transaction():
            self.conn.execute(
                "INSERT INTO hub_state VALUES (%s, %s, %s) ON CONFLICT (name) DO UPDATE SET value=excluded.value, "
                "since=excluded.since",
                (name, value, now),
            )

    @_unavailable
    def heard(self, stations: dict[str, int | None], now: float) -> list[LivenessChange]:
        if not stations:
            return []
        names = sorted(stations)  # one lock order for every hub process
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(
                "SELECT station, state, counter, liveness FROM stations WHERE station = ANY(%s) "
                "ORDER BY station FOR UPDATE",
                (names,),
            )
            known = {str(st): (str(state), int(counter), str(live)) for st, state, counter, live in cur.fetchall()}
            changes, updates, inserts = rules.heard(stations, known)
            if updates:  # one statement for all of them (2,000 stations' heartbeats in one drain)
                cur.execute(
                    "UPDATE stations s SET last_heard=%s, liveness_since=CASE WHEN s.liveness=u.live THEN "
                    "s.liveness_since ELSE %s END, liveness=u.live FROM unnest(%s::text[], %s::text[]) "
                    "AS u(st, live) WHERE s.station=u.st",
                    (now, now, [st for st, _ in updates], [live for _, live in updates]),
                )
            if inserts:
                cur.executemany(
                    "INSERT INTO stations (station, state, counter, status_ts, last_seen, last_heard, "
                    "liveness, liveness_since) VALUES (%s, 'unknown', 0, '', %s, %s, 'online', %s) "
                    "ON CONFLICT DO NOTHING",
                    [(st, now, now, now) for st in inserts],
                )
        return changes

    @_unavailable
    def check_liveness(self, now: float, *, silent_after: float, offline_after: float) -> list[LivenessChange]:
        out: list[LivenessChange] = []
        with self.conn.transaction(), self.conn.cursor() as cur:
            for old, new, after in rules.TIMEOUTS:
                limit = now - (silent_after if after == "silent_after" else offline_after)
                cur.execute(
                    "UPDATE stations SET liveness=%s, liveness_since=%s WHERE liveness=%s AND last_heard < %s "
                    "RETURNING station",
                    (new, now, old, limit),
                )
                out += [LivenessChange(str(st), old, new) for (st,) in cur.fetchall()]
        return out

    @_unavailable
    def dead_letter(self, letter: DeadLetter) -> None:
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO dead_letters (received_at, topic, station, size, reason, payload) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (letter.received_at, letter.topic, letter.station, letter.size, letter.reason, letter.payload),
            )
            if rules.is_station_id(letter.station):
                cur.execute(
                    "INSERT INTO stations (station, state, counter, status_ts, last_seen, dead_letters) "
                    "VALUES (%s, 'unknown', 0, '', %s, 1) ON CONFLICT (station) DO UPDATE SET "
                    "dead_letters = stations.dead_letters + 1",
                    (letter.station, letter.received_at),
                )

    @_unavailable
    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(
                "SELECT received_at, topic, station, size, reason, payload FROM dead_letters ORDER BY id DESC LIMIT %s",
                (limit,),
            )
            rows = cur.fetchall()
        return [DeadLetter(float(a), str(b), str(c), int(d), str(e), bytes(f)) for a, b, c, d, e, f in rows]

    @_unavailable
    def count_stations(self) -> int:
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM stations")
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def export(self, station: str | None = None) -> Iterator[bytes]:
        """Streamed through a server-side cursor: memory stays flat however many events there are."""
        with self.conn.transaction(), self.conn.cursor(name="pk_export") as cur:
            cur.itersize = 2000
            if station is None:
                cur.execute("SELECT body::text FROM events ORDER BY station, seq")
            else:
                cur.execute("SELECT body::text FROM events WHERE station=%s ORDER BY seq", (station,))
            for (body,) in cur:
                yield canonical_body(str(body))

    @_unavailable
    def stations(self) -> list[StationRow]:
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(
                "SELECT station, state, counter, status_ts, last_seen, events, telemetry, liveness, last_heard, "
                "dead_letters, liveness_since FROM stations ORDER BY station"
            )
            rows = cur.fetchall()
        return [
            StationRow(st, state, counter, ts, last, n, json.loads(tele) if tele else None, live, heard, dead, since)
            for st, state, counter, ts, last, n, tele, live, heard, dead, since in rows
        ]

    def close(self) -> None:
        self.conn.close()
