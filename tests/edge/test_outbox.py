"""The durable outbox on a real SQLite file: gap-free sequence numbers across restarts, bounds, confirms."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import msgspec
import pytest

from edge.spine.outbox import Outbox
from edge.spine.records import Draft, OutboxFullError, StoredEvent
from edge.system.faults import FaultBoard
from edge.wire.messages import Event, Priority


class Waiter:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: list[StoredEvent] | BaseException | None = None

    def __call__(self, result: list[StoredEvent] | BaseException) -> None:
        self.result = result
        self.done.set()


def submit(ob: Outbox, drafts: list[Draft]) -> list[StoredEvent]:
    w = Waiter()
    ob.submit(drafts, w)
    assert w.done.wait(10)
    if isinstance(w.result, BaseException):
        raise w.result
    assert w.result is not None
    return w.result


def draft(prio: Priority = Priority.INFO, n: int = 0) -> Draft:
    return Draft("demo.tick", prio, {"n": n})


def make(tmp_path: Path, **kw: Any) -> Outbox:
    ob = Outbox(tmp_path / "outbox.db", station="ST-T", faults=FaultBoard(), reserve_bytes=0, disk_low_bytes=0, **kw)
    ob.open()
    return ob


def test_sequence_numbers_are_gap_free_and_survive_a_restart(tmp_path: Path) -> None:
    ob = make(tmp_path)
    first = submit(ob, [draft(n=i) for i in range(5)])
    assert [e.seq for e in first] == [1, 2, 3, 4, 5]
    ob.confirm([1, 2, 3])
    ob.close()
    ob = make(tmp_path)
    more = submit(ob, [draft()])
    assert more[0].seq == 6
    ob.close()


def test_reopen_returns_exactly_the_unconfirmed_events(tmp_path: Path) -> None:
    ob = make(tmp_path)
    submit(ob, [draft(n=i) for i in range(4)])
    ob.confirm([2, 4])
    ob.close()
    ob2 = Outbox(tmp_path / "outbox.db", station="ST-T", faults=FaultBoard(), reserve_bytes=0, disk_low_bytes=0)
    pending = ob2.open()
    assert [e.seq for e in pending] == [1, 3]
    ev = msgspec.json.decode(pending[0].body, type=Event)
    assert ev.station == "ST-T" and ev.seq == 1 and ev.type == "demo.tick" and ev.priority is Priority.INFO
    ob2.close()


def test_bounds_refuse_info_first_then_warnings_and_never_alarms(tmp_path: Path) -> None:
    ob = make(tmp_path, max_events=100)
    submit(ob, [draft(n=i) for i in range(90)])
    with pytest.raises(OutboxFullError, match="info"):
        submit(ob, [draft()])
    submit(ob, [draft(Priority.WARNING) for _ in range(10)])
    with pytest.raises(OutboxFullError, match="warning"):
        submit(ob, [draft(Priority.WARNING)])
    alarms = submit(ob, [draft(Priority.ALARM) for _ in range(50)])
    assert len(alarms) == 50
    assert ob.faults.is_active("outbox.full")
    assert ob.counters.rejected == 2
    ob.confirm(list(range(1, 100)))
    submit(ob, [draft(Priority.ALARM)])  # a flush through the writer
    assert len(submit(ob, [draft()])) == 1
    assert not ob.faults.is_active("outbox.full")
    ob.close()


def test_events_are_on_disk_when_accepted(tmp_path: Path) -> None:
    """Another connection (another process, as after a crash) sees the event as soon as submit returns."""
    import sqlite3

    ob = make(tmp_path)
    (e,) = submit(ob, [draft(Priority.ALARM)])
    con = sqlite3.connect(tmp_path / "outbox.db")
    assert con.execute("SELECT seq, id FROM events").fetchall() == [(e.seq, e.id)]
    con.close()
    ob.close()


def test_group_commit_takes_concurrent_submissions_together(tmp_path: Path) -> None:
    ob = make(tmp_path)
    waiters = [Waiter() for _ in range(200)]
    for i, w in enumerate(waiters):
        ob.submit([draft(n=i)], w)
    for w in waiters:
        assert w.done.wait(10)
    seqs = sorted(e.seq for w in waiters for e in w.result)  # type: ignore[union-attr]
    assert seqs == list(range(1, 201))
    ob.close()
