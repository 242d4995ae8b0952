#!/usr/bin/env python3
"""Benchmark: latency of a one-key alarm from the school (or the wired button) to the crew and central.

    .venv/bin/python bench/alarm.py [--samples 200] [--modbus-samples 100] [--schools 500]
                                    [--link-interval 1.0] [--connections 4] [--poll 0.05] [--key HEX]
                                    [--probe-interval 0.002] [--keep DIR]

Starts, on this machine: Mosquitto, the hub (SQLite), the edge daemon (`police-kiosk edge`, alarms
enabled, the schools listed with supervision) and, in a separate process, `--schools` simulated schools
sending DC-09 link tests (NULL) every `--link-interval` seconds over `--connections` TCP connections.
A pymodbus RTU module simulator on a pty pair serves the daemon's panic-button module.

Then, one alarm at a time (each incident is closed through the API before the next one):

* DC-09: a panic frame (ADM-CID 120) on a TCP connection of its own; measured from just before the
  write to (a) the ACK read back, (b) the crew client's `incidents` notification (an `EdgeClient`
  subscription, as the console uses), (c) the hub's acknowledgement of the `alarm.raised` event: a paho
  client subscribed to `police/v1/{station}/ack` sees the seq the daemon reported in its
  `events.accepted` notification; the hub publishes that ack only after its database commit.
* Meanwhile another school (its own TCP connection) sends a link test every `--probe-interval` s; its
  ACK round trip shows whether the alarm path holds up the receiver's event loop (a disk flush done
  on the loop delays every other panel's answer, the crew's notifications and the Modbus polls).
* Modbus: `press` on the simulated module (the input level and latch bit) to (b) and (c); this adds
  up to one poll interval (`--poll`).

Baselines from the same run, on the same loop: a bare TCP echo round trip to another process (for
ACK and crew), an MQTT QoS 1 publish-to-delivery round trip through the same broker (for the hub; the
bench's paho client sets TCP_NODELAY like the uplink and the hub do) and one durable write on the same
disk (2 KiB pwrite + fdatasync: the alarm path saves the incident before the crew is told and before
the panel's ACK). The machine's load average is printed: other work on it shows in the p99s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from drivers.dc09.sender import Dc09Transmitter
from drivers.modbus.sim import ModbusIoSimulator
from edge.api.client import EdgeClient
from edge.sim.broker import MosquittoProcess, free_port
from edge.sim.school import PanelLink, SchoolPanel, school_accounts
from edge.wire import messages as wire

ROOT = Path(__file__).resolve().parents[1]
STATION = "BENCH-ALARM"
PANIC_ACCOUNT = "BEEF"
PROBE_ACCOUNT = "CAFE"
FIRST_SCHOOL = "1000"
ECHO_SERVER = """
import asyncio, sys
async def main():
    async def echo(r, w):
        while data := await r.read(4096):
            w.write(data)
    server = await asyncio.start_server(echo, "127.0.0.1", int(sys.argv[1]))
    await server.serve_forever()
asyncio.run(main())
"""


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def config_text(args: argparse.Namespace, port: int, modbus_port: str) -> str:
    lines = [
        "[alarms]",
        "enabled = true",
        "",
        "[alarms.dc09]",
        'host = "127.0.0.1"',
        f"port_tcp = {port}",
        f"port_udp = {port}",
        "max_connections = 64",
        # one panel pressed every --gap seconds on purpose: above the per-account incident limit a site keeps
        f"alarm_limit = {args.samples + 100}",
        "",
        "[alarms.targets]",
        "respond_s = 600",
        "arrive_s = 1200",
        "resolve_s = 1800",
        "",
        "[[alarms.schools]]",
        f'account = "{PANIC_ACCOUNT}"',
        'name = "基准测试小学"',
        'points = [{ zone = 1, name = "正门一键报警", name_en = "Main gate button" }]',
        "",
    ]
    if args.key:
        lines.insert(-3, f'key = "{args.key}"')
    lines += ["[[alarms.schools]]", f'account = "{PROBE_ACCOUNT}"', 'name = "旁路学校"', ""]
    for account in school_accounts(FIRST_SCHOOL, args.schools):
        lines += [
            "[[alarms.schools]]",
            f'account = "{account}"',
            f'name = "学校 {account}"',
            f"link_test_interval_s = {max(5.0, args.link_interval * 5)}",
            "",
        ]
    lines += [
        "[[alarms.modbus]]",
        'name = "bench-io"',
        f'port = "{modbus_port}"',
        f"poll_interval_s = {args.poll}",
        "latch_address = 16",
        "siren_coil = 0",
        "strobe_coil = 1",
        'buttons = [{ input = 0, site = "派出所门口", point = "一键报警" }]',
        "",
    ]
    return "\n".join(lines)


class HubAcks:
    """A paho client on police/v1/{station}/ack: when each seq was confirmed stored at the hub."""

    def __init__(self, broker_port: int) -> None:
        self.seen: dict[int, int] = {}
        self.loopback: dict[int, int] = {}
        self._cond = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-acks")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker_port)
        sock = self.client.socket()
        if isinstance(sock, socket.socket):  # as the uplink and the hub do: no Nagle wait on small packets
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client.subscribe([(wire.topic(STATION, "ack"), 1), ("bench/loopback", 1)])
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        now = time.perf_counter_ns()
        with self._cond:
            if msg.topic == "bench/loopback":
                self.loopback[int(msg.payload)] = now
            else:
                for seq in wire.decode_ack(msg.payload).seqs:
                    self.seen.setdefault(seq, now)
            self._cond.notify_all()

    async def wait_seq(self, seq: int, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while seq not in self.seen:
            if time.monotonic() > deadline:
                raise TimeoutError(f"hub never acknowledged seq {seq}")
            await asyncio.sleep(0.0005)
        return self.seen[seq]

    async def loopback_rtt(self, n: int) -> float:
        t0 = time.perf_counter_ns()
        self.client.publish("bench/loopback", str(n).encode(), qos=1)
        deadline = time.monotonic() + 5
        while n not in self.loopback:
            if time.monotonic() > deadline:
                raise TimeoutError("MQTT loopback lost")
            await asyncio.sleep(0.0005)
        return (self.loopback[n] - t0) / 1e6

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Crew:
    """The console's client: `incidents` and `events.accepted` notifications, time-stamped on arrival."""

    def __init__(self, socket: Path) -> None:
        self.raised: list[tuple[int, dict[str, Any]]] = []
        self.accepted: list[tuple[int, int, int]] = []  # (time, seq, priority)
        self.client = EdgeClient(socket, on_notify=self._note, timeout=10)

    def _note(self, topic: str, params: dict[str, Any]) -> None:
        now = time.perf_counter_ns()
        if topic == "incidents" and params.get("change") == "raised":
            self.raised.append((now, params["incident"]))
        elif topic == "events.accepted":
            self.accepted.append((now, int(params["seq"]), int(params["priority"])))

    async def wait_raised(self, after: int, kind: str, timeout: float = 10.0) -> tuple[int, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            for t, inc in self.raised:
                if t >= after and inc["source"]["kind"] == kind:
                    return t, inc
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {kind} incident notified")
            await asyncio.sleep(0.0005)

    async def wait_alarm_seq(self, after: int, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while True:
            for t, seq, prio in self.accepted:
                if t >= after and prio == int(wire.Priority.ALARM):
                    return seq
            if time.monotonic() > deadline:
                raise TimeoutError("the alarm event was never accepted")
            await asyncio.sleep(0.0005)

    async def close_incident(self, incident_id: str) -> None:
        before = time.perf_counter_ns()
        await self.client.call("incidents.close", {"id": incident_id, "outcome": "test", "by": "bench"})
        await self.wait_alarm_seq(before)  # its alarm.closed is accepted: the next alarm seq is the next raise


async def spawn(argv: list[str], log: Any) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *argv, stdout=log, stderr=log, stdin=asyncio.subprocess.DEVNULL, cwd=ROOT
    )


async def flush_times(path: Path, n: int) -> list[float]:
    """What one durable write costs on this disk now: pwrite 2 KiB into a preallocated file + fdatasync."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    out = []
    try:
        os.pwrite(fd, bytes(n * 2048), 0)
        os.fsync(fd)
        for i in range(n):
            t0 = time.perf_counter_ns()
            os.pwrite(fd, b"x" * 2048, i * 2048)
            os.fdatasync(fd)
            out.append((time.perf_counter_ns() - t0) / 1e6)
            await asyncio.sleep(0.01)
    finally:
        os.close(fd)
    return out


async def echo_rtts(port: int, n: int) -> list[float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    out = []
    payload = b"\n" + b"x" * 60 + b"\r"
    try:
        for _ in range(n):
            t0 = time.perf_counter_ns()
            writer.write(payload)
            got = b""
            while len(got) < len(payload):
                got += await reader.read(4096)
            out.append((time.perf_counter_ns() - t0) / 1e6)
            await asyncio.sleep(0.01)
    finally:
        writer.close()
    return out


async def probe_links(port: int, interval: float, out: list[float]) -> None:
    """Another school's link tests on a connection of their own, until cancelled: ACK round trips."""
    panel = SchoolPanel(Dc09Transmitter(account=PROBE_ACCOUNT))
    link = PanelLink(host="127.0.0.1", port=port)
    await link.open()
    try:
        while True:
            _, frame = panel.frame("link")
            t0 = time.perf_counter_ns()
            answer = await link.exchange(frame, timeout=10)
            if answer is None or answer.kind != "ACK":
                raise RuntimeError(f"link test not acknowledged: {answer}")
            out.append((time.perf_counter_ns() - t0) / 1e6)
            await asyncio.sleep(interval)
    finally:
        await link.close()


async def run(args: argparse.Namespace, work: Path) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {
        k: []
        for k in (
            "echo",
            "mqtt",
            "flush",
            "probe",
            "dc09_accepted",
            "dc09_ack",
            "dc09_crew",
            "dc09_hub",
            "modbus_crew",
            "modbus_hub",
        )
    }
    procs: list[asyncio.subprocess.Process] = []
    broker = MosquittoProcess(work / "mosquitto", persistence=False)
    broker.start()
    sim = ModbusIoSimulator(port="pty")
    await sim.start()
    acks: HubAcks | None = None
    try:
        dc09_port, echo_port = free_port(), free_port()
        (work / "station.toml").write_text(config_text(args, dc09_port, str(sim.client_port)), encoding="utf-8")
        py = [sys.executable, "-m", "police_kiosk"]
        logs = (work / "procs.log").open("ab")
        api_socket = work / "edge.sock"
        procs.append(await spawn([sys.executable, "-c", ECHO_SERVER, str(echo_port)], logs))
        procs.append(
            await spawn(
                [
                    *py,
                    "hub",
                    "--broker",
                    broker.url,
                    "--db",
                    f"sqlite:///{work / 'hub.db'}",
                    "--client-id",
                    "bench-hub",
                    "--log-level",
                    "WARNING",
                ],
                logs,
            )
        )
        procs.append(
            await spawn(
                [
                    *py,
                    "edge",
                    "--config",
                    str(work / "station.toml"),
                    "--station",
                    STATION,
                    "--uplink",
                    broker.url,
                    "--data-dir",
                    str(work / "edge"),
                    "--socket",
                    str(api_socket),
                    "--log-level",
                    "WARNING",
                    "--set",
                    "uplink.ack_timeout=5",
                ],
                logs,
            )
        )
        crew = Crew(api_socket)
        for _ in range(1000):
            with contextlib.suppress(Exception):
                await crew.client.connect()
                if "dc09" in (await crew.client.status())["devices"]:
                    break
                await crew.client.close()
            await asyncio.sleep(0.05)
        await crew.client.subscribe("incidents", "events.accepted")
        acks = HubAcks(broker.port)
        procs.append(
            await spawn(
                [
                    sys.executable,
                    "-m",
                    "edge.sim.school",
                    "school",
                    "--port",
                    str(dc09_port),
                    "--account",
                    FIRST_SCHOOL,
                    "--schools",
                    str(args.schools),
                    "--connections",
                    str(args.connections),
                    "--count",
                    "0",
                    "--link-test-interval",
                    str(args.link_interval),
                    "--quiet",
                ],
                logs,
            )
        )
        await asyncio.sleep(args.warmup)
        for n in range(50):
            results["mqtt"].append(await acks.loopback_rtt(n))
            await asyncio.sleep(0.01)
        results["echo"] = await echo_rtts(echo_port, args.samples)
        results["flush"] = await flush_times(work / "edge" / "flush-probe", 100)

        key = bytes.fromhex(args.key) if args.key else None
        panel = SchoolPanel(Dc09Transmitter(account=PANIC_ACCOUNT, key=key))
        link = PanelLink(host="127.0.0.1", port=dc09_port, keys={PANIC_ACCOUNT: key} if key else None)
        await link.open()
        probe = asyncio.create_task(probe_links(dc09_port, args.probe_interval, results["probe"]))
        try:
            for _ in range(args.samples):
                _, frame = panel.frame("panic")
                t0 = time.perf_counter_ns()
                answer = await link.exchange(frame, timeout=10)
                t_ack = time.perf_counter_ns()
                if answer is None or answer.kind != "ACK":
                    raise RuntimeError(f"panic not acknowledged: {answer}")
                t_crew, incident = await crew.wait_raised(t0, "dc09")
                seq = await crew.wait_alarm_seq(t0)
                t_acc = next(t for t, q, _ in crew.accepted if q == seq)
                t_hub = await acks.wait_seq(seq)
                results["dc09_accepted"].append((t_acc - t0) / 1e6)
                results["dc09_ack"].append((t_ack - t0) / 1e6)
                results["dc09_crew"].append((t_crew - t0) / 1e6)
                results["dc09_hub"].append((t_hub - t0) / 1e6)
                await crew.close_incident(incident["id"])
                await asyncio.sleep(args.gap)
        finally:
            while not probe.done():  # Python 3.11's wait_for (in the panel link) can swallow one cancel
                probe.cancel()
                await asyncio.wait([probe], timeout=0.1)
            await link.close()
            if not probe.cancelled() and (failed := probe.exception()) is not None:
                raise failed

        for _ in range(args.modbus_samples):
            t0 = time.perf_counter_ns()
            sim.press(0)
            t_crew, incident = await crew.wait_raised(t0, "modbus")
            t_hub = await acks.wait_seq(await crew.wait_alarm_seq(t0))
            results["modbus_crew"].append((t_crew - t0) / 1e6)
            results["modbus_hub"].append((t_hub - t0) / 1e6)
            sim.release(0)
            await crew.close_incident(incident["id"])
            # the release is polled before the next press, which lands at a random phase of the poll cycle
            await asyncio.sleep(max(args.gap, 3 * args.poll) + random.uniform(0, args.poll))
        await crew.client.close()
    finally:
        if acks is not None:
            acks.close()
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        await sim.close()
        broker.stop()
    return results


def report(args: argparse.Namespace, r: dict[str, list[float]]) -> None:
    echo50, echo99 = pct(r["echo"], 50), pct(r["echo"], 99)
    mqtt50, mqtt99 = pct(r["mqtt"], 50), pct(r["mqtt"], 99)
    print(
        f"\none-key alarm latency, {args.schools} schools sending link tests every {args.link_interval:g} s "
        f"over {args.connections} TCP connections; {len(r['dc09_ack'])} DC-09 panics, "
        f"{len(r['modbus_crew'])} Modbus presses (poll {args.poll * 1000:.0f} ms)"
    )
    print(
        f"baselines: TCP echo round trip p50 {echo50:.2f} ms p99 {echo99:.2f} ms; "
        f"MQTT QoS 1 loopback p50 {mqtt50:.2f} ms p99 {mqtt99:.2f} ms; "
        f"disk flush (2 KiB pwrite + fdatasync) p50 {pct(r['flush'], 50):.2f} ms p99 {pct(r['flush'], 99):.2f} ms\n"
    )
    print(f"{'path':<34}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'target p99':>12}  ratio to baseline (p50 / p99)")
    rows = [
        ("DC-09 panic -> ACK", "dc09_ack", 10.0, echo50, echo99, "TCP echo"),
        ("DC-09 panic -> crew notified", "dc09_crew", 20.0, echo50, echo99, "TCP echo"),
        ("DC-09 panic -> stored at hub", "dc09_hub", 50.0, mqtt50, mqtt99, "MQTT loopback"),
        ("Modbus press -> crew notified", "modbus_crew", 20.0 + args.poll * 1000, echo50, echo99, "TCP echo"),
        ("Modbus press -> stored at hub", "modbus_hub", 50.0 + args.poll * 1000, mqtt50, mqtt99, "MQTT loopback"),
    ]
    for label, key, target, b50, b99, base in rows:
        v = r[key]
        p50, p99 = pct(v, 50), pct(v, 99)
        ok = "ok" if p99 < target else "MISSED"
        print(
            f"{label:<34}{p50:>9.2f}{p99:>9.2f}{max(v):>9.2f}{target:>9.0f} {ok:<6} "
            f"x{p50 / b50:.1f} / x{p99 / b99:.1f} {base}"
        )
    probe = r["probe"]
    print(
        f"\nanother school's link test -> ACK while the panics are handled ({len(probe)} link tests): "
        f"p50 {pct(probe, 50):.2f} ms p99 {pct(probe, 99):.2f} ms max {max(probe, default=float('nan')):.2f} ms"
    )
    acc = r["dc09_accepted"]
    print(f"\nDC-09 panic -> alarm.raised committed to the outbox: p50 {pct(acc, 50):.2f} ms p99 {pct(acc, 99):.2f} ms")
    print(f"machine load average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(
        f"mean DC-09 ACK {statistics.fmean(r['dc09_ack']):.2f} ms; hub path measured by the hub's ack on "
        f"police/v1/{STATION}/ack (published after its database commit), seen by a paho subscriber"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", type=int, default=200, help="DC-09 panics")
    p.add_argument("--modbus-samples", type=int, default=100, help="Modbus button presses")
    p.add_argument("--schools", type=int, default=500, help="simulated schools sending link tests")
    p.add_argument("--link-interval", type=float, default=1.0, help="seconds between a school's link tests")
    p.add_argument("--connections", type=int, default=4, help="TCP connections the schools share")
    p.add_argument("--poll", type=float, default=0.05, help="Modbus poll interval, seconds")
    p.add_argument(
        "--probe-interval",
        type=float,
        default=0.002,
        help="seconds between another school's link tests during the DC-09 panics",
    )
    p.add_argument("--gap", type=float, default=0.05, help="seconds between two alarms")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of background load before measuring")
    p.add_argument("--key", help="AES key (hex) of the panic school: encrypted frames")
    p.add_argument("--keep", type=Path, help="keep the work directory here (logs, databases)")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-alarm-"))
    try:
        results = asyncio.run(run(args, work))
        report(args, results)
    finally:
        if args.keep:
            shutil.copytree(work, args.keep, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.sock"))
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
