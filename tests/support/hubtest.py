"""Helpers of the hub tests (no tests here): submit events to a real edge, wait for a real hub to listen."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from edge.api.client import EdgeClient, Submitted
from edge.wire import messages as wire
from tests.support.mqtt import TestClient
from tests.support.procs import EdgeProc, HubProc


async def submit_ticks(socket: Path, first: int, count: int, *, chunk: int = 50) -> dict[int, str]:
    """Submit `count` demo.tick events numbered from `first`; returns seq -> event id."""
    out: dict[int, str] = {}
    async with EdgeClient(socket, timeout=30) as c:
        for start in range(first, first + count, chunk):
            evs = [("demo.tick", "info", {"n": n}) for n in range(start, min(first + count, start + chunk))]
            for r in await c.submit_many(evs):
                assert isinstance(r, Submitted), r
                out[r.seq] = r.id
    return out


def edge_depth(edge: EdgeProc) -> int:
    async def q() -> int:
        async with EdgeClient(edge.socket, timeout=10) as c:
            return int((await c.status()).outbox.depth)

    return asyncio.run(q())


def station_rows(db_url: str) -> dict[str, object]:
    from hub.store import open_store

    s = open_store(db_url)
    try:
        return {r.station: r for r in s.stations()}
    finally:
        s.close()


def wait_hub_listening(
    hub: HubProc, client: TestClient, db_url: str, *, probe: str = "ST-PROBE", timeout: float = 30
) -> None:
    """Until the hub stores a probe station's heartbeat: its subscriptions are in place."""
    deadline = time.monotonic() + timeout
    payload = wire.encode(wire.Heartbeat(counter=1, ts=wire.utc_now_iso()))
    while True:
        if not hub.alive:
            raise AssertionError(f"the hub exited:\n{hub.log()[-3000:]}")
        client.publish(wire.topic(probe, "heartbeat"), payload, qos=0)
        time.sleep(0.2)
        if probe in station_rows(db_url):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the hub did not start listening:\n{hub.log()[-3000:]}")
