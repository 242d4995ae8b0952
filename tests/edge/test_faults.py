"""Fault tests: thousands of events streamed through a real Mosquitto, edge daemon and hub while one of
them is killed (SIGKILL), cut off, or starved of disk. Each passes only with zero lost accepted events,
zero duplicates stored, and every station's events stored under gap-free, ordered sequence numbers."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from edge.api.client import ApiError, DaemonUnavailableError, EdgeClient, Submitted
from edge.sim.broker import MosquittoProcess
from tests.support.procs import EdgeProc, HubProc, stored_events, wait_until
from tests.support.require import require

pytestmark = [pytest.mark.fault, pytest.mark.slow]

EDGE_OPTS = ["--ack-timeout", "2", "--set", "uplink.reconnect_max=2", "--set", "uplink.reconnect_min=0.2"]


class Producer(threading.Thread):
    """Streams events into the daemon's API, reconnecting when the daemon dies. Every 25th is an alarm."""

    def __init__(self, socket: Path, *, total: int, batch: int = 10, rate: float = 600.0, pad: int = 0) -> None:
        super().__init__(name="producer", daemon=True)
        self.socket = socket
        self.total = total
        self.batch = batch
        self.rate = rate
        self.pad = "x" * pad
        self.accepted: dict[str, int] = {}  # event id -> seq, only for answered submissions
        self.refused: list[str] = []
        self.unanswered = 0
        self.sent = 0
        self.stop_flag = threading.Event()

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        start = time.monotonic()
        while self.sent < self.total and not self.stop_flag.is_set():
            try:
                client = EdgeClient(self.socket, timeout=10)
                await client.connect()
            except DaemonUnavailableError:
                await asyncio.sleep(0.05)
                continue
            try:
                while self.sent < self.total and not self.stop_flag.is_set():
                    n = min(self.batch, self.total - self.sent)
                    evs = []
                    for i in range(self.sent, self.sent + n):
                        if i % 25 == 0:
                            evs.append(("test.probe", "alarm", {"n": i, "pad": self.pad}))
                        else:
                            evs.append(("demo.tick", "info", {"n": i, "pad": self.pad}))
                    self.sent += n
                    try:
                        results = await client.submit_many(evs)
                    except (ApiError, TimeoutError, ConnectionError):
                        self.unanswered += n
                        break
                    for r in results:
                        if isinstance(r, Submitted):
                            self.accepted[r.id] = r.seq
                        elif isinstance(r, ApiError):
                            self.refused.append(r.message)
                    await asyncio.sleep(max(0.0, start + self.sent / self.rate - time.monotonic()))
            finally:
                await client.close()


def edge_depth(socket: Path) -> int:
    async def q() -> int:
        async with EdgeClient(socket, timeout=5) as c:
            st = await c.status()
            return st.outbox.depth

    try:
        return asyncio.run(q())
    except (ApiError, OSError, TimeoutError):
        return -1


def check_delivery(producer: Producer, db_url: str, station: str) -> None:
    stored = [e for e in stored_events(db_url) if e["station"] == station]
    ids = [str(e["id"]) for e in stored]
    seqs = [int(e["seq"]) for e in stored]
    by_id = {str(e["id"]): int(e["seq"]) for e in stored}
    lost = [eid for eid in producer.accepted if eid not in by_id]
    duplicates = len(ids) - len(set(ids))
    wrong_seq = [eid for eid, seq in producer.accepted.items() if eid in by_id and by_id[eid] != seq]
    assert not lost, f"{len(lost)} accepted events lost (of {len(producer.accepted)})"
    assert duplicates == 0, f"{duplicates} duplicate events stored"
    assert not wrong_seq, f"{len(wrong_seq)} events stored under another seq"
    assert seqs == list(range(1, len(seqs) + 1)), "stored sequence numbers have gaps or are out of order"
    assert len(producer.accepted) > 1000, "the stream was too short to mean anything"


@pytest.fixture
def rig(tmp_path: Path, mosquitto: MosquittoProcess):  # type: ignore[no-untyped-def]
    db_url = f"sqlite:///{tmp_path}/hub.db"
    hub = HubProc(tmp_path, broker_url=mosquitto.url, db_url=db_url)
    edge = EdgeProc(tmp_path, station="ST-F1", broker_url=mosquitto.url, extra=EDGE_OPTS)
    hub.start()
    edge.start()
    try:
        yield mosquitto, hub, edge, db_url
    finally:
        edge.stop()
        hub.stop()


def _drain(producer: Producer, edge: EdgeProc, db_url: str, timeout: float = 90) -> None:
    producer.join(timeout=120)
    assert not producer.is_alive(), "producer did not finish"

    def done() -> bool:
        have = {str(e["id"]) for e in stored_events(db_url)}
        return edge_depth(edge.socket) == 0 and all(eid in have for eid in producer.accepted)

    wait_until(done, timeout=timeout, interval=0.5, what="the hub to hold every accepted event")


@pytest.mark.parametrize("victim", ["broker", "edge", "hub"])
def test_sigkill_mid_stream(rig, victim: str) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL one of the three mid-stream (no goodbye, like a power cut), then start it again."""
    broker, hub, edge, db_url = rig
    producer = Producer(edge.socket, total=4000)
    producer.start()
    wait_until(lambda: len(producer.accepted) > 1200, timeout=60, what="stream to be under way")
    proc = {"broker": broker, "edge": edge, "hub": hub}[victim]
    proc.kill()
    time.sleep(1.0)
    proc.start()
    _drain(producer, edge, db_url)
    assert not producer.refused
    check_delivery(producer, db_url, "ST-F1")
    if victim == "edge":  # only submissions in flight at the moment of the kill went unanswered
        assert producer.unanswered <= producer.batch * 2


def test_broker_unreachable_30s(rig) -> None:  # type: ignore[no-untyped-def]
    broker, _hub, edge, db_url = rig
    producer = Producer(edge.socket, total=6000, rate=150)
    producer.start()
    wait_until(lambda: len(producer.accepted) > 500, timeout=60, what="stream to be under way")
    broker.kill()
    outage_start = time.monotonic()
    wait_until(lambda: time.monotonic() - outage_start >= 30, timeout=40, interval=1, what="30 s of outage")
    assert edge_depth(edge.socket) > 1000, "events should pile up in the outbox while the broker is away"
    broker.start()
    _drain(producer, edge, db_url)
    assert not producer.refused
    check_delivery(producer, db_url, "ST-F1")


def _unshare_prefix(mount_point: Path, size: str) -> list[str]:
    require(shutil.which("unshare"), "unshare (Debian package util-linux) for a small private filesystem")
    flags = "-m" if os.geteuid() == 0 else "-rm"
    return ["unshare", flags, "sh", "-c", f'mount -t tmpfs -o size={size} tmpfs "{mount_point}" && exec "$0" "$@"']


def test_disk_full_alarms_still_accepted(tmp_path: Path, mosquitto: MosquittoProcess) -> None:
    """The outbox's disk fills while the broker is away: info events are refused with a clear error,
    alarms are still accepted (the reserve is released), and once the link returns everything accepted
    reaches the hub, and info events are accepted again."""
    db_url = f"sqlite:///{tmp_path}/hub.db"
    small = tmp_path / "small"
    small.mkdir()
    prefix = _unshare_prefix(small, "16m")
    probe = EdgeProc(tmp_path, station="ST-D0", broker_url=mosquitto.url, prefix=prefix, data_dir=small / "d")
    probe.start()  # can this machine mount a private tmpfs at all?
    probe.stop()
    hub = HubProc(tmp_path, broker_url=mosquitto.url, db_url=db_url)
    hub.start()
    edge = EdgeProc(
        tmp_path,
        station="ST-D1",
        broker_url=mosquitto.url,
        prefix=prefix,
        data_dir=small / "data",
        extra=[*EDGE_OPTS, "--set", "outbox.reserve_bytes=1048576", "--set", "outbox.disk_low_bytes=4194304"],
    )
    edge.start()
    try:
        mosquitto.kill()  # nothing drains: the outbox has to hold everything
        producer = Producer(edge.socket, total=14000, rate=5000, batch=25, pad=1500)
        producer.run()  # in this thread: until the disk is full and beyond
        assert producer.refused, "the small disk never filled up"
        assert all("full" in m for m in producer.refused), producer.refused[:3]

        async def alarms_after_full() -> list[Submitted | ApiError]:
            async with EdgeClient(edge.socket) as c:
                return await c.submit_many([("test.probe", "alarm", {"n": i}) for i in range(20)])

        late = asyncio.run(alarms_after_full())
        late_ok = [r for r in late if isinstance(r, Submitted)]
        assert len(late_ok) == 20, f"alarms refused on a full disk: {[r for r in late if not isinstance(r, Submitted)]}"
        for r in late_ok:
            producer.accepted[r.id] = r.seq
        mosquitto.start()
        wait_until(lambda: edge_depth(edge.socket) == 0, timeout=120, interval=0.5, what="the outbox to drain")
        check_delivery(producer, db_url, "ST-D1")

        async def info_again() -> Submitted | str:
            async with EdgeClient(edge.socket) as c:
                try:
                    return await c.submit_event("demo.tick", "info", {"n": -1})
                except ApiError as exc:
                    st = await c.status()
                    return f"{exc.message}; host {st.host}; outbox {st.outbox}"

        again = asyncio.run(info_again())
        assert isinstance(again, Submitted), again
        assert again.seq == max(producer.accepted.values()) + 1
    finally:
        edge.stop()
        hub.stop()
