#!/usr/bin/env python3
"""Fuzz the station's inbound surfaces on a real daemon: JSON-RPC requests on its local API, and MQTT
commands, RPC responses and acks from the broker (issue 12).

    .venv/bin/python scripts/fuzz_station.py                         # 100,000 inputs per surface
    .venv/bin/python scripts/fuzz_station.py --inputs 3000 --seed 7 --target jsonrpc

It starts its own Mosquitto (free port) and a `police-kiosk edge` daemon with the kiosk, the work orders
and central's public key (a key pair made for the run, so the fuzz can also send *signed* commands with
hostile args: what a handler sees only if central itself misbehaves). Inputs are structure-aware: every
method of the local API contract with params built from its own fields, then given wrong types, huge or
hostile values (U+0000, lone surrogates, 2**70, nesting), dropped or extra keys; batches, broken
envelopes and bytes; commands as valid `wire.Command`s (signed or not) with mutated args, mutated bytes,
random bytes; RPC responses and acks likewise.

A run fails (exit 1) when the daemon dies, a request gets an internal error (-32603: an exception that
is not the API's own refusal), a request gets no answer, the daemon logs a failed command handler or an
unhandled task error, or the good events submitted during the run are not all in the outbox at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import msgspec  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
from fuzz_parsers import mutate_bytes  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from edge.sim.broker import MosquittoProcess  # noqa: E402
from edge.wire import messages as wire  # noqa: E402
from edge.wire.api.methods import ALL_METHODS  # noqa: E402
from edge.wire.commands import CommandSigner, generate_key_pair, load_private_key  # noqa: E402

PY = [sys.executable, "-m", "police_kiosk"]
STATION = "ST-FUZZ"
#: Methods that wait on the network by design (a call to central times out when no hub answers).
SLOW = frozenset({"hub.call"})
COMMANDS = (
    "kiosk.notices",
    "kiosk.result",
    "vision.watchlist",
    "workorder.state",
    "kiosk.bulletin",
    "patrol.roster",
    "x.unknown",
)
#: Log lines that mean an exception escaped a handler (the API's refusals and the gate's are not these).
BAD_LOG = ("command handler failed", "API method", "Task exception was never retrieved", "Exception in callback")
INTERNAL_ERROR = -32603


@dataclass
class Report:
    inputs: int = 0
    answered: int = 0
    refused: int = 0
    failures: list[str] = field(default_factory=list)

    def fail(self, what: str) -> None:
        if len(self.failures) < 20:
            self.failures.append(what[:300])
        else:
            self.failures[-1] = f"... and more (last: {what[:200]})"


# ---- hostile values ----------------------------------------------------------------------------------
def hostile(rng: random.Random, depth: int = 0) -> Any:
    r = rng.randrange(14)
    if r == 0:
        return None
    if r == 1:
        return rng.choice([True, False])
    if r == 2:
        return rng.choice([0, -1, 1, 2**31, 2**63, 2**70, -(2**70)])
    if r == 3:
        return rng.choice([0.5, -1e308, 1e308, 3.0])
    if r == 4:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randint(0, 40)))
    if r == 5:
        return rng.choice(["", "\x00", "\ud800", "../../etc/passwd", "A" * 5000, "ST-FUZZ", "all", "138" * 4])
    if r == 6:
        return "x" * rng.choice([64, 65, 500, 501, 70_000])
    if r == 7 and depth < 6:
        return [hostile(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if r == 8 and depth < 6:
        return {hostile_key(rng): hostile(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    if r == 9:
        nest: Any = 1
        for _ in range(rng.choice([10, 40, 200])):
            nest = [nest]
        return nest
    if r == 10:
        return rng.choice(["2026-12-03T08:00:00Z", "9999-12-31T23:59:59Z", "not a time", "2026-13-45T99:99:99Z"])
    if r == 11:
        return rng.choice(["SZ-FT-0001-000042", "ST-FUZZ-000001", "ST-FUZZ-999999999", "-000001"])
    return rng.randint(-5, 5)


def hostile_key(rng: random.Random) -> str:
    return rng.choice(["id", "name", "ticket", "scope", "notices", "orders", "", "\x00", "k" * 300, "v"])


def params_for(fields: list[str], rng: random.Random) -> Any:
    if rng.random() < 0.08:
        return hostile(rng)  # not an object at all
    out: dict[str, Any] = {f: hostile(rng) for f in fields if rng.random() < 0.8}
    if rng.random() < 0.2:
        out[hostile_key(rng)] = hostile(rng)
    return out


# ---- JSON-RPC ----------------------------------------------------------------------------------------
def rpc_lines(rng: random.Random) -> Iterator[tuple[bytes, int]]:
    """(line, answers expected: 0 for a notification, -1 for "an error or nothing", else 1)."""
    methods = [(m.name, list(msgspec.structs.fields(m.params))) for m in ALL_METHODS if m.name not in SLOW]
    n = 0
    while True:
        n += 1
        name, fields = rng.choice(methods)
        field_names = [f.name for f in fields]
        req: dict[str, Any] = {"jsonrpc": "2.0", "id": n, "method": name, "params": params_for(field_names, rng)}
        r = rng.random()
        if r < 0.6:
            yield json.dumps(req).encode(), 1
        elif r < 0.67:
            yield json.dumps({**req, "method": hostile(rng)}).encode(), 1
        elif r < 0.74:
            batch = [{**req, "id": n * 100 + i} for i in range(rng.randint(1, 5))]
            yield json.dumps(batch).encode(), 1
        elif r < 0.8:
            broken = dict(req)
            broken[rng.choice(["jsonrpc", "id", "method", "params"])] = hostile(rng)
            yield json.dumps(broken).encode(), -1
        elif r < 0.87:
            yield mutate_bytes(json.dumps(req).encode(), rng).replace(b"\n", b" "), -1
        elif r < 0.92:
            yield b"[" * rng.choice([33, 1000, 100_000]) + b"]" * 3, 1
        elif r < 0.96:
            yield bytes(rng.randrange(1, 256) for _ in range(rng.randint(1, 200))).replace(b"\n", b" "), -1
        else:
            yield json.dumps({k: v for k, v in req.items() if k != "id"}).encode(), 0


async def fuzz_jsonrpc(sock: Path, inputs: int, rng: random.Random, report: Report) -> None:
    lines = rpc_lines(rng)
    reader, writer = await asyncio.open_unix_connection(str(sock), limit=8 * 1024 * 1024)
    try:
        for _ in range(inputs):
            line, expect = next(lines)
            report.inputs += 1
            try:
                writer.write(line + b"\n")
                await writer.drain()
            except ConnectionError:  # it closed the last connection (a framing violation): open another
                writer.close()
                reader, writer = await asyncio.open_unix_connection(str(sock), limit=8 * 1024 * 1024)
                writer.write(line + b"\n")
                await writer.drain()
            if expect == 0:
                continue
            try:
                raw = await asyncio.wait_for(reader.readline(), timeout=10.0 if expect == 1 else 0.3)
            except TimeoutError:
                if expect == 1:
                    report.fail(f"no answer to {line[:160]!r}")
                continue
            except ConnectionError:
                raw = b""  # reset after a framing violation: as closed
            if not raw:  # the server closed the connection (a framing violation): open another
                writer.close()
                reader, writer = await asyncio.open_unix_connection(str(sock), limit=8 * 1024 * 1024)
                continue
            report.answered += 1
            answers = json.loads(raw)
            for a in answers if isinstance(answers, list) else [answers]:
                err = a.get("error") if isinstance(a, dict) else None
                if err is not None:
                    report.refused += 1
                    if err.get("code") == INTERNAL_ERROR:
                        report.fail(f"internal error {err.get('message', '')[:120]!r} for {line[:160]!r}")
    finally:
        writer.close()


# ---- MQTT --------------------------------------------------------------------------------------------
def mqtt_messages(rng: random.Random, signer: CommandSigner) -> Iterator[tuple[str, bytes]]:
    cmd_topic = lambda name, scope=STATION: wire.topic(scope, "cmd", name)  # noqa: E731
    while True:
        r = rng.random()
        name = rng.choice(COMMANDS)
        args = params_for(
            ["scope", "issued_at", "notices", "orders", "request_id", "answer", "version", "entries"], rng
        )
        if not isinstance(args, dict):
            args = {"x": args}
        if r < 0.5:
            try:  # central cannot sign what JSON cannot encode (a lone surrogate): such args are skipped
                cmd = signer.command(name, args, targets=[rng.choice([STATION, "all"])], lifetime=600)
                body = wire.encode(cmd)
            except UnicodeEncodeError:
                continue
            if r < 0.35:  # signed by central, hostile args: the handler's own checks are all that stands
                yield cmd_topic(name, cmd.targets[0]), body
            else:  # tampered: the gate refuses it
                yield cmd_topic(name, cmd.targets[0]), mutate_bytes(body, rng)
        elif r < 0.6:
            yield cmd_topic(name), bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
        elif r < 0.8:
            resp = {"v": 1, "id": hostile(rng), "result": hostile(rng), "error": hostile(rng)}
            body = json.dumps(resp).encode()
            yield wire.topic(STATION, "rpc", "res"), body if rng.random() < 0.5 else mutate_bytes(body, rng)
        else:
            ack = {"v": 1, "seqs": hostile(rng), "batch": hostile(rng)}
            body = json.dumps(ack).encode()
            yield wire.topic(STATION, "ack"), body if rng.random() < 0.5 else mutate_bytes(body, rng)


def fuzz_mqtt(broker: MosquittoProcess, inputs: int, rng: random.Random, signer: CommandSigner, report: Report) -> None:
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id="fuzz-central", protocol=mqtt.MQTTv5
    )
    host, port = broker.url.removeprefix("mqtt://").split(":")
    client.connect(host, int(port))
    client.loop_start()
    try:
        messages = mqtt_messages(rng, signer)
        for i in range(inputs):
            topic, payload = next(messages)
            info = client.publish(topic, payload, qos=1)
            report.inputs += 1
            if i % 200 == 199:
                info.wait_for_publish(timeout=30)
        # the marker: a well-formed notice set for this station, newest of all, must still be taken
        marker = {
            "scope": STATION,
            "issued_at": "9999-12-31T23:59:59Z",
            "notices": [
                {
                    "id": "fuzz-marker",
                    "kind": "anti_fraud",
                    "title": {"zh": "标记", "en": "marker"},
                    "body": {"zh": "标记", "en": "marker"},
                }
            ],
        }
        cmd = signer.command("kiosk.notices", marker, targets=[STATION], lifetime=600)
        client.publish(wire.topic(STATION, "cmd", "kiosk.notices"), wire.encode(cmd), qos=1).wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()


# ---- the station under test --------------------------------------------------------------------------
async def call(sock: Path, method: str, params: dict[str, Any] | None = None) -> Any:
    reader, writer = await asyncio.open_unix_connection(str(sock), limit=8 * 1024 * 1024)
    try:
        writer.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}).encode() + b"\n")
        await writer.drain()
        answer = json.loads(await asyncio.wait_for(reader.readline(), timeout=10))
    finally:
        writer.close()
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def submit_good(sock: Path, first: int, count: int) -> None:
    async def go() -> None:
        for i in range(first, first + count):
            await call(
                sock, "events.submit", {"type": "station.note", "priority": "info", "data": {"text": f"good {i}"}}
            )

    asyncio.run(go())


def wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return
        time.sleep(0.2)
    raise TimeoutError(what)


def run(targets: list[str], *, inputs: int, seed: int, keep_log: Path | None = None) -> dict[str, Report]:
    private, public = generate_key_pair()
    signer = CommandSigner(load_private_key(private))
    reports: dict[str, Report] = {}
    with tempfile.TemporaryDirectory(prefix="pk-fuzz-station-") as tmp_s:
        tmp = Path(tmp_s)
        (tmp / "central.pub").write_bytes(public)
        broker = MosquittoProcess(tmp / "mosquitto")
        broker.start()
        sock = tmp / "edge.sock"
        log_path = tmp / "edge.log"
        argv = [
            *PY, "edge", "--station", STATION, "--uplink", broker.url, "--data-dir", str(tmp / "data"),
            "--socket", str(sock), "--set", "kiosk.enabled=true",
            "--set", f'commands.public_key_file="{tmp / "central.pub"}"', "--set", "kiosk.hub_timeout=0.5",
        ]  # fmt: skip
        with log_path.open("wb") as log:
            edge = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait(lambda: "kiosk.catalogue" in asyncio.run(call(sock, "rpc.methods")), 60, "the daemon to start")
            good = 0
            for target in targets:
                rng = random.Random(f"{target}:{seed}")  # noqa: S311 - reproducible inputs, not secrets
                report = reports[target] = Report()
                submit_good(sock, good, 20)
                good += 20
                if target == "jsonrpc":
                    asyncio.run(fuzz_jsonrpc(sock, inputs, rng, report))
                else:
                    fuzz_mqtt(broker, inputs, rng, signer, report)
                    try:
                        wait(
                            lambda: any(
                                n["id"] == "fuzz-marker" for n in asyncio.run(call(sock, "kiosk.notices"))["notices"]
                            ),
                            120,
                            "the marker",
                        )
                    except TimeoutError:
                        report.fail("a well-formed signed command sent after the fuzz was not taken")
                submit_good(sock, good, 20)
                good += 20
                if edge.poll() is not None:
                    report.fail(f"the daemon exited with {edge.returncode}")
                    break
            status = asyncio.run(call(sock, "status.get"))
            if status["outbox"]["depth"] < good:  # no hub runs here: nothing may have been taken out
                next(iter(reports.values())).fail(f"outbox holds {status['outbox']['depth']} of {good} good events")
        finally:
            edge.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                edge.wait(timeout=20)
            if edge.poll() is None:
                edge.kill()
            broker.stop()
        text = log_path.read_text(errors="replace")
        if keep_log is not None:
            keep_log.write_text(text)
        lines = text.splitlines()
        if "mqtt" in reports:  # what the daemon said of them: refused at the gate, ignored by a handler
            reports["mqtt"].refused = sum(("refused" in ln or "ignored" in ln) for ln in lines)
        for line in lines:
            if any(marker in line for marker in BAD_LOG) and " ERROR " in line:
                next(iter(reports.values())).fail(f"daemon log: {line[:250]}")
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--inputs", type=int, default=100_000, help="inputs per surface")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target", action="append", choices=["jsonrpc", "mqtt"], help="default: both")
    parser.add_argument("--log", type=Path, help="keep the daemon's log in this file")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    reports = run(args.target or ["jsonrpc", "mqtt"], inputs=args.inputs, seed=args.seed, keep_log=args.log)
    failed = False
    for target, r in reports.items():
        print(
            f"{target:<8} {r.inputs:>7} inputs  {r.answered:>7} answered  {r.refused:>7} refused  "
            f"{len(r.failures):>3} failures"
        )
        for line in r.failures:
            print(f"    {line}")
        failed |= bool(r.failures)
    print(f"{time.perf_counter() - t0:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
