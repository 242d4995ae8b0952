"""Fuzz the hub: hostile messages on the event, status, telemetry, heartbeat and rpc topics, while a
well-behaved station submits events. Passes when the hub is still running and the good station's
events are all stored, once each, in order.

    .venv/bin/python scripts/fuzz_hub.py                       # 10,000 messages, SQLite
    .venv/bin/python scripts/fuzz_hub.py --db postgresql://... --count 10000 --seed 7

It starts its own Mosquitto (on a free port), a hub (`police-kiosk hub`) and an edge daemon
(`police-kiosk edge`) in a temporary directory. The messages are generated from a seed: mutations of
valid payloads (integers past 64 bits, U+0000 and lone surrogates, nesting far past the limit, wrong
types, truncation, other stations' ids, oversized fields) and random bytes, on topics whose station id is
valid or not. Exit status 0 on success, 1 on a failure (said on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from edge.api.client import EdgeClient, Submitted  # noqa: E402
from edge.sim.broker import MosquittoProcess  # noqa: E402
from edge.wire import messages as wire  # noqa: E402

PY = [sys.executable, "-m", "police_kiosk"]
GOOD = "ST-FUZZ-GOOD"
KINDS = ("event", "status", "telemetry", "heartbeat", "rpc")


def _valid(kind: str, station: str, rng: random.Random) -> Any:
    now = wire.utc_now_iso()
    if kind == "event":
        events = [
            {
                "v": 1,
                "id": wire.new_event_id(),
                "station": station,
                "seq": rng.randint(1, 10**6),
                "ts": now,
                "type": "demo.tick",
                "priority": rng.choice([1, 2, 3]),
                "data": {"n": rng.randint(0, 99)},
            }
            for _ in range(rng.randint(1, 4))
        ]
        return {"v": 1, "station": station, "batch": rng.randint(0, 10**6), "events": events}
    if kind == "status":
        return {"v": 1, "state": rng.choice(["online", "offline"]), "counter": rng.randint(0, 10**6), "ts": now}
    if kind == "heartbeat":
        return {"v": 1, "counter": rng.randint(0, 10**6), "ts": now}
    if kind == "telemetry":
        return {
            "v": 1,
            "ts": now,
            "outbox": {
                "depth": 0,
                "by_priority": {},
                "bytes": 0,
                "oldest_age_s": 0.0,
                "accepted_total": 0,
                "rejected_total": 0,
                "confirmed_total": 0,
            },
            "link": {
                "state": "connected",
                "connects": 1,
                "in_flight": 0,
                "published_total": 0,
                "resent_total": 0,
                "publish_failures": 0,
            },
            "host": {"load1": 0.1, "mem_available_mb": 100.0, "disk_free_mb": 100.0, "uptime_s": 1.0},
        }
    return {"v": 1, "id": wire.new_event_id(), "method": "hub.ping", "params": {}}


_NASTY: list[Any] = [
    2**63,
    -(2**63) - 1,
    2**64,
    10**40,
    -1,
    0,
    1.5e308,
    True,
    None,
    "",
    "\x00",
    "a\x00b",
    "SURROGATE",
    "x" * 70_000,
    [],
    {},
    [[[[[]]]]],
    "DEEP",
    "🚓" * 100,
]


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _leaves(v, (*path, i))
    return out


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    value[path[0]] = _set(value[path[0]], path[1:], new)
    return value


def hostile(rng: random.Random) -> tuple[str, bytes]:
    """One generated hostile (topic, payload)."""
    kind = rng.choice(KINDS)
    station = rng.choice(
        [
            "ST-FUZZ-1",
            "ST-FUZZ-2",
            GOOD if rng.random() < 0.05 else "ST-FUZZ-3",
            "bad id",
            "ST/../x",
            "A" * 65,
            "",
            "ST-\u00e9",
            "ST*x",
            "ST-FUZZ-1 ",
        ]
    )
    topic = f"{wire.PREFIX}/{station}/{kind}" + ("/req" if kind == "rpc" else "")
    if rng.random() < 0.03:
        topic = rng.choice(
            [f"{wire.PREFIX}/{station}", f"{wire.PREFIX}/{station}/event/x", f"police/v2/{station}/event"]
        )
    roll = rng.random()
    if roll < 0.1:
        return topic, rng.randbytes(rng.randint(0, 300))
    body = _valid(kind, "ST-FUZZ-1" if rng.random() < 0.9 else "ST-OTHER", rng)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_leaves(body)[1:] or [()])
        body = _set(body, path, copy.deepcopy(rng.choice(_NASTY)))
    raw = json.dumps(body).encode()
    raw = raw.replace(b'"SURROGATE"', b'"\\ud800x"').replace(b'"DEEP"', b"[" * 50_000 + b"]" * 50_000)
    if roll < 0.2:
        raw = raw[: rng.randint(0, len(raw))]
    return topic, raw


async def _submit(sock: Path, first: int, count: int) -> dict[int, str]:
    out: dict[int, str] = {}
    async with EdgeClient(sock, timeout=30) as c:
        for r in await c.submit_many([("demo.tick", "info", {"n": n}) for n in range(first, first + count)]):
            assert isinstance(r, Submitted), r
            out[r.seq] = r.id
    return out


def _stored(db: str) -> list[tuple[int, str]]:
    from hub.store import open_store

    s = open_store(db)
    try:
        return [(int(e["seq"]), str(e["id"])) for e in map(json.loads, s.export(GOOD))]
    finally:
        s.close()


def _wait_socket(sock: Path, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the edge exited at start")
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(str(sock))
                return
            except OSError:
                time.sleep(0.05)
    raise RuntimeError("the edge did not start")


def _connected(client: mqtt.Client, timeout: float = 30) -> bool:
    """True if connected now; otherwise wait (paho reconnects) and return False."""
    if client.is_connected():
        return True
    deadline = time.monotonic() + timeout
    while not client.is_connected() and time.monotonic() < deadline:
        time.sleep(0.05)
    return False


def _env() -> dict[str, str]:
    import os

    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))


def run(count: int, seed: int, db: str | None, workdir: Path) -> str | None:
    """Returns None on success, or what went wrong."""
    db = db or f"sqlite:///{workdir / 'hub.db'}"
    broker = MosquittoProcess(workdir / "mosquitto")
    broker.start()
    logs = [open(workdir / n, "wb") for n in ("hub.log", "edge.log")]  # noqa: SIM115 - closed below
    hub = subprocess.Popen(
        [*PY, "hub", "--broker", broker.url, "--db", db, "--client-id", "hub-fuzz"],
        stdout=logs[0],
        stderr=logs[0],
        cwd=ROOT,
        env=_env(),
    )
    sock = workdir / "edge.sock"
    edge = subprocess.Popen(
        [
            *PY,
            "edge",
            "--station",
            GOOD,
            "--uplink",
            broker.url,
            "--data-dir",
            str(workdir / "edge"),
            "--socket",
            str(sock),
            "--ack-timeout",
            "3",
            "--set",
            "sim.test_events=true",
            "--set",
            "uplink.reconnect_max=1",
        ],
        stdout=logs[1],
        stderr=logs[1],
        cwd=ROOT,
        env=_env(),
    )
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="fuzzer", protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(200)
    client.reconnect_delay_set(0.05, 0.5)
    try:
        _wait_socket(sock, edge)
        client.connect("127.0.0.1", int(broker.url.rsplit(":", 1)[1]))
        client.loop_start()
        time.sleep(1.0)  # the hub's subscriptions
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        refused = 0
        t_pub = time.monotonic()
        accepted: dict[int, str] = {}
        n = 1
        for i in range(count):
            topic, payload = hostile(rng)
            qos, retain = (1 if rng.random() < 0.5 else 0), rng.random() < 0.02
            if not _connected(client):
                refused += 1  # the broker itself dropped the fuzzer (a topic it refuses): fine, go on
            info = client.publish(topic, payload, qos=qos, retain=retain)
            if i % 50 == 0:
                with contextlib.suppress(RuntimeError):
                    info.wait_for_publish(30)
                accepted.update(asyncio.run(_submit(sock, n, 5)))
                n += 5
        accepted.update(asyncio.run(_submit(sock, n, 20)))
        print(f"fuzz_hub: published in {time.monotonic() - t_pub:.1f} s")
        deadline = time.monotonic() + 120
        want = sorted(accepted.items())
        while _stored(db) != want:
            if hub.poll() is not None:
                return f"the hub exited with {hub.returncode}; see {workdir / 'hub.log'}"
            if time.monotonic() > deadline:
                got = _stored(db)
                return f"the good station's events: {len(got)} stored of {len(want)} (or out of order)"
            time.sleep(0.5)
        if hub.poll() is not None:
            return f"the hub exited with {hub.returncode}"
        if refused:
            print(f"fuzz_hub: the broker dropped the fuzzer's connection {refused} times (refused topics)")
        return None
    finally:
        client.loop_stop()
        client.disconnect()
        for p in (edge, hub):
            p.terminate()
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        for f in logs:
            f.close()
        broker.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--db", help="hub database URL (default: SQLite in the work directory)")
    p.add_argument("--workdir", type=Path, help="keep logs here (default: a temporary directory)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pk-fuzz-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        err = run(args.count, args.seed, args.db, workdir)
        took = time.monotonic() - t0
        if err is not None:
            print(f"fuzz_hub: FAILED after {args.count} messages (seed {args.seed}): {err}", file=sys.stderr)
            if args.workdir is None:
                print((workdir / "hub.log").read_text(errors="replace")[-4000:], file=sys.stderr)
            return 1
    print(
        f"fuzz_hub: {args.count} hostile messages (seed {args.seed}) in {took:.1f} s: the hub kept running, "
        "the good station's events all stored in order"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
