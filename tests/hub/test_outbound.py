"""Central's outbox (hub/outbound.py): commands queued by the console are signed and published by the hub,
in order, once the broker has them; nothing is lost to a broker outage; bad input is refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.sim.broker import MosquittoProcess
from hub.outbound import LEASE_S, MAX_ARGS_BYTES, enqueue, hold_lease, publish_due, rows
from hub.store import open_store
from hub.web.db import Db
from tests.support.commands import central_keys
from tests.support.procs import wait_until
from tests.support.station import Station


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    url = f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_db_url")
    open_store(url).close()  # the hub's migrations create the table
    d = Db(url)
    yield d
    d.close()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"target": "../x"}, "target must be"),
        ({"name": "Bad Name"}, "bad command name"),
        ({"lifetime_s": 0}, "lifetime must be"),
        ({"lifetime_s": 10e9}, "lifetime must be"),
        ({"args": {"x": "y" * MAX_ARGS_BYTES}}, "bytes, more than"),
    ],
)
def test_bad_commands_are_refused_with_a_reason(db: Db, kw: dict[str, object], message: str) -> None:
    params: dict[str, object] = {"target": "ST-1", "name": "kiosk.notices", "args": {}, **kw}
    with pytest.raises(ValueError, match=message):
        enqueue(db, **params)  # type: ignore[arg-type]
    assert rows(db) == []


def test_a_newer_command_supersedes_a_queued_one_of_the_same_key_only(db: Db) -> None:
    a = enqueue(db, target="ST-1", name="kiosk.bulletin", args={"week": 1}, supersede="bulletin:W1")
    other_station = enqueue(db, target="ST-2", name="kiosk.bulletin", args={"week": 1}, supersede="bulletin:W1")
    unkeyed = enqueue(db, target="ST-1", name="kiosk.bulletin", args={"week": 0})
    b = enqueue(db, target="ST-1", name="kiosk.bulletin", args={"week": 1, "edited": True}, supersede="bulletin:W1")
    ids = [r.id for r in rows(db)]
    assert a not in ids and {b, other_station, unkeyed} <= set(ids)
    assert all(r.state == "queued" for r in rows(db))


def notice_args(n: int) -> dict[str, object]:
    return {
        "scope": "ST-OB",
        "issued_at": f"2026-12-03T08:00:{n:02d}Z",
        "notices": [
            {
                "id": f"n{n}",
                "kind": "anti_fraud",
                "title": {"zh": f"提示{n}", "en": f"Tip {n}"},
                "body": {"zh": "谨防诈骗", "en": "Beware of scams"},
            }
        ],
    }


def test_queued_commands_reach_the_station_in_order_and_survive_a_broker_outage(
    tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    """The console queues; the hub (with central's key) signs and publishes in id order; the station's
    command gate accepts each (a lower counter after a higher one would be refused as a replay, so the
    order is what this shows). With the broker down nothing is marked published and nothing is lost."""
    st = Station(tmp_path, mosquitto, station="ST-OB", printer=False, signing=True)
    db = None
    try:
        st.start()
        st.wait_linked()
        open_store(st.db_url).close()  # as the console does before it opens the database (the hub may be starting)
        db = Db(st.db_url)
        for n in range(5):
            enqueue(db, target="ST-OB", name="kiosk.notices", args=notice_args(n))
        wait_until(lambda: all(r.state == "published" for r in rows(db)), timeout=30, what="all published")
        wait_until(
            lambda: [n["id"] for n in st.call("kiosk.notices")["notices"]] == ["n4"],
            timeout=30,
            what="the last notice set in force at the station",
        )
        # a refused command (a replay, a bad signature) would be a visible `commands` fault
        assert not [f for f in st.call("status.get")["faults"] if f["code"] == "commands"]

        mosquitto.stop()
        queued = enqueue(db, target="ST-OB", name="kiosk.notices", args=notice_args(9))
        assert [r.state for r in rows(db) if r.id == queued] == ["queued"]
        mosquitto.start()
        wait_until(
            lambda: [n["id"] for n in st.call("kiosk.notices")["notices"]] == ["n9"],
            timeout=60,
            what="the command queued during the outage to arrive",
        )
        row = next(r for r in rows(db) if r.id == queued)
        assert row.state == "published" and row.attempts >= 1
    finally:
        if db is not None:
            db.close()
        st.close()


class WritingBroker:
    """A broker stand-in whose acknowledgement comes only after another connection of the hub (ingest, a
    console page) has written to the database: with a transaction held across the wait it would block."""

    connected = True

    def __init__(self, url: str) -> None:
        self.other = Db(url)
        self.published: list[str] = []

    def publish_confirmed(self, topic: str, payload: bytes, *, retain: bool, timeout: float) -> None:
        with self.other.transaction():  # on SQLite: BEGIN IMMEDIATE, refused while another writer holds the lock
            self.other.run("INSERT INTO hub_state VALUES (?, 'x', 0) ON CONFLICT DO NOTHING", (topic,))
        self.published.append(topic)


def test_publishing_holds_no_transaction_while_the_broker_is_asked(db: Db) -> None:
    for n in range(3):
        enqueue(db, target=f"ST-{n}", name="kiosk.notices", args=notice_args(n))
    broker = WritingBroker(db.url)
    if not db.pg:
        broker.other.run("PRAGMA busy_timeout=200")
    try:
        assert publish_due(db, central_keys().signer, broker, holder="hub-a") == 3
    finally:
        broker.other.close()
    assert [t.split("/")[2] for t in broker.published] == ["ST-0", "ST-1", "ST-2"]
    assert [r.state for r in rows(db)] == ["published"] * 3


def test_one_hub_publishes_at_a_time_and_a_stopped_hubs_lease_passes_on(db: Db) -> None:
    assert hold_lease(db, "hub-a", 1000.0)
    assert not hold_lease(db, "hub-b", 1000.0 + LEASE_S - 1)  # hub-a's lease is still fresh
    assert hold_lease(db, "hub-a", 1000.0 + LEASE_S - 1)  # renewed
    assert not hold_lease(db, "hub-b", 1000.0 + 2 * LEASE_S - 2)
    assert hold_lease(db, "hub-b", 1000.0 + 2 * LEASE_S)  # hub-a stopped renewing
    assert not hold_lease(db, "hub-a", 1000.0 + 2 * LEASE_S + 1)

    enqueue(db, target="ST-1", name="kiosk.notices", args=notice_args(1))
    assert hold_lease(db, "hub-b", time.time())
    broker = WritingBroker(db.url)
    try:
        assert publish_due(db, central_keys().signer, broker, holder="hub-a") == 0  # hub-b holds the lease
        assert broker.published == [] and [r.state for r in rows(db)] == ["queued"]
    finally:
        broker.other.close()
