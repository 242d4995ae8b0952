"""No station can break the hub: every poison message of issue 9 against a real Mosquitto and a real hub
process on SQLite and on PostgreSQL, while a well-behaved station's events keep arriving in order.

- A retained status with `counter` 2**63 (SQLite OverflowError before), kept on the broker: the hub
  dead-letters it, and again after a restart, and keeps running.
- Event batches with seq 2**63, with data nested 100,000 levels (RecursionError before), with U+0000
  in the type or the data (PostgreSQL DataError before), with a lone surrogate; a batch the database
  itself refuses (a constraint added by the test); a topic whose station id breaks the id pattern; no
  JSON at all; more than the size limit; bad telemetry, heartbeat and requests.
- Refused events of a batch are acked (naming the batch) and kept in the dead-letter table; the good
  events next to them are stored.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest

from edge.sim.broker import MosquittoProcess
from edge.wire import messages as wire
from hub.store import PostgresStore, SqliteStore, Store, open_store
from tests.support.hubtest import edge_depth, submit_ticks, wait_hub_listening
from tests.support.mqtt import TestClient
from tests.support.procs import PYTHON, EdgeProc, HubProc, stored_events, wait_until

EDGE_OPTS = ["--ack-timeout", "3", "--set", "uplink.reconnect_max=1", "--set", "uplink.reconnect_min=0.2"]
EVIL = "ST-EVIL"


def event(seq: int, *, type_: str = "demo.tick", data: Any = None, station: str = EVIL) -> dict[str, Any]:
    return {
        "v": 1,
        "id": wire.new_event_id(),
        "station": station,
        "seq": seq,
        "ts": wire.utc_now_iso(),
        "type": type_,
        "priority": 1,
        "data": {"n": seq} if data is None else data,
    }


def batch(batch_id: int, *events: dict[str, Any]) -> bytes:
    return msgspec.json.encode({"v": 1, "station": EVIL, "batch": batch_id, "events": list(events)})


def refuse_in_database(s: Store) -> None:
    """A rule of the database itself (not of our validation): events noting `refuse-me` are refused."""
    if isinstance(s, SqliteStore):
        s.db.execute(
            "CREATE TRIGGER refuse_me BEFORE INSERT ON events WHEN NEW.body LIKE '%refuse-me%' "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
    else:
        assert isinstance(s, PostgresStore)
        with s.conn.transaction():
            s.conn.execute("ALTER TABLE events ADD CONSTRAINT refuse_me CHECK (body::text NOT LIKE '%refuse-me%')")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    url: str = request.getfixturevalue("pg_db_url")
    return url


@pytest.mark.slow
def test_poison_messages_leave_the_hub_running_and_good_events_stored(
    tmp_path: Path, mosquitto: MosquittoProcess, db_url: str
) -> None:
    setup = open_store(db_url)  # migrated like the hub will find it
    refuse_in_database(setup)
    setup.close()
    hub = HubProc(tmp_path, broker_url=mosquitto.url, db_url=db_url)
    good = EdgeProc(tmp_path, station="ST-GOOD", broker_url=mosquitto.url, extra=EDGE_OPTS)
    evil = TestClient(mosquitto.url, client_id="evil", subscribe=(wire.topic(EVIL, "ack"),))
    # The retained poison status is on the broker before the hub ever starts.
    evil.publish(
        wire.topic(EVIL, "status"), b'{"v":1,"state":"online","counter":9223372036854775808,"ts":"x"}', retain=True
    )
    try:
        hub.start()
        wait_hub_listening(hub, evil, db_url)
        good.start()
        accepted = asyncio.run(submit_ticks(good.socket, 1, 100))
        t = wire.topic(EVIL, "event")
        deep = b"[" * 100_000 + b"]" * 100_000
        poisons: list[tuple[str, bytes]] = [
            (t, batch(11, event(1, data={"n": 1}), {**event(2), "seq": 2**63})),
            (t, batch(12, event(3, data={"n": 3, "note": "a\x00b"}))),
            (t, batch(13, event(4, type_="demo.\x00tick"), event(5))),
            (t, batch(14, event(6, data={"n": 6, "note": "SURROGATE"})).replace(b"SURROGATE", b"\\ud800")),
            (t, batch(15, event(7, data={"n": 7, "note": "refuse-me"}), event(8))),
            (
                t,
                b'{"v":1,"station":"ST-EVIL","batch":16,"events":['
                + msgspec.json.encode(event(9))[:-1]
                + b',"deep":'
                + deep
                + b"}]}",
            ),
            (t, b'{"v":1,"station":"ST-EVIL","events":[{"data":' + deep + b"}]}"),
            (t, b"\xff\xfe not json"),
            (t, b'{"v":1,"station":"ST-EVIL","events":[' + b'{"n":' * 5000 + b"1" + b"}" * 5000 + b"]}"),
            (t, b'{"pad":"' + b"x" * (1024 * 1024 + 10) + b'"}'),
            ("police/v1/BAD$ID/event", batch(1, event(1))),
            ("police/v1/" + "A" * 80 + "/status", b'{"v":1,"state":"online","counter":1,"ts":"x"}'),
            (wire.topic(EVIL, "telemetry"), b'{"v":1,"ts":"\\u0000"}'),
            (wire.topic(EVIL, "heartbeat"), b'{"v":1,"counter":-1,"ts":"x"}'),
            (wire.topic(EVIL, "rpc", "req"), b'{"v":1,"id":"r","method":"hub.ping","params":' + deep + b"}"),
            (wire.topic(EVIL, "rpc", "req"), b'{"v":1,"id":"\\u0000","method":"hub.ping"}'),
        ]
        for topic, payload in poisons:
            evil.publish(topic, payload)
        more = asyncio.run(submit_ticks(good.socket, 101, 100))
        accepted.update(more)
        wait_until(
            lambda: (
                len([e for e in stored_events(db_url) if e["station"] == "ST-GOOD"]) >= 200 and edge_depth(good) == 0
            ),
            timeout=90,
            interval=0.3,
            what="the good station's 200 events",
        )
        assert hub.alive, hub.log()[-3000:]
        # The good station: every event, once, in order.
        mine = [e for e in stored_events(db_url) if e["station"] == "ST-GOOD"]
        assert [(e["seq"], e["id"]) for e in mine] == sorted(accepted.items())
        # The evil station: what is fine on its own is stored, the rest kept aside and acked by batch.
        evil_stored = sorted(int(e["seq"]) for e in stored_events(db_url) if e["station"] == EVIL)
        assert evil_stored == [1, 5, 8], evil_stored
        acks = [wire.decode_ack(p) for p in evil.wait_for(wire.topic(EVIL, "ack"), 4)]
        by_batch = {a.batch: a.seqs for a in acks}
        assert by_batch[11] == [1], "seq 2**63 cannot be acked, seq 1 beside it is stored"
        assert by_batch[12] == [3] and by_batch[13] == [4, 5]
        # A lone surrogate escape or a hopeless nesting makes the event unreadable, its seq too: no ack.
        assert 14 not in by_batch and 16 not in by_batch
        wait_until(
            lambda: 15 in {wire.decode_ack(p).batch for p in evil.received(wire.topic(EVIL, "ack"))},
            timeout=30,
            what="the ack of the batch the database refused in part",
        )
        by_batch = {a.batch: a.seqs for a in map(wire.decode_ack, evil.received(wire.topic(EVIL, "ack")))}
        assert by_batch[15] == [7, 8], "the refused event is acked (kept in dead letters), its neighbour stored"
        s = open_store(db_url)
        try:
            letters = s.dead_letters(1000)
            reasons = "\n".join(f"{d.topic} {d.reason}" for d in letters)
            assert any("U+0000" in d.reason for d in letters), reasons
            assert any("nested deeper" in d.reason for d in letters), reasons
            assert any("the database refused" in d.reason for d in letters), reasons
            assert any("id pattern" in d.reason for d in letters), reasons
            assert any("over the limit" in d.reason for d in letters), reasons
            assert all(len(d.payload) <= 1024 for d in letters)
            wait_until(
                lambda: any(d.topic.endswith("/status") and "counter" in d.reason for d in s.dead_letters(1000)),
                timeout=30,
                what="the retained status refused",
            )
            before = sum(1 for d in s.dead_letters(1000) if d.topic == wire.topic(EVIL, "status"))
        finally:
            s.close()
        # A restart: the retained poison status is delivered again and refused again; the hub stays up.
        assert hub.stop() == 0
        hub.start()
        wait_hub_listening(hub, evil, db_url, probe="ST-PROBE2")

        def refused_again() -> bool:
            st = open_store(db_url)
            try:
                return sum(1 for d in st.dead_letters(1000) if d.topic == wire.topic(EVIL, "status")) > before
            finally:
                st.close()

        wait_until(refused_again, timeout=30, what="the retained poison status refused after the restart")
        after = asyncio.run(submit_ticks(good.socket, 201, 20))
        accepted.update(after)
        wait_until(lambda: edge_depth(good) == 0, timeout=60, interval=0.3, what="the events after the restart")
        mine = [e for e in stored_events(db_url) if e["station"] == "ST-GOOD"]
        assert [(e["seq"], e["id"]) for e in mine] == sorted(accepted.items())
        assert hub.alive, hub.log()[-3000:]
        res = subprocess.run([*PYTHON, "hub", "stations", "--db", db_url], capture_output=True, timeout=60)
        rows = {r["station"]: r for r in map(msgspec.json.decode, res.stdout.splitlines())}
        assert rows[EVIL]["dead_letters"] >= 10, rows[EVIL]
        assert rows["ST-GOOD"]["dead_letters"] == 0
        assert good.stop() == 0
        assert hub.stop() == 0
    finally:
        evil.client.publish(wire.topic(EVIL, "status"), b"", qos=1, retain=True).wait_for_publish(10)
        evil.close()
        good.stop()
        hub.stop()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3])
def test_a_fuzz_run_of_hostile_messages_leaves_the_hub_running(tmp_path: Path, db_url: str, seed: int) -> None:
    """scripts/fuzz_hub.py with a few hundred messages (the script's default is 10,000)."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_hub.py"
    res = subprocess.run(
        [
            *PYTHON[:1],
            str(script),
            "--count",
            "300",
            "--seed",
            str(seed),
            "--db",
            db_url,
            "--workdir",
            str(tmp_path / "fuzz"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr + (tmp_path / "fuzz" / "hub.log").read_text()[-3000:]
    assert "the hub kept running" in res.stdout
