"""A hub that opens its SQLite database twice (ingest and request workers do) keeps SQLite's locks: what it
commits is seen at once by a reader in another process, and that reader never deletes the WAL under it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from edge.wire import messages as wire
from hub.sqlite_store import SqliteStore


def _event(seq: int) -> tuple[wire.Event, bytes]:
    ev = wire.Event(
        id=wire.new_event_id(),
        station="ST-L",
        seq=seq,
        ts=wire.utc_now_iso(),
        type="station.note",
        priority=wire.Priority.INFO,
        data={"text": f"n{seq}"},
    )
    return ev, wire.encode(ev)


def _count_elsewhere(path: Path) -> int:
    """Count the events from another process, read-write like any tool would, then close (the last closer of
    a WAL database checkpoints it and deletes the WAL, unless it sees another connection's lock)."""
    code = (
        f"import sqlite3; c = sqlite3.connect({str(path)!r}); print(c.execute('SELECT COUNT(*) FROM events')"
        ".fetchone()[0]); c.close()"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return int(out.stdout)


def test_a_second_store_in_the_process_keeps_the_first_ones_commits_visible(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    ingest = SqliteStore(path)
    workers = SqliteStore(path)  # the request workers' connection, opened after the ingest's
    try:
        ev, body = _event(1)
        ingest.store_events([ev], [body])
        assert _count_elsewhere(path) == 1
        ev, body = _event(2)
        ingest.store_events([ev], [body])  # after the other process closed: still written where all can see
        assert _count_elsewhere(path) == 2
        assert (tmp_path / "hub.db-wal").exists()
    finally:
        workers.close()
        ingest.close()
