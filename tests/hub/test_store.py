"""The hub: its stores on SQLite and on a real PostgreSQL, and the whole path to PostgreSQL end to end.

- Store units (both backends, a fresh database each): idempotent by (station, seq), conflicts kept and
  acked, export in per-station seq order, stale status counters ignored.
- End to end: Mosquitto, a hub on PostgreSQL and the edge daemon; `hub export` prints what was accepted.
- Two hubs in one shared-subscription group on one database split the load and store each event once.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest

from edge.api.client import EdgeClient, Submitted
from edge.sim.broker import MosquittoProcess
from edge.wire import messages as wire
from hub.store import PostgresStore, SqliteStore, Store
from tests.support.procs import PYTHON, EdgeProc, HubProc, stored_events, wait_until

EDGE_OPTS = ["--ack-timeout", "3", "--set", "uplink.reconnect_max=1", "--set", "uplink.reconnect_min=0.2"]


def conflict_rows(s: Store) -> list[tuple[str, int, str]]:
    """(station, seq, id) of every row in `event_conflicts`."""
    query = "SELECT station, seq, id FROM event_conflicts ORDER BY station, seq, id"
    if isinstance(s, SqliteStore):
        return [(str(a), int(b), str(c)) for a, b, c in s.db.execute(query)]
    assert isinstance(s, PostgresStore)
    with s.conn.transaction(), s.conn.cursor() as cur:
        cur.execute(query)
        return [(str(a), int(b), str(c)) for a, b, c in cur.fetchall()]


def ev(station: str, seq: int, *, n: int | None = None, prio: wire.Priority = wire.Priority.INFO) -> wire.Event:
    return wire.Event(
        id=wire.new_event_id(),
        station=station,
        seq=seq,
        ts=wire.utc_now_iso(),
        type="demo.tick",
        priority=prio,
        data={"n": seq if n is None else n},
    )


def put(s: Store, events: list[wire.Event]) -> Any:
    return s.store_events(events, [wire.encode(e) for e in events])


def exported(s: Store, station: str | None = None) -> list[wire.Event]:
    return [msgspec.json.decode(b, type=wire.Event) for b in s.export(station)]


# ---- 4. store units --------------------------------------------------------------------------------
def test_the_same_events_twice_are_stored_once(store: Store) -> None:
    events = [ev("ST-A", seq) for seq in range(1, 11)]
    first = put(store, events)
    assert (first.stored, first.duplicates, first.conflicts) == (10, 0, 0)
    assert first.acked == {"ST-A": list(range(1, 11))}
    again = put(store, events)
    assert (again.stored, again.duplicates, again.conflicts) == (0, 10, 0)
    assert again.acked == {"ST-A": list(range(1, 11))}, "a duplicate is acked again (the first ack may be lost)"
    # A resend that lands in the same ingest transaction as the original.
    twice = [ev("ST-A", 11), ev("ST-A", 12)]
    in_one = put(store, twice + twice)
    assert (in_one.stored, in_one.duplicates, in_one.conflicts) == (2, 2, 0)
    assert exported(store) == events + twice
    assert conflict_rows(store) == []


def test_a_different_event_under_a_taken_seq_is_kept_aside_and_still_acked(store: Store) -> None:
    original = [ev("ST-A", 1), ev("ST-A", 2), ev("ST-B", 1)]
    put(store, original)
    imposter = ev("ST-A", 2, n=999)  # a replaced box without its outbox starts again at seq 2
    batch = [ev("ST-A", 3), original[0], imposter]  # new, duplicate, conflict in one transaction
    res = put(store, batch)
    assert (res.stored, res.duplicates, res.conflicts) == (1, 1, 1)
    assert res.acked == {"ST-A": [3, 1, 2]}, "the conflicting event is acked too: it is kept, not lost"
    assert conflict_rows(store) == [("ST-A", 2, imposter.id)]
    stored = {(e.station, e.seq): e for e in exported(store)}
    assert stored[("ST-A", 2)] == original[1], "the event stored first stays the event"
    # The same imposter again: still one conflict row, still acked.
    again = put(store, [imposter])
    assert again.acked == {"ST-A": [2]}
    assert again.stored == 0
    assert conflict_rows(store) == [("ST-A", 2, imposter.id)]
    # Two different events under one new seq in the same transaction: one stored, one kept aside.
    x, y = ev("ST-C", 1, n=1), ev("ST-C", 1, n=2)
    pair = put(store, [x, y])
    assert (pair.stored, pair.duplicates, pair.conflicts) == (1, 0, 1)
    assert [e.id for e in exported(store, "ST-C")] == [x.id]
    assert ("ST-C", 1, y.id) in conflict_rows(store)


def test_export_is_in_per_station_seq_order(store: Store) -> None:
    a = {seq: ev("ST-A", seq) for seq in range(1, 21)}
    b = {seq: ev("ST-B", seq, prio=wire.Priority.ALARM) for seq in range(1, 11)}
    # Alarms overtake, resends arrive late, stations interleave: storage order is not seq order.
    put(store, [a[s] for s in (15, 16, 17)] + [b[s] for s in (9, 10)])
    put(store, [a[s] for s in range(20, 0, -2) if s not in (16,)])
    put(store, [b[s] for s in range(1, 9)] + [a[s] for s in range(1, 20, 2) if s not in (15, 17)])
    put(store, [a[4], b[3], a[19]])  # a few duplicates on top
    assert exported(store) == [a[s] for s in range(1, 21)] + [b[s] for s in range(1, 11)]
    assert exported(store, "ST-B") == [b[s] for s in range(1, 11)]
    assert exported(store, "ST-A") == [a[s] for s in range(1, 21)]
    assert exported(store, "ST-NONE") == []
    rows = {r.station: r.events for r in store.stations()}
    assert rows == {"ST-A": 20, "ST-B": 10}, "a station counts its events once, duplicates not"


def test_update_status_ignores_a_lower_counter_and_accepts_equal_or_higher(store: Store) -> None:
    def status(state: str, counter: int) -> wire.Status:
        return wire.Status(state=state, counter=counter, ts=wire.utc_now_iso())

    def row() -> tuple[str, int]:
        (r,) = [r for r in store.stations() if r.station == "ST-A"]
        return r.state, r.counter

    assert store.update_status("ST-A", status("online", 100)) is True
    assert row() == ("online", 100)
    assert store.update_status("ST-A", status("offline", 99)) is False, "a stale will is ignored"
    assert row() == ("online", 100)
    assert store.update_status("ST-A", status("offline", 100)) is True, "the will of this connection counts"
    assert row() == ("offline", 100)
    assert store.update_status("ST-A", status("online", 101)) is True
    assert row() == ("online", 101)
    assert store.update_status("ST-A", status("offline", 7)) is False
    assert row() == ("online", 101)
    # Telemetry does not touch the state or the counter, and a station unknown so far starts at 0.
    store.update_telemetry("ST-A", wire.utc_now_iso(), b'{"outbox": {"depth": 3}}')
    assert row() == ("online", 101)
    store.update_telemetry("ST-B", wire.utc_now_iso(), b'{"outbox": {"depth": 4}}')
    assert store.update_status("ST-B", status("online", 1)) is True
    by_station = {r.station: r for r in store.stations()}
    assert by_station["ST-B"].state == "online"
    assert by_station["ST-B"].telemetry == {"outbox": {"depth": 4}}
    assert by_station["ST-A"].telemetry == {"outbox": {"depth": 3}}


# ---- helpers for real processes ------------------------------------------------------------------
def kind(i: int) -> tuple[str, str, dict[str, Any]]:
    if i % 10 == 0:
        return "test.probe", "alarm", {"n": i}
    if i % 7 == 0:
        return "demo.tick", "warning", {"n": i}
    return "demo.tick", "info", {"n": i}


async def _submit(socket: Path, count: int, *, chunk: int = 100) -> dict[int, tuple[str, int]]:
    """Submit `count` events; returns seq -> (event id, the n it carries)."""
    out: dict[int, tuple[str, int]] = {}
    async with EdgeClient(socket, timeout=30) as c:
        for start in range(0, count, chunk):
            evs = [kind(i) for i in range(start, min(count, start + chunk))]
            results = await c.submit_many(evs)
            for (_, _, data), r in zip(evs, results):
                assert isinstance(r, Submitted), r
                out[r.seq] = (r.id, int(data["n"]))
    return out


def edge_depth(edge: EdgeProc) -> int:
    async def q() -> int:
        async with EdgeClient(edge.socket, timeout=10) as c:
            return (await c.status()).outbox.depth

    return asyncio.run(q())


def check_station(stored: list[dict[str, Any]], station: str, accepted: dict[int, tuple[str, int]]) -> None:
    """Exactly the accepted events of `station`, once each, in seq order, with what was submitted."""
    mine = [e for e in stored if e["station"] == station]
    assert [e["seq"] for e in mine] == sorted(accepted), "lost, duplicated or out-of-order events"
    for e in mine:
        eid, n = accepted[e["seq"]]
        type_, prio, _ = kind(n)
        assert (e["id"], e["type"], e["priority"], e["data"]["n"]) == (eid, type_, int(wire.Priority.parse(prio)), n)


# ---- 5. end to end on PostgreSQL -------------------------------------------------------------------
@pytest.mark.slow
def test_end_to_end_on_postgres_and_hub_export(tmp_path: Path, mosquitto: MosquittoProcess, pg_db_url: str) -> None:
    station = "ST-PG1"
    hub = HubProc(tmp_path, broker_url=mosquitto.url, db_url=pg_db_url)
    edge = EdgeProc(tmp_path, station=station, broker_url=mosquitto.url, extra=EDGE_OPTS)
    try:
        hub.start()
        edge.start()
        accepted = asyncio.run(_submit(edge.socket, 1000))
        assert sorted(accepted) == list(range(1, 1001))
        wait_until(
            lambda: len(stored_events(pg_db_url)) >= 1000 and edge_depth(edge) == 0,
            timeout=60,
            interval=0.3,
            what="all 1,000 events at the hub",
        )
        res = subprocess.run([*PYTHON, "hub", "export", "--db", pg_db_url], capture_output=True, timeout=120)
        assert res.returncode == 0, res.stderr.decode(errors="replace")
        lines = res.stdout.decode().splitlines()
        printed = [msgspec.json.decode(line) for line in lines]
        assert len(printed) == 1000
        check_station(printed, station, accepted)
        assert {e["priority"] for e in printed} == {1, 2, 3}
        assert edge.stop() == 0
        assert hub.stop() == 0
    finally:
        edge.stop()
        hub.stop()


# ---- 6. two hubs share the load ----------------------------------------------------------------------
STOPPED_RE = re.compile(r"hub stopped: (\d+) events stored, (\d+) duplicates")


@pytest.mark.slow
def test_two_hubs_in_one_group_share_the_load_and_store_each_event_once(
    tmp_path: Path, mosquitto: MosquittoProcess, pg_db_url: str
) -> None:
    group = f"g{secrets.token_hex(3)}"
    hubs = [HubProc(tmp_path, broker_url=mosquitto.url, db_url=pg_db_url, client_id=cid) for cid in ("hub-a", "hub-b")]
    for h in hubs:
        h.argv += ["--group", group]
    edges = [EdgeProc(tmp_path, station=st, broker_url=mosquitto.url, extra=EDGE_OPTS) for st in ("ST-PG2", "ST-PG3")]
    try:
        for h in hubs:
            h.start()
        # Both hubs are in the group before anything flows, or the first would take it all.
        wait_until(lambda: all("hub connected to" in h.log() for h in hubs), timeout=30, what="both hubs connected")
        for e in edges:
            e.start()

        async def both() -> list[dict[int, tuple[str, int]]]:
            return list(await asyncio.gather(*(_submit(e.socket, 1000, chunk=50) for e in edges)))

        accepted = asyncio.run(both())
        wait_until(
            lambda: len(stored_events(pg_db_url)) >= 2000 and all(edge_depth(e) == 0 for e in edges),
            timeout=90,
            interval=0.3,
            what="all 2,000 events at the hubs",
        )
        for e in edges:
            assert e.stop() == 0
        for h in hubs:
            assert h.stop() == 0
        stored = stored_events(pg_db_url)
        assert len(stored) == 2000
        for e, acc in zip(edges, accepted):
            check_station(stored, e.name.removeprefix("edge-"), acc)
        counts, duplicates = [], []
        for h in hubs:
            m = STOPPED_RE.search(h.log())
            assert m is not None, h.log()[-2000:]
            counts.append(int(m.group(1)))
            duplicates.append(int(m.group(2)))
        assert sum(counts) == 2000, f"events stored per hub {counts}: each event must be stored by exactly one"
        assert all(c > 0 for c in counts), f"events stored per hub {counts}: the group did not share the load"
        # Each batch goes to one hub of the group; duplicates come only from resends, never from both hubs
        # receiving everything (that would make about 2,000).
        assert sum(duplicates) < 500, f"duplicates per hub {duplicates}: both hubs received the same batches"
    finally:
        for e in edges:
            e.stop()
        for h in hubs:
            h.stop()
