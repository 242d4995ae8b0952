"""Uplink benchmark: durable end-to-end throughput and alarm latency, beside raw paho QoS 1.

Everything is real and on this machine: a private Mosquitto, the hub (SQLite, fsync on commit) and the
edge daemon as processes, events submitted through the daemon's local API like any client does.

- raw paho:   one paho-mqtt client publishing N QoS 1 messages of the same size as an event to the
              same broker, until every PUBACK is in (messages/s). Measured first, in the same run.
- durable:    N events submitted to the edge (each fsynced into the outbox before it is accepted) until
              the hub has committed every one (the hub's ack, sent after its commit, is observed on
              `police/v1/{station}/ack`) (events/s).
- alarm:      latency from submit to stored at the hub for alarm-priority events while 1,000 info
              events/s of background traffic flow (p50 / p99 / max).

Run: `.venv/bin/python bench/uplink.py` (add `--quick` for a smaller run). Figures vary with the machine;
the ratio to the raw baseline is the one to compare across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.api.client import EdgeClient, Submitted
from edge.sim.broker import MosquittoProcess
from tests.support.procs import EdgeProc, HubProc

STATION = "BENCH-1"
PAD = "x" * 120  # an event of ~300 bytes on the wire, about what a kiosk report or a tick weighs


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process so far (from /proc), 0 when unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


# ---- baseline ------------------------------------------------------------------------------------
def raw_paho_qos1(port: int, n: int, size: int) -> float:
    done = threading.Event()
    acked = 0

    def on_publish(client: mqtt.Client, userdata: object, mid: int, rc: object, props: object) -> None:
        nonlocal acked
        acked += 1
        if acked == n:
            done.set()

    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="bench-raw", protocol=mqtt.MQTTv5)
    c.on_publish = on_publish
    c.connect("127.0.0.1", port)
    c.loop_start()
    payload = b"y" * size
    t0 = time.perf_counter()
    for _ in range(n):
        c.publish("bench/raw", payload, qos=1)
    done.wait(300)
    elapsed = time.perf_counter() - t0
    c.disconnect()
    c.loop_stop()
    return n / elapsed


# ---- observing the hub's acks ----------------------------------------------------------------------
class AckWatcher:
    """Records when each seq's ack (sent by the hub after its commit) arrives, on perf_counter's clock."""

    def __init__(self, port: int) -> None:
        self.arrived: dict[int, float] = {}
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id="bench-acks", protocol=mqtt.MQTTv5
        )
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(f"police/v1/{STATION}/ack", qos=1)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        now = time.perf_counter()
        seqs = msgspec.json.decode(msg.payload)["seqs"]
        with self.cond:
            for s in seqs:
                self.arrived.setdefault(s, now)
            self.cond.notify_all()

    def wait_for(self, seqs: set[int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not seqs.issubset(self.arrived.keys()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# ---- durable throughput --------------------------------------------------------------------------
async def durable_throughput(socket: Path, acks: AckWatcher, n: int, *, batch: int, concurrency: int) -> float:
    seqs: set[int] = set()
    async with EdgeClient(socket, timeout=60) as client:
        sent = 0
        lock = asyncio.Lock()
        t0 = time.perf_counter()

        async def worker() -> None:
            nonlocal sent
            while True:
                async with lock:
                    if sent >= n:
                        return
                    k = min(batch, n - sent)
                    base = sent
                    sent += k
                res = await client.submit_many([("demo.tick", "info", {"n": base + i, "pad": PAD}) for i in range(k)])
                for r in res:
                    if not isinstance(r, Submitted):
                        raise RuntimeError(f"refused: {r}")
                    seqs.add(r.seq)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    if not acks.wait_for(seqs, 300):
        raise RuntimeError("the hub did not store every event")
    last = max(acks.arrived[s] for s in seqs)
    return n / (last - t0)


# ---- alarm latency under load ----------------------------------------------------------------------
async def alarm_latency(socket: Path, acks: AckWatcher, *, alarms: int, background_rate: float) -> dict[str, float]:
    stop = asyncio.Event()
    bg_sent = 0

    async def background(client: EdgeClient) -> None:
        nonlocal bg_sent
        tick = 0.01  # 10 events every 10 ms = 1,000/s
        per_tick = max(1, round(background_rate * tick))
        t = time.perf_counter()
        while not stop.is_set():
            await client.submit_many([("demo.tick", "info", {"n": bg_sent + i, "pad": PAD}) for i in range(per_tick)])
            bg_sent += per_tick
            t += tick
            await asyncio.sleep(max(0.0, t - time.perf_counter()))

    sent_at: dict[int, float] = {}
    async with EdgeClient(socket) as bg_client, EdgeClient(socket) as alarm_client:
        bg = asyncio.create_task(background(bg_client))
        await asyncio.sleep(1.0)  # let the background flow settle
        t_start = time.perf_counter()
        for i in range(alarms):
            t0 = time.perf_counter()
            r = await alarm_client.submit_event("test.probe", "alarm", {"n": i})
            sent_at[r.seq] = t0
            await asyncio.sleep(0.02 + (i % 7) * 0.003)  # not in lockstep with the background ticks
        elapsed = time.perf_counter() - t_start
        stop.set()
        await bg
    if not acks.wait_for(set(sent_at), 60):
        raise RuntimeError("the hub did not store every alarm")
    lat = [(acks.arrived[s] - t0) * 1000 for s, t0 in sent_at.items()]
    return {
        "p50": statistics.median(lat),
        "p99": percentile(lat, 99),
        "max": max(lat),
        "background_rate": bg_sent / (elapsed + 1.0),
        "n": len(lat),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small run (smoke test)")
    ap.add_argument("--events", type=int, default=30_000)
    ap.add_argument("--alarms", type=int, default=500)
    args = ap.parse_args()
    n = 3000 if args.quick else args.events
    alarms = 50 if args.quick else args.alarms
    size = len(PAD) + 180
    with tempfile.TemporaryDirectory(prefix="pk-bench-") as tmp:
        work = Path(tmp)
        broker = MosquittoProcess(work / "mosquitto", persistence=False)
        broker.start()
        hub = HubProc(work, broker_url=broker.url, db_url=f"sqlite:///{work}/hub.db")
        edge = EdgeProc(work, station=STATION, broker_url=broker.url, extra=["--set", "uplink.telemetry_interval=60"])
        try:
            raw = raw_paho_qos1(broker.port, n, size)
            hub.start()
            edge.start()
            acks = AckWatcher(broker.port)
            time.sleep(1.0)
            procs = {
                "bench client": os.getpid(),
                "edge": edge.proc.pid if edge.proc else None,
                "broker": broker.pid,
                "hub": hub.proc.pid if hub.proc else None,
            }
            cpu0 = {k: cpu_seconds(v) for k, v in procs.items()}
            durable = asyncio.run(durable_throughput(edge.socket, acks, n, batch=100, concurrency=4))
            cpu = {k: (cpu_seconds(v) - cpu0[k]) * 1000 / (n / 1000) for k, v in procs.items()}
            lat = asyncio.run(alarm_latency(edge.socket, acks, alarms=alarms, background_rate=1000.0))
            acks.close()
        finally:
            edge.stop()
            hub.stop()
            broker.stop()
    print(
        f"uplink benchmark ({'quick' if args.quick else 'full'}): {n} events of ~{size} B, 1 station, "
        f"Mosquitto + hub (SQLite, fsync) + edge (SQLite WAL, fsync) on this machine"
    )
    print(f"  raw paho QoS 1 publish (baseline)      {raw:10.0f} msg/s")
    print(
        f"  durable edge -> hub stored             {durable:10.0f} events/s   ratio {durable / raw:5.2f}x"
        f"   (target >= 0.80x)"
    )
    print(
        "    CPU per 1,000 events: "
        + ", ".join(f"{k} {v:.0f} ms" for k, v in cpu.items())
        + f" (this machine has {os.cpu_count()} cores)"
    )
    print(
        f"  alarm submit -> stored at hub          p50 {lat['p50']:6.1f} ms   p99 {lat['p99']:6.1f} ms   "
        f"max {lat['max']:6.1f} ms   (target p99 < 25 ms)"
    )
    print(f"    with background info traffic at      {lat['background_rate']:6.0f} events/s, {lat['n']:.0f} alarms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
