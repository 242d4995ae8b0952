"""A forged ack deletes nothing: a real edge daemon and a real Mosquitto, acks published by an intruder.

Without the hub, the station's events stay in flight; acks on its ack topic that name no batch it sent
(or no batch at all, as before batch ids) confirm nothing, and the outbox keeps every event. When the
hub comes, everything is delivered.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import msgspec
import pytest

from edge.api.client import EdgeClient
from edge.sim.broker import MosquittoProcess
from edge.wire import messages as wire
from tests.support.hubtest import edge_depth, submit_ticks, wait_hub_listening
from tests.support.mqtt import TestClient
from tests.support.procs import EdgeProc, HubProc, stored_events, wait_until


def link(edge: EdgeProc) -> dict[str, int]:
    async def q() -> dict[str, int]:
        async with EdgeClient(edge.socket, timeout=10) as c:
            return dict(msgspec.to_builtins((await c.status()).link))

    return asyncio.run(q())


@pytest.mark.slow
def test_a_forged_ack_deletes_nothing(tmp_path: Path, mosquitto: MosquittoProcess) -> None:
    station = "ST-ACK"
    edge = EdgeProc(
        tmp_path,
        station=station,
        broker_url=mosquitto.url,
        extra=["--ack-timeout", "600", "--set", "uplink.reconnect_max=1"],
    )
    # The intruder watches what the station publishes, to forge acks as precisely as it can.
    intruder = TestClient(mosquitto.url, client_id="intruder", subscribe=(wire.topic(station, "event"),))
    hub = HubProc(tmp_path, broker_url=mosquitto.url, db_url=f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        edge.start()
        accepted = asyncio.run(submit_ticks(edge.socket, 1, 30, chunk=10))
        wait_until(
            lambda: len(intruder.received(wire.topic(station, "event"))) >= 1, timeout=30, what="the station's batches"
        )
        wait_until(lambda: link(edge)["in_flight"] >= 1, timeout=30, what="batches in flight")
        seen = [wire.decode_batch(p) for p in intruder.received(wire.topic(station, "event"))]
        all_seqs = sorted(accepted)
        ack_topic = wire.topic(station, "ack")
        forged = [
            wire.Ack(seqs=all_seqs),  # the old form: no batch named
            wire.Ack(seqs=all_seqs, batch=min(b.batch for b in seen) - 1),
            wire.Ack(seqs=all_seqs, batch=max(b.batch for b in seen) + 1000),
        ]
        forged += [
            wire.Ack(seqs=[s for s in all_seqs if s not in {e.seq for e in b.events}], batch=b.batch) for b in seen
        ]  # a real batch id, with every seq except its own
        for ack in forged:
            intruder.publish(ack_topic, wire.encode(ack))
        wait_until(lambda: link(edge)["acks_ignored"] >= 3, timeout=30, what="the forged acks counted")
        time.sleep(0.5)  # nothing else is coming: the forged acks were all handled above
        assert edge_depth(edge) == 30, "a forged ack deleted events the hub never stored"
        # The real hub stores them and its acks confirm them.
        hub.start()
        wait_hub_listening(hub, intruder, hub.db_url)
        edge.stop()
        edge.start()  # the station resends what is unconfirmed when it connects (the ack timeout is 600 s)
        wait_until(lambda: edge_depth(edge) == 0, timeout=60, interval=0.3, what="the real acks")
        mine = [e for e in stored_events(hub.db_url) if e["station"] == station]
        assert [e["id"] for e in mine] == [accepted[s] for s in all_seqs]
    finally:
        intruder.close()
        edge.stop()
        hub.stop()
