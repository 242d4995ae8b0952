"""The station's work orders on disk: central's agreed copy of each order and the station's own changes.

``orders.db`` (SQLite in the daemon's data directory, mode 0600 with its companions, WAL, every commit
fsynced) holds two tables:

* ``agreed``: per ticket, the last copy central sent (`workorder.state`), or the order as the station
  created it from a resident's report until central sends one (rev 0).
* ``pending``: the station's own changes central has not confirmed yet, in the order they were made
  (``n``), each with the seq of its `workorder.change` event in the outbox. A change is written here
  only after its event is on disk, so every pending change is also on its way to central; it leaves
  when central's copy names it in its history (applied or refused).

The view a screen shows is computed from both (`edge.wire.orders.pending_after`), never stored. Every
method runs on a worker thread (the component calls them with `asyncio.to_thread`, one at a time).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import msgspec

from edge.system.files import SQLITE_COMPANIONS, private_files
from edge.system.schema import migrate
from edge.wire.orders import CLOSED_STATES, OrderChange, WorkOrder

__all__ = ["OrderStore"]

log = logging.getLogger(__name__)

# Version 1, as shipped before versions were recorded; later versions append a migration (edge.system.schema).
_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS agreed (
    ticket TEXT PRIMARY KEY,
    rev INTEGER NOT NULL,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS pending (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id TEXT NOT NULL UNIQUE,
    ticket TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body BLOB NOT NULL
);
"""


class OrderStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._enc = msgspec.json.Encoder()
        self._order = msgspec.json.Decoder(WorkOrder)
        self._change = msgspec.json.Decoder(OrderChange)

    def open(self) -> tuple[list[WorkOrder], list[OrderChange]]:
        """Open (creating if needed); the agreed copies and the pending changes in the order made. A row
        that no longer decodes is logged and left out (never a reason not to start)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        private_files(self.path, SQLITE_COMPANIONS)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA secure_delete=ON")  # a pruned order's description is overwritten, not left behind
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        try:
            migrate(db, self.path, [_SCHEMA_V1], legacy_table="agreed")
        except BaseException:  # SchemaTooNewError: refuse to start, the file untouched
            db.close()
            raise
        self._db = db
        orders: list[WorkOrder] = []
        for ticket, body in db.execute("SELECT ticket, body FROM agreed ORDER BY ticket"):
            try:
                orders.append(self._order.decode(body))
            except msgspec.DecodeError as exc:
                log.error("work order %s in %s does not decode (%s); left out", ticket, self.path, exc)
        changes: list[OrderChange] = []
        for n, body in db.execute("SELECT n, body FROM pending ORDER BY n"):
            try:
                changes.append(self._change.decode(body))
            except msgspec.DecodeError as exc:
                log.error("pending work-order change %d in %s does not decode (%s); left out", n, self.path, exc)
        return orders, changes

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def put_agreed(self, orders: Iterable[WorkOrder], *, drop_pending: Iterable[str] = ()) -> None:
        """Store copies of orders (replacing older ones) and drop the pending changes central has seen,
        in one transaction."""
        rows = [(o.ticket, o.rev, o.state, o.updated_at, self._enc.encode(o)) for o in orders]
        drop = [(c,) for c in drop_pending]
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO agreed VALUES (?, ?, ?, ?, ?)", rows)
                db.executemany("DELETE FROM pending WHERE change_id = ?", drop)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def add_pending(self, change: OrderChange, seq: int) -> None:
        """Keep one of the station's own changes (its event `seq` is already in the outbox)."""
        with self._lock:
            self._conn().execute(
                "INSERT OR IGNORE INTO pending (change_id, ticket, seq, body) VALUES (?, ?, ?, ?)",
                (change.change_id, change.ticket, seq, self._enc.encode(change)),
            )

    def pending_seqs(self) -> list[tuple[str, int]]:
        """(change_id, outbox seq) of every pending change, in the order made (for tools and tests)."""
        with self._lock:
            return [(str(c), int(s)) for c, s in self._conn().execute("SELECT change_id, seq FROM pending ORDER BY n")]

    def prune_closed(self, before: str) -> list[str]:
        """Forget closed orders central agreed on before `before` (RFC 3339) with no pending change;
        returns their tickets."""
        states = sorted(CLOSED_STATES)
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                tickets = [
                    str(t)
                    for (t,) in db.execute(
                        "SELECT ticket FROM agreed WHERE state IN (?, ?) AND updated_at < ? AND rev > 0 "
                        "AND ticket NOT IN (SELECT ticket FROM pending)",
                        (*states, before),
                    )
                ]
                db.executemany("DELETE FROM agreed WHERE ticket = ?", [(t,) for t in tickets])
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return tickets

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the order store is closed")
        return self._db
