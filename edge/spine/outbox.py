"""The durable outbox: every event is on disk (SQLite WAL, fsync on commit) before it is accepted.

One writer thread owns the database. Submissions and confirmations queue up while a commit is under
way and then go together in the next transaction (group commit): one fsync covers many events, and an
event alone (an alarm at a quiet moment) is committed at once, without waiting for company.

Sequence numbers are assigned inside the transaction that stores the event, from a counter stored in
the same database, so they are gap-free: a rolled-back transaction gives its numbers back.

Bounds: when the outbox holds too many events or bytes, info events are refused first, then warnings;
alarms are never refused for space. When free disk space falls under a watermark (`disk_low_bytes`),
everything but alarms is refused, so the space left is kept for alarms; and should the disk fill up all
the same, a reserve file kept beside the database is released to make room for them. Every refusal is
counted, answered with a clear error and raised as a fault (log, telemetry, local API).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from edge.spine.records import Draft, OutboxClosedError, OutboxFullError, StoredEvent
from edge.spine.reserve import RESERVE_CHUNKS, AlarmReserve, disk_free, is_disk_full
from edge.system.faults import FaultBoard
from edge.system.files import SQLITE_COMPANIONS, private_files
from edge.system.schema import migrate
from edge.wire.messages import Event, Priority, new_event_id, utc_now_iso

__all__ = ["Outbox"]

log = logging.getLogger(__name__)

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS events (
    seq      INTEGER PRIMARY KEY,
    id       TEXT NOT NULL,
    priority INTEGER NOT NULL,
    accepted REAL NOT NULL,
    body     BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_BATCH_LIMIT = 512  # requests taken into one transaction at the most
_VACUUM_PAGES = 256  # free pages that trigger an incremental vacuum (the file shrinks back)
_SCRUB_IDLE_S = 1.0  # after confirmations, the WAL is truncated once the writer has been idle this long
_SCRUB_MAX_DELAY_S = 30.0  # ... or this long after the first unscrubbed confirmation, busy or not


Callback = Callable[[list[StoredEvent] | BaseException], None]


@dataclass(slots=True)
class _Append:
    drafts: list[Draft]
    done: Callback


@dataclass(slots=True)
class _Confirm:
    seqs: list[int]


@dataclass(slots=True)
class _Counters:
    accepted: int = 0
    rejected: int = 0
    confirmed: int = 0
    by_priority: dict[Priority, int] = field(default_factory=lambda: dict.fromkeys(Priority, 0))
    bytes: int = 0


class Outbox:
    """SQLite outbox with a writer thread. `submit()` may be called from any thread."""

    def __init__(
        self,
        path: Path,
        *,
        station: str,
        faults: FaultBoard,
        max_events: int = 100_000,
        max_bytes: int = 256 * 1024 * 1024,
        reserve_bytes: int = 4 * 1024 * 1024,
        disk_low_bytes: int = 32 * 1024 * 1024,
        on_committed: Callable[[list[StoredEvent]], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.station = station
        self.faults = faults
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.reserve_bytes = reserve_bytes
        self.disk_low_bytes = disk_low_bytes
        self.reserve = AlarmReserve(self.path, reserve_bytes)
        self.on_committed = on_committed
        self._queue: queue.SimpleQueue[_Append | _Confirm | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._db: sqlite3.Connection | None = None
        self._next_seq = 1
        self._sizes: dict[int, tuple[Priority, int, float]] = {}  # seq -> (priority, bytes, accepted)
        self.counters = _Counters()
        self._closed = False
        self._retry_confirms: list[int] = []
        self._scrub_since: float | None = None  # monotonic time of the first confirmation not yet scrubbed
        self._encoder = msgspec.json.Encoder()

    # ---- lifecycle -------------------------------------------------------------------------------
    def open(self) -> list[StoredEvent]:
        """Open (creating if needed) and return the events still waiting for the hub's confirmation."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        private_files(self.path, SQLITE_COMPANIONS)  # 0600 before SQLite opens it: its WAL takes the same mode
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA secure_delete=ON")  # a confirmed event's bytes are overwritten, not left in free pages
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect on a new database: lets the file shrink
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # fsync the WAL on every commit: accepted means on disk
        db.execute("PRAGMA journal_size_limit=1048576")
        db.execute("PRAGMA wal_autocheckpoint=256")  # ~1 MiB of WAL at most between checkpoints
        migrate(db, self.path, [_SCHEMA_V1], legacy_table="events")  # versioned (edge.system.schema)
        row = db.execute("SELECT value FROM meta WHERE key='next_seq'").fetchone()
        if row is None:
            db.execute("INSERT INTO meta VALUES ('next_seq', '1')")
        self._next_seq = int(row[0]) if row else 1
        pending = [
            StoredEvent(seq, eid, Priority(prio), accepted, bytes(body))
            for seq, eid, prio, accepted, body in db.execute(
                "SELECT seq, id, priority, accepted, body FROM events ORDER BY seq"
            )
        ]
        for ev in pending:
            self._track(ev)
        self._db = db
        self.reserve.ensure()
        self._thread = threading.Thread(target=self._run, name="outbox-writer", daemon=True)
        self._thread.start()
        return pending

    def close(self) -> None:
        if self._thread is None:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join()
        self._thread = None
        if self._db is not None:
            self._db.close()
            self._db = None

    # ---- API (any thread) ------------------------------------------------------------------------
    def submit(self, drafts: list[Draft], done: Callback) -> None:
        """Queue drafts; `done` is called from the writer thread with the stored events or an error."""
        if self._closed:
            done(OutboxClosedError("the outbox is closed"))
            return
        self._queue.put(_Append(drafts, done))

    def confirm(self, seqs: list[int]) -> None:
        """The hub has stored these: delete them (in the next transaction)."""
        if seqs and not self._closed:
            self._queue.put(_Confirm(seqs))

    @property
    def next_seq(self) -> int:
        return self._next_seq

    def depth(self) -> int:
        return len(self._sizes)

    def health(self, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        oldest = min((acc for _, _, acc in self._sizes.values()), default=now)
        return {
            "depth": len(self._sizes),
            "by_priority": {p.name.lower(): n for p, n in self.counters.by_priority.items()},
            "bytes": self.counters.bytes,
            "oldest_age_s": round(max(0.0, now - oldest), 3),
            "accepted_total": self.counters.accepted,
            "rejected_total": self.counters.rejected,
            "confirmed_total": self.counters.confirmed,
        }

    # ---- writer thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                waiting = self._retry_confirms or self._scrub_since is not None
                first = self._queue.get(timeout=_SCRUB_IDLE_S if waiting else None)
            except queue.Empty:
                first = _Confirm([])
                if self._scrub_since is not None:
                    self._scrub()
            if first is None:
                return
            items: list[_Append | _Confirm] = [first]
            stop = False
            while len(items) < _BATCH_LIMIT:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                items.append(nxt)
            try:
                self._process(items)
            except Exception as exc:  # never let the writer die silently: fail every waiter loudly
                log.exception("outbox writer failed")
                self.faults.raise_fault("outbox.error", f"outbox writer failed: {exc}")
                for it in items:
                    if isinstance(it, _Append):
                        it.done(exc)
            if stop:
                return

    def _limit_for(self, priority: Priority) -> tuple[int, int]:
        """Events and bytes an outbox may hold before refusing this priority (alarms: never)."""
        if priority is Priority.ALARM:
            return (1 << 62, 1 << 62)
        if priority is Priority.WARNING:
            return (self.max_events, self.max_bytes)
        return (int(self.max_events * 0.9), int(self.max_bytes * 0.9))

    def _process(self, items: list[_Append | _Confirm]) -> None:
        assert self._db is not None
        appends = [it for it in items if isinstance(it, _Append)]
        confirms = self._retry_confirms + [s for it in items if isinstance(it, _Confirm) for s in it.seqs]
        self._retry_confirms = []
        refused: list[tuple[_Append, BaseException]] = []
        admitted: list[_Append] = []
        depth, size = len(self._sizes), self.counters.bytes
        disk_low = bool(appends) and disk_free(self.path.parent) < self.disk_low_bytes
        for ap in appends:
            top = max((d.priority for d in ap.drafts), default=Priority.ALARM)
            max_n, max_b = self._limit_for(top)
            if depth + len(ap.drafts) > max_n or size > max_b:
                refused.append(
                    (
                        ap,
                        OutboxFullError(
                            f"outbox full ({depth} events, {size} bytes): {top.name.lower()} events refused"
                        ),
                    )
                )
                continue
            if disk_low and top is not Priority.ALARM:
                refused.append(
                    (
                        ap,
                        OutboxFullError(
                            f"disk nearly full under {self.path.parent}: "
                            f"{top.name.lower()} events refused, alarms accepted"
                        ),
                    )
                )
                continue
            admitted.append(ap)
            depth += len(ap.drafts)
        stored, failed = self._commit(admitted, confirms)
        for ap, exc in refused + failed:
            self.counters.rejected += len(ap.drafts)
            ap.done(exc)
        if disk_low:
            self.faults.raise_fault("outbox.disk_low", "disk nearly full: only alarms are accepted")
        elif appends:
            self.faults.clear_fault("outbox.disk_low")
        if refused and not disk_low:
            self.faults.raise_fault("outbox.full", "outbox full: low-priority events are being refused")
        elif any(max(d.priority for d in ap.drafts) is Priority.INFO for ap in admitted) and not failed:
            self.faults.clear_fault("outbox.full")  # the most restricted kind gets in again
        if stored:
            flat = [ev for _, evs in stored for ev in evs]
            if self.on_committed is not None:
                self.on_committed(flat)
            for ap, evs in stored:
                ap.done(evs)

    def _commit(
        self, admitted: list[_Append], confirms: list[int]
    ) -> tuple[list[tuple[_Append, list[StoredEvent]]], list[tuple[_Append, BaseException]]]:
        """One transaction. On a full disk, retry alarms alone after releasing the reserve."""
        try:
            return self._transaction(admitted, confirms), []
        except sqlite3.OperationalError as exc:
            if not is_disk_full(exc):
                raise
        self.faults.raise_fault("outbox.disk_full", f"disk full under {self.path.parent}")
        self._retry_confirms = confirms  # kept, and tried again with the next transaction
        alarms = [ap for ap in admitted if any(d.priority is Priority.ALARM for d in ap.drafts)]
        others = [ap for ap in admitted if ap not in alarms]
        failed: list[tuple[_Append, BaseException]] = [
            (ap, OutboxFullError("disk full: only alarms are accepted")) for ap in others
        ]
        if not alarms and not confirms:
            return [], failed
        # Make room, cheapest first: fold the WAL back into the database (it mostly holds old copies of
        # the same few pages), then give up the reserve file.
        for make_room in (self._truncate_wal, *([self.reserve.release_one] * RESERVE_CHUNKS)):
            if not make_room():
                continue
            try:
                result = self._transaction(alarms, confirms)
                self._retry_confirms = []
                return result, failed
            except sqlite3.OperationalError as exc:
                if not is_disk_full(exc):
                    raise
        if alarms:
            log.critical("disk full: %d alarms could not be stored even after releasing the reserve", len(alarms))
        failed += [(ap, OutboxFullError("disk full: the alarm could not be stored")) for ap in alarms]
        return [], failed

    def _transaction(self, admitted: list[_Append], confirms: list[int]) -> list[tuple[_Append, list[StoredEvent]]]:
        assert self._db is not None
        db = self._db
        now = time.time()
        ts = utc_now_iso(now)
        seq = self._next_seq
        out: list[tuple[_Append, list[StoredEvent]]] = []
        rows: list[tuple[int, str, int, float, bytes]] = []
        for ap in admitted:
            evs = []
            for d in ap.drafts:
                eid = new_event_id(now)
                body = self._encoder.encode(
                    Event(
                        id=eid,
                        station=self.station,
                        seq=seq,
                        ts=ts,
                        type=d.type,
                        priority=d.priority,
                        data=d.data,
                    )
                )
                evs.append(StoredEvent(seq, eid, d.priority, now, body))
                rows.append((seq, eid, int(d.priority), now, body))
                seq += 1
            out.append((ap, evs))
        db.execute("BEGIN IMMEDIATE")
        try:
            if rows:
                db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
                db.execute("UPDATE meta SET value=? WHERE key='next_seq'", (str(seq),))
            if confirms:
                db.executemany("DELETE FROM events WHERE seq=?", [(s,) for s in confirms])
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self._next_seq = seq
        for _, evs in out:
            for ev in evs:
                self._track(ev)
        self.counters.accepted += len(rows)
        for s in confirms:
            self._untrack(s)
        if confirms:
            self._vacuum()
            if self._scrub_since is None:
                self._scrub_since = time.monotonic()
            elif time.monotonic() - self._scrub_since > _SCRUB_MAX_DELAY_S:
                self._scrub()  # busy without a pause: scrub anyway, now and then
        if not self.reserve.complete and disk_free(self.path.parent) > 2 * self.reserve_bytes:
            self.reserve.ensure()
        if self.reserve.complete:
            self.faults.clear_fault("outbox.disk_full")
        return out

    def _vacuum(self) -> None:
        assert self._db is not None
        try:
            (free_pages,) = self._db.execute("PRAGMA freelist_count").fetchone()
            if free_pages >= _VACUUM_PAGES:
                # executescript steps the pragma to completion (execute() would free a single page), then
                # a checkpoint moves the shrink from the WAL into the database file.
                self._db.executescript(f"PRAGMA incremental_vacuum({int(free_pages)}); PRAGMA wal_checkpoint(PASSIVE);")
        except sqlite3.OperationalError as exc:
            log.debug("incremental vacuum skipped: %s", exc)

    def _track(self, ev: StoredEvent) -> None:
        if ev.seq in self._sizes:
            return
        self._sizes[ev.seq] = (ev.priority, len(ev.body), ev.accepted)
        self.counters.by_priority[ev.priority] += 1
        self.counters.bytes += len(ev.body)

    def _untrack(self, seq: int) -> None:
        entry = self._sizes.pop(seq, None)
        if entry is not None:
            prio, size, _ = entry
            self.counters.by_priority[prio] -= 1
            self.counters.bytes -= size
            self.counters.confirmed += 1

    def _scrub(self) -> None:
        """Truncate the WAL, so that confirmed events (personal data: names, phone numbers) do not linger
        in old WAL frames after the hub has them. `secure_delete` has zeroed them in the database pages."""
        if self._truncate_wal():
            self._scrub_since = None

    def _truncate_wal(self) -> bool:
        assert self._db is not None
        try:
            busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.OperationalError as exc:
            log.warning("WAL checkpoint on a full disk failed: %s", exc)
            return False
        return not busy
