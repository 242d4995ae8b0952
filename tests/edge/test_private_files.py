"""Files that hold personal data (issue 12): private modes whatever the umask, and no resident's phone
number left in the outbox's database or WAL once the hub has confirmed the event."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.alarms.journal import IncidentStore
from edge.spine.outbox import Outbox
from edge.spine.records import Draft
from edge.system.faults import FaultBoard
from edge.wire.messages import Priority
from hub.store import SqliteStore
from tests.support.procs import wait_until

PHONE = "13912345678"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask a service manager could leave."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def outbox(tmp_path: Path) -> Outbox:
    ob = Outbox(tmp_path / "outbox.db", station="ST-T", faults=FaultBoard(), reserve_bytes=0, disk_low_bytes=0)
    ob.open()
    return ob


def submit(ob: Outbox, drafts: list[Draft]) -> list[int]:
    import threading

    done = threading.Event()
    got: list[int] = []

    def callback(result: object) -> None:
        assert isinstance(result, list), result
        got.extend(e.seq for e in result)
        done.set()

    ob.submit(drafts, callback)
    assert done.wait(30)
    return got


@pytest.mark.usefixtures("open_umask")
def test_the_outbox_and_its_wal_are_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = tmp_path / "outbox.db"
    old.write_bytes(b"")
    old.chmod(0o644)  # what an older version left behind
    ob = outbox(tmp_path)
    try:
        submit(ob, [Draft("demo.tick", Priority.INFO, {"n": 1})])
        assert mode(tmp_path / "outbox.db") == 0o600
        assert mode(tmp_path / "outbox.db-wal") == 0o600
    finally:
        ob.close()


@pytest.mark.usefixtures("open_umask")
def test_the_incident_journal_is_0640_whatever_the_umask(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path / "alarms", journal_bytes=64 << 10)
    store.open()
    assert mode(store.journal_path) == 0o640


@pytest.mark.usefixtures("open_umask")
def test_the_hub_database_is_0640_whatever_the_umask(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "hub.db")
    try:
        assert mode(tmp_path / "hub.db") == 0o640
        assert mode(tmp_path / "hub.db-wal") == 0o640
    finally:
        store.close()


def _files_hold(tmp_path: Path, needle: bytes) -> bool:
    return any(needle in p.read_bytes() for p in tmp_path.glob("outbox.db*") if p.is_file())


def test_no_phone_number_in_the_outbox_files_after_the_hub_confirmed_it(tmp_path: Path) -> None:
    ob = outbox(tmp_path)
    try:
        report = {"service": "report_dispute", "fields": {"name": "张三", "phone": PHONE}}
        seqs = submit(ob, [Draft("kiosk.report", Priority.WARNING, report)])
        submit(ob, [Draft("demo.tick", Priority.INFO, {"n": i}) for i in range(50)])  # company on the pages
        assert _files_hold(tmp_path, PHONE.encode())  # on disk before the hub has it: that is the point
        ob.confirm(seqs)
        wait_until(
            lambda: not _files_hold(tmp_path, PHONE.encode()),
            timeout=30,
            what="the confirmed phone number to leave outbox.db and its WAL",
        )
        assert not _files_hold(tmp_path, "张三".encode())
        # Debian's SQLite already defaults to secure_delete; the outbox sets it for the builds that do not
        assert ob._db is not None and ob._db.execute("PRAGMA secure_delete").fetchone() == (1,)
    finally:
        ob.close()
    assert not _files_hold(tmp_path, PHONE.encode())
