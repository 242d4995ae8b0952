"""Schema versions of the station's databases: an upgrade from the schema that shipped before versions were
recorded keeps every row, and a newer version than the code knows stops start-up and touches nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec
import pytest

from edge.alarms.journal import IncidentStore
from edge.orders.store import OrderStore
from edge.spine.outbox import Outbox
from edge.system.faults import FaultBoard
from edge.system.schema import SchemaTooNewError, migrate, version_of
from edge.wire.messages import Priority
from edge.wire.orders import WorkOrder

# The DDL as it shipped before versions were recorded (copied here on purpose: the code may change, this may not).
OUTBOX_SHIPPED = """
CREATE TABLE IF NOT EXISTS events (
    seq      INTEGER PRIMARY KEY,
    id       TEXT NOT NULL,
    priority INTEGER NOT NULL,
    accepted REAL NOT NULL,
    body     BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

ORDERS_SHIPPED = """
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

# An incident snapshot as the journal wrote it before this change (format v1).
SNAPSHOT_SHIPPED = (
    b'{"v":1,"epoch":4,"saved_at":1700000000.0,"incidents":[{"id":"inc-1","state":"raised","kind":"panic",'
    b'"source":{"kind":"manual"},"raised_at":1700000000.0,"targets":{"respond_s":60.0,"arrive_s":180.0,'
    b'"resolve_s":300.0},"deadlines":{"respond":1700000060.0,"arrive":1700000180.0,"resolve":1700000300.0},'
    b'"rev":2}],"unsent":[{"key":"inc-1:2","type":"alarm.raised","priority":2,"data":{"x":1}}],"budgets":{}}'
)


def _shipped_db(path: Path, ddl: str, rows: list[tuple[str, tuple[object, ...]]]) -> None:
    db = sqlite3.connect(path)
    db.executescript(ddl)
    for sql, args in rows:
        db.execute(sql, args)
    db.commit()
    db.close()


def _version(path: Path, legacy: str) -> int:
    db = sqlite3.connect(path)
    try:
        return version_of(db, legacy)
    finally:
        db.close()


def _set_version(path: Path, version: int) -> None:
    db = sqlite3.connect(path)
    db.execute("UPDATE schema_version SET version = ?", (version,))
    db.commit()
    db.close()


def test_outbox_upgrades_the_shipped_schema_and_keeps_its_events(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    _shipped_db(
        path,
        OUTBOX_SHIPPED,
        [
            ("INSERT INTO events VALUES (?, ?, ?, ?, ?)", (7, "ev-7", int(Priority.ALARM), 1.0, b'{"seq":7}')),
            ("INSERT INTO events VALUES (?, ?, ?, ?, ?)", (8, "ev-8", int(Priority.INFO), 2.0, b'{"seq":8}')),
            ("INSERT INTO meta VALUES ('next_seq', '9')", ()),
        ],
    )
    ob = Outbox(path, station="st-1", faults=FaultBoard())
    try:
        pending = ob.open()
        assert [(e.seq, e.id, e.body) for e in pending] == [(7, "ev-7", b'{"seq":7}'), (8, "ev-8", b'{"seq":8}')]
        assert ob.next_seq == 9
    finally:
        ob.close()
    assert _version(path, "events") == 1


def test_outbox_refuses_a_newer_schema_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    ob = Outbox(path, station="st-1", faults=FaultBoard())
    ob.open()
    ob.close()
    _set_version(path, 99)
    before = path.read_bytes()
    with pytest.raises(SchemaTooNewError, match=r"outbox\.db has schema version 99"):
        Outbox(path, station="st-1", faults=FaultBoard()).open()
    assert path.read_bytes() == before
    assert _version(path, "events") == 99


def test_order_store_upgrades_the_shipped_schema_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    order = WorkOrder(ticket="T-1", station="st-1", description="路灯不亮", rev=3, state="assigned")
    _shipped_db(
        path,
        ORDERS_SHIPPED,
        [("INSERT INTO agreed VALUES (?, ?, ?, ?, ?)", ("T-1", 3, "assigned", "", msgspec.json.encode(order)))],
    )
    store = OrderStore(path)
    try:
        orders, changes = store.open()
    finally:
        store.close()
    assert orders == [order]
    assert changes == []
    assert _version(path, "agreed") == 1


def test_order_store_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    store = OrderStore(path)
    store.open()
    store.close()
    _set_version(path, 2)
    with pytest.raises(SchemaTooNewError, match=r"orders\.db has schema version 2"):
        OrderStore(path).open()
    assert _version(path, "agreed") == 2


def test_incident_journal_reads_the_shipped_snapshot(tmp_path: Path) -> None:
    (tmp_path / "incidents.json").write_bytes(SNAPSHOT_SHIPPED)
    store = IncidentStore(tmp_path)
    try:
        snap = store.open()
    finally:
        store.close()
    assert [(i.id, i.rev) for i in snap.incidents] == [("inc-1", 2)]
    assert [p.key for p in snap.unsent] == ["inc-1:2"]
    assert snap.epoch == 4


def test_incident_journal_refuses_a_newer_snapshot_and_never_moves_it_aside(tmp_path: Path) -> None:
    newer = SNAPSHOT_SHIPPED.replace(b'"v":1', b'"v":2').replace(b'"rev":2', b'"rev":2,"new_field":true')
    (tmp_path / "incidents.json").write_bytes(newer)
    with pytest.raises(SchemaTooNewError, match=r"incidents\.json has snapshot version 2"):
        IncidentStore(tmp_path).open()
    assert (tmp_path / "incidents.json").read_bytes() == newer
    assert not (tmp_path / "incidents.damaged").exists()


def test_migrations_run_in_order_once_and_keep_rows(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    v1 = "CREATE TABLE items (k TEXT PRIMARY KEY)"
    v2 = "ALTER TABLE items ADD COLUMN n INTEGER NOT NULL DEFAULT 0; UPDATE items SET n = length(k)"
    v3 = "CREATE INDEX items_n ON items (n)"
    _shipped_db(path, v1, [("INSERT INTO items VALUES ('abc')", ())])
    db = sqlite3.connect(path, isolation_level=None)
    try:
        assert migrate(db, path, [v1, v2, v3], legacy_table="items") == 1
        assert migrate(db, path, [v1, v2, v3], legacy_table="items") == 3  # nothing left to do
        assert db.execute("SELECT k, n FROM items").fetchall() == [("abc", 3)]
        assert version_of(db, "items") == 3
        with pytest.raises(SchemaTooNewError):
            migrate(db, path, [v1, v2], legacy_table="items")
        assert not db.in_transaction
    finally:
        db.close()


def test_a_failing_migration_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    v1 = "CREATE TABLE items (k TEXT PRIMARY KEY)"
    _shipped_db(path, v1, [("INSERT INTO items VALUES ('abc')", ())])
    db = sqlite3.connect(path, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError):
            migrate(db, path, [v1, "CREATE TABLE fine (a); ALTER TABLE nowhere ADD COLUMN b"], legacy_table="items")
        assert version_of(db, "items") == 1  # still the unversioned shipped schema
        assert db.execute("SELECT name FROM sqlite_master WHERE name IN ('fine', 'schema_version')").fetchall() == []
    finally:
        db.close()
