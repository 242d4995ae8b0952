"""Hub scale benchmark: many stations on one broker and one PostgreSQL, with one and with two hubs.

Everything is real and on this machine: a private Mosquitto, a throwaway PostgreSQL (or `--db`), the hub
processes (`police-kiosk hub`). A load generator publishes as many stations over a few MQTT connections,
exactly what stations publish (EventBatch with batch ids, Heartbeat, Telemetry), and watches the acks.

- steady:   every station sends telemetry every 10 s, a heartbeat every `--heartbeat` s and a small burst
            of events now and then; the lag is station publish -> the hub's ack received (the ack leaves
            after the commit, so this is commit lag plus one broker hop back): p50 / p99.
- backlog:  every station replays an outage backlog at once (`--backlog` events each; one hour at one
            event per 10 s is 360, so 2,000 stations make 720,000), in batches of 256 with 8 in flight per
            station, as the relay does. Drain time and rate, zero loss and zero duplicates checked in the
            database, the hubs' CPU per 1,000 events.
- baselines, same run: raw PostgreSQL COPY of the same rows into the same table shape; raw broker
            fan-out of the same messages to one plain subscriber (no database).

Run: `.venv/bin/python bench/hub_scale.py` (full scale) or `--stations 200 --backlog 36` (a quick look).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.uplink import percentile
from edge.sim.broker import MosquittoProcess
from edge.wire import messages as wire
from tests.support.procs import HubProc

PAD = "x" * 120
EVENT = (
    b'{"v":1,"id":"%s","station":"%s","seq":%d,"ts":"%s","type":"demo.tick","priority":1,'
    b'"data":{"n":%d,"pad":"' + PAD.encode() + b'"}}'
)


def client(port: int, cid: str, on_message: Callable[[str, bytes], None] | None = None) -> mqtt.Client:
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    if on_message is not None:
        c.on_message = lambda _c, _u, msg: on_message(msg.topic, bytes(msg.payload))
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


class Fleet:
    """N stations over `conns` connections; acks of batches are matched to their publish time."""

    def __init__(self, port: int, stations: int, conns: int) -> None:
        self.names = [f"ST-{i:05d}" for i in range(stations)]
        self.pubs = [client(port, f"gen-{i}") for i in range(conns)]
        self.lock = threading.Lock()
        self.sent: dict[tuple[str, int], float] = {}
        self.lags: list[float] = []
        self.acked_seqs = 0
        self.on_ack: Callable[[str, int], None] | None = None
        self.watch = client(port, "gen-acks", self._ack)
        self.watch.subscribe(f"{wire.PREFIX}/+/ack", qos=1)
        self.seq = dict.fromkeys(self.names, 0)
        self.batch_ids = dict.fromkeys(self.names, 0)
        time.sleep(0.5)

    def _ack(self, topic: str, payload: bytes) -> None:
        now = time.monotonic()
        station = topic.split("/")[2]
        ack = wire.decode_ack(payload)
        with self.lock:
            t = self.sent.pop((station, ack.batch), None)
            if t is not None:
                self.lags.append(now - t)
            self.acked_seqs += len(ack.seqs)
        if self.on_ack is not None:
            self.on_ack(station, ack.batch)

    def pub(self, i: int, topic: str, payload: bytes, qos: int) -> None:
        self.pubs[i % len(self.pubs)].publish(topic, payload, qos=qos)

    def batch(self, i: int, n: int) -> int:
        st = self.names[i]
        evs = []
        ts = wire.utc_now_iso()
        for _ in range(n):  # what wire.encode(Event(...)) gives, from a template: the generator must be cheap
            self.seq[st] += 1
            q = self.seq[st]
            evs.append(EVENT % (wire.new_event_id().encode(), st.encode(), q, ts.encode(), q))
        self.batch_ids[st] += 1
        bid = self.batch_ids[st]
        with self.lock:
            self.sent[(st, bid)] = time.monotonic()
        self.pub(i, wire.topic(st, "event"), wire.batch_payload(st, evs, batch=bid), 1)
        return n

    def close(self) -> None:
        for c in [*self.pubs, self.watch]:
            c.disconnect()
            c.loop_stop()


def steady(fleet: Fleet, seconds: float, heartbeat: float, event_every: float) -> tuple[int, int]:
    """Telemetry every 10 s, heartbeats, events; returns (messages, events) published."""
    rng = random.Random(1)
    n = len(fleet.names)
    tele = wire.encode(
        wire.Telemetry(
            ts=wire.utc_now_iso(),
            outbox=wire.OutboxHealth(
                depth=0,
                by_priority={},
                bytes=0,
                oldest_age_s=0.0,
                accepted_total=0,
                rejected_total=0,
                confirmed_total=0,
            ),
            link=wire.LinkHealth(
                state="connected", connects=1, in_flight=0, published_total=0, resent_total=0, publish_failures=0
            ),
            host=wire.HostHealth(load1=0.1, mem_available_mb=1000.0, disk_free_mb=1000.0, uptime_s=1.0),
        )
    )
    due_hb = [rng.uniform(0, heartbeat) for _ in range(n)]
    due_tele = [rng.uniform(0, 10) for _ in range(n)]
    due_ev = [rng.expovariate(1 / event_every) for _ in range(n)]
    start = time.monotonic()
    msgs = events = 0
    while (now := time.monotonic() - start) < seconds:
        for i, st in enumerate(fleet.names):
            if due_hb[i] <= now:
                fleet.pub(i, wire.topic(st, "heartbeat"), wire.encode(wire.Heartbeat(counter=1, ts="t")), 0)
                due_hb[i] += heartbeat
                msgs += 1
            if due_tele[i] <= now:
                fleet.pub(i, wire.topic(st, "telemetry"), tele, 0)
                due_tele[i] += 10
                msgs += 1
            if due_ev[i] <= now:
                events += fleet.batch(i, rng.randint(1, 3))
                due_ev[i] += rng.expovariate(1 / event_every)
                msgs += 1
        time.sleep(0.02)
    return msgs, events


def backlog(fleet: Fleet, per_station: int, window: int = 8, batch: int = 256) -> tuple[int, float]:
    """Every station replays `per_station` events at once, `window` batches in flight each."""
    left = dict.fromkeys(fleet.names, per_station)
    flying = dict.fromkeys(fleet.names, 0)
    index = {st: i for i, st in enumerate(fleet.names)}
    done = threading.Event()
    lock = threading.Lock()
    total = per_station * len(fleet.names)
    target = fleet.acked_seqs + total

    def send(st: str) -> None:
        with lock:
            if left[st] <= 0 or flying[st] >= window:
                return
            n = min(batch, left[st])
            left[st] -= n
            flying[st] += 1
        fleet.batch(index[st], n)

    def on_ack(st: str, bid: int) -> None:
        with lock:
            flying[st] = max(0, flying[st] - 1)
        send(st)
        if fleet.acked_seqs >= target:
            done.set()

    fleet.on_ack = on_ack
    t0 = time.monotonic()
    for _ in range(window):
        for st in fleet.names:
            send(st)
    done.wait(3600)
    fleet.on_ack = None
    return total, time.monotonic() - t0


def raw_fanout(port: int, payloads: list[tuple[str, bytes]]) -> float:
    """Messages/s through the broker to one plain subscriber (QoS 1, no database)."""
    got = [0]
    done = threading.Event()

    def count(_t: str, _p: bytes) -> None:
        got[0] += 1
        if got[0] >= len(payloads):
            done.set()

    sub = client(port, "raw-sub", count)
    sub.subscribe("rawbench/#", qos=1)
    time.sleep(0.3)
    pub = client(port, "raw-pub")
    t0 = time.monotonic()
    for topic, payload in payloads:
        pub.publish("rawbench/" + topic, payload, qos=1)
    done.wait(600)
    took = time.monotonic() - t0
    for c in (pub, sub):
        c.disconnect()
        c.loop_stop()
    return len(payloads) / took


def raw_copy(url: str, rows: int) -> float:
    """Rows/s of a plain COPY of event rows of the same size into a table of the same shape."""
    import psycopg

    body = wire.encode(
        wire.Event(
            id=wire.new_event_id(),
            station="ST-00000",
            seq=1,
            ts=wire.utc_now_iso(),
            type="demo.tick",
            priority=wire.Priority.INFO,
            data={"n": 1, "pad": PAD},
        )
    ).decode()
    with psycopg.connect(url) as con:
        con.execute("DROP TABLE IF EXISTS copy_bench")
        con.execute(
            "CREATE TABLE copy_bench (station TEXT NOT NULL, seq BIGINT NOT NULL, id TEXT NOT NULL, "
            "ts TEXT NOT NULL, type TEXT NOT NULL, priority SMALLINT NOT NULL, body TEXT NOT NULL, "
            "received_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (station, seq))"
        )
        con.commit()
        t0 = time.monotonic()
        with con.cursor() as cur, cur.copy("COPY copy_bench FROM STDIN") as cp:
            for i in range(rows):
                cp.write_row((f"ST-{i % 2000:05d}", i, f"id-{i}", "t", "demo.tick", 1, body, 0.0))
        con.commit()
        took = time.monotonic() - t0
        con.execute("DROP TABLE copy_bench")
    return rows / took


def db_stats(url: str) -> tuple[int, int, int]:
    """(events, distinct (station, seq), bytes of the events table with its indexes)."""
    import psycopg

    with psycopg.connect(url) as con:
        row = con.execute(
            "SELECT COUNT(*), COUNT(DISTINCT (station, seq)), pg_total_relation_size('events') FROM events"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def tree_cpu(pid: int | None) -> float:
    """CPU seconds of a process and all its descendants, live and reaped (PostgreSQL's backends come and
    go; a reaped child's time is in its parent's cutime/cstime), from /proc; 0 when unknown. Not for this
    process: the hubs and Mosquitto are its children."""
    if pid is None:
        return 0.0
    children: dict[int, list[int]] = {}
    own: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            f = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(f[1]), []).append(int(d.name))
        own[int(d.name)] = sum(int(x) for x in f[11:15]) / tick
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += own.get(p, 0.0)
        todo += children.get(p, [])
    return total


class CpuMeter:
    """CPU seconds used by the hubs, PostgreSQL, Mosquitto and this load generator between two reads."""

    def __init__(self, hubs: list[int | None], postgres: int | None, broker: int | None) -> None:
        self.pids = {"hubs": hubs, "postgres": [postgres], "mosquitto": [broker]}
        self.start = self.read()

    def read(self) -> dict[str, float]:
        own = os.times()  # the generator: this process alone (its children are measured on their own)
        return {k: sum(tree_cpu(p) for p in pids) for k, pids in self.pids.items()} | {
            "generator": own.user + own.system
        }

    def used(self) -> dict[str, float]:
        now = self.read()
        return {k: now[k] - self.start[k] for k in now}


def postmaster_pid(cluster: object | None) -> int | None:
    """The throwaway cluster's postmaster (None for `--db`: its server may serve others too)."""
    datadir = getattr(cluster, "datadir", None)
    if datadir is None:
        return None
    try:
        return int((Path(datadir) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def fresh_db(admin_url: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as con:
        con.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        # The phase before wrote ~0.5 GB: flush it now, or its checkpoint lands in this phase's steady state
        # (seen: the second phase's steady p99 298 - 462 ms right after the first's backlog, 72 - 80 ms alone).
        try:
            con.execute("CHECKPOINT")
        except psycopg.Error as exc:  # not a superuser on a given --db server: say so, measure anyway
            print(f"note: CHECKPOINT refused ({exc}); this phase may carry the last one's writes", file=sys.stderr)
    return admin_url.rsplit("/", 1)[0] + "/" + name


def run_once(
    work: Path, broker: MosquittoProcess, db: str, hubs: int, args: argparse.Namespace, *, pg_pid: int | None
) -> dict[str, float]:
    procs = [HubProc(work, broker_url=broker.url, db_url=db, client_id=f"hub-{hubs}-{i}") for i in range(hubs)]
    for h in procs:
        h.argv += ["--group", f"bench{hubs}"]
        h.start()
    time.sleep(2.0)
    fleet = Fleet(broker.port, args.stations, args.connections)
    try:
        msgs, events = steady(fleet, args.steady, args.heartbeat, args.event_every)
        time.sleep(2.0)
        lags = list(fleet.lags)
        meter = CpuMeter([h.proc.pid if h.proc else None for h in procs], pg_pid, broker.pid)
        total, took = backlog(fleet, args.backlog)
        cpu = meter.used()
        load = os.getloadavg()[0]  # the last minute: mostly the drain, and whatever else the machine ran
        stored, distinct, size = db_stats(db)
        alive = all(h.alive for h in procs)
    finally:
        fleet.close()
        for h in procs:
            h.stop()
    import re

    dups = sum(
        int(m.group(1))
        for h in procs
        for m in re.finditer(r"hub stopped: \d+ events stored, (\d+) duplicates", h.log())
    )
    return {
        "hub_duplicates": float(dups),
        "steady_msgs_s": msgs / args.steady,
        "steady_events": events,
        "p50": percentile(lags, 50) * 1000 if lags else float("nan"),
        "p99": percentile(lags, 99) * 1000 if lags else float("nan"),
        "backlog": total,
        "drain_s": took,
        "drain_rate": total / took,
        **{f"cpu_{k}": v / total * 1000 for k, v in cpu.items()},
        "stored": stored,
        "expected": events + total,
        "distinct": distinct,
        "bytes_per_event": size / stored,
        "alive": float(alive),
        "load": load,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stations", type=int, default=2000)
    p.add_argument("--backlog", type=int, default=360, help="events per station replayed at once")
    p.add_argument("--steady", type=float, default=30.0, help="seconds of steady state")
    p.add_argument("--heartbeat", type=float, default=1.5)
    p.add_argument("--event-every", type=float, default=20.0, help="mean seconds between event bursts per station")
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--hubs", default="1,2", help="hub process counts to measure, comma-separated")
    p.add_argument("--db", help="an admin PostgreSQL URL (default: a throwaway cluster)")
    args = p.parse_args()
    cluster = None
    admin = args.db
    if admin is None:
        from tests.support.pg import PostgresCluster

        cluster = PostgresCluster()
        cluster.start()
        admin = cluster.url
    with tempfile.TemporaryDirectory(prefix="pk-hubscale-") as tmp:
        work = Path(tmp)
        broker = MosquittoProcess(work / "mosquitto", persistence=False)
        broker.start()
        try:
            sample = [
                (wire.topic(f"ST-{i % args.stations:05d}", "event"), b"x" * 700)
                for i in range(min(50_000, args.stations * args.backlog // 64 + 1000))
            ]
            fanout = raw_fanout(broker.port, sample)
            copy_rate = raw_copy(admin, min(200_000, args.stations * args.backlog))
            print(
                f"baseline   raw broker fan-out {fanout:,.0f} msgs/s (QoS 1, 700 B); raw PostgreSQL COPY "
                f"{copy_rate:,.0f} rows/s"
            )
            for hubs in (int(x) for x in args.hubs.split(",")):
                r = run_once(
                    work, broker, fresh_db(admin, f"hubscale{hubs}"), hubs, args, pg_pid=postmaster_pid(cluster)
                )
                per_day = r["bytes_per_event"] * 8640
                print(
                    f"{hubs} hub(s)   steady {r['steady_msgs_s']:,.0f} msgs/s from {args.stations} stations: "
                    f"ack lag p50 {r['p50']:.0f} ms, p99 {r['p99']:.0f} ms"
                )
                print(
                    f"           backlog {r['backlog']:,.0f} events in {r['drain_s']:.1f} s = "
                    f"{r['drain_rate']:,.0f} events/s ({r['drain_rate'] / copy_rate:.0%} of raw COPY; "
                    f"{r['drain_rate'] / 256:,.0f} batches/s beside {fanout:,.0f} msgs/s raw fan-out)"
                )
                cores = sum(r[k] for k in ("cpu_hubs", "cpu_postgres", "cpu_mosquitto", "cpu_generator"))
                print(
                    f"           CPU per 1,000 events: hubs {r['cpu_hubs']:.3f} s, "
                    f"PostgreSQL {r['cpu_postgres']:.3f} s, Mosquitto {r['cpu_mosquitto']:.3f} s, "
                    f"load generator {r['cpu_generator']:.3f} s (together "
                    f"{cores * r['drain_rate'] / 1000:.2f} of {os.cpu_count()} cores; load average {r['load']:.1f})"
                )
                print(
                    f"           stored {r['stored']:,.0f} of {r['expected']:,.0f} expected, distinct "
                    f"{r['distinct']:,.0f} (loss {r['expected'] - r['stored']:,.0f}, duplicates "
                    f"{r['stored'] - r['distinct']:,.0f}; resends seen as duplicates {r['hub_duplicates']:,.0f}); "
                    f"{r['bytes_per_event']:.0f} B per event = "
                    f"{per_day / 1e6:.1f} MB per station-day at one event per 10 s; hubs alive: "
                    f"{bool(r['alive'])}"
                )
        finally:
            broker.stop()
            if cluster is not None:
                cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
