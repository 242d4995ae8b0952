"""Regenerate the example payloads and the JSON Schemas in docs/mqtt-api.md from the wire contract.

    .venv/bin/python scripts/gen_api_docs.py           # rewrite docs/mqtt-api.md
    .venv/bin/python scripts/gen_api_docs.py --check   # exit 1 if the file would change

Two regions of the page are generated, the rest is written by hand:

- `<!-- examples:begin -->` ... `<!-- examples:end -->`: one payload of every kind, encoded by the
  code itself (`edge.wire.messages.encode`, `edge.wire.messages.batch_payload`, the same calls the uplink and the hub
  make), decoded back with the wire decoders and, for event data, validated with `edge.wire.payloads`;
- `<!-- schemas:begin -->` ... `<!-- schemas:end -->`: `edge.wire.messages.json_schemas()` and the data schema
  of every registered event type (`edge.wire.payloads.registered_types()`, `schema_of()`,
  `msgspec.json.schema`).

tests/test_docs.py runs `--check`, so a payload changed without a regenerated page fails the tests.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.wire import messages as wire
from edge.wire import payloads
from edge.wire.commands import CommandSigner, public_key_pem

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "mqtt-api.md"

STATION = "SZ-FT-0042"
#: The Ed25519 private key (seed) of the command example. Documentation only: never central's real key.
EXAMPLE_COMMAND_SEED = bytes(range(32))


def load_payload_modules() -> list[str]:
    """Import every module of `edge` that registers event types, and return their names.

    Event types are registered by the module of the component that sends them, on import (the daemon
    imports a component's module only when the component is enabled). To document every type, the
    generator imports each module whose source calls `payloads.register(`.
    """
    names = []
    for path in sorted((ROOT / "edge").rglob("*.py")):
        if path.name == "payloads.py" or "payloads.register(" not in path.read_text(encoding="utf-8"):
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        importlib.import_module(name)
        names.append(name)
    return names


def _json_block(value: Any) -> list[str]:
    return ["```json", json.dumps(value, ensure_ascii=False, indent=2), "```"]


def _raw_block(payload: bytes) -> list[str]:
    return ["```json", payload.decode(), "```"]


def _checked(payload: bytes, decode: Callable[[bytes], msgspec.Struct]) -> bytes:
    """The payload, after making sure the wire decoder reads it back to the same JSON."""
    decoded = decode(payload)
    if wire.encode(decoded) != payload:
        raise SystemExit(f"gen_api_docs: {type(decoded).__name__} example does not round-trip")
    return payload


def _event(*, seq: int, id_: str, ts: str, type_: str, priority: wire.Priority, data: dict[str, Any]) -> bytes:
    """An event as the outbox stores and sends it: data normalised by its schema, encoded once."""
    normalised = payloads.validate(type_, data)
    return wire.encode(
        wire.Event(id=id_, station=STATION, seq=seq, ts=ts, type=type_, priority=priority, data=normalised)
    )


def examples() -> list[str]:
    birth = wire.Status(state="online", counter=7, ts="2026-11-23T07:22:20.381Z", software="police-kiosk")
    will = wire.Status(
        state="offline", counter=7, ts="2026-11-23T07:22:20.379Z", software="police-kiosk", reason="connection lost"
    )
    shutdown = wire.Status(
        state="offline", counter=7, ts="2026-11-23T07:30:02.118Z", software="police-kiosk", reason="shutdown"
    )
    events = [
        _event(
            seq=41,
            id_="01a20748-d111-727f-98c7-dfada473501d",
            ts="2026-11-23T07:22:22.353Z",
            type_="station.note",
            priority=wire.Priority.ALARM,
            data={"text": "panic button pressed at the front door"},
        ),
        _event(
            seq=42,
            id_="01a20748-d111-7280-8a41-5f0c2e9b7d13",
            ts="2026-11-23T07:22:22.353Z",
            type_="station.note",
            priority=wire.Priority.ALARM,
            data={"text": "second panic button, side door", "author": "duty officer"},
        ),
    ]
    batch = _checked(wire.batch_payload(STATION, events, batch=73019), wire.decode_batch)
    ack = _checked(wire.encode(wire.Ack(seqs=[41, 42], batch=73019)), wire.decode_ack)
    heartbeat = _checked(wire.encode(wire.Heartbeat(counter=7, ts="2026-11-23T07:22:24.382Z")), wire.decode_heartbeat)
    telemetry = wire.Telemetry(
        ts="2026-11-23T07:22:26.383Z",
        outbox=wire.OutboxHealth(
            depth=0,
            by_priority={"info": 0, "warning": 0, "alarm": 0},
            bytes=0,
            oldest_age_s=0.0,
            accepted_total=2,
            rejected_total=0,
            confirmed_total=2,
        ),
        link=wire.LinkHealth(
            state="connected",
            connects=1,
            in_flight=0,
            published_total=2,
            resent_total=0,
            publish_failures=0,
            acks_ignored=0,
        ),
        host=wire.HostHealth(load1=0.76, mem_available_mb=23275.7, disk_free_mb=80223.6, uptime_s=6.0),
        faults=[],
        devices={},
    )
    signer = CommandSigner(Ed25519PrivateKey.from_private_bytes(EXAMPLE_COMMAND_SEED))
    command = signer.sign(
        wire.Command(
            id="01a2074a-2b3c-7d4e-9f60-718293a4b5c6",
            name="notice",
            args={"text": "Road closed for the marathon until 14:00"},
            targets=[STATION],
            counter=1795937400000000,
            issued_at="2026-11-23T07:40:00.000Z",
            expires_at="2026-11-23T14:00:00.000Z",
        )
    )
    unsigned = msgspec.structs.replace(command, sig="")
    request = wire.RpcRequest(
        id="01a2074e-5a1a-721a-b1aa-c08c9ff6bc1a",
        method="hub.ping",
        params={"echo": "hi"},
        deadline="2026-11-23T07:28:30.114Z",
    )
    answer = wire.RpcResponse(
        id=request.id, result={"pong": True, "station": STATION, "ts": "2026-11-23T07:28:25.115Z", "echo": "hi"}
    )
    refusal = wire.RpcResponse(
        id="01a2074e-5af2-73e4-9458-ffacfa2cdb31",
        error=wire.RpcError(code=-32601, message="unknown hub method 'appointments.free_slots'"),
    )

    out: list[str] = []
    out += ["### Status: birth (`police/v1/{station}/status`, retained)", ""]
    out += _raw_block(_checked(wire.encode(birth), wire.decode_status))
    out += ["", "### Status: last will, published by the broker when the connection is lost", ""]
    out += _raw_block(_checked(wire.encode(will), wire.decode_status))
    out += ["", "### Status: orderly shutdown (`police-kiosk edge` stopped with SIGTERM)", ""]
    out += _raw_block(_checked(wire.encode(shutdown), wire.decode_status))
    out += [
        "",
        "### EventBatch (`police/v1/{station}/event`): two alarms of one lane",
        "",
        "Exactly as the uplink publishes it (`wire.batch_payload` over the events encoded at accept time):",
        "",
    ]
    out += _raw_block(batch)
    out += ["", "The same, indented:", ""]
    out += _json_block(json.loads(batch))
    out += ["", "### Ack (`police/v1/{station}/ack`): the hub stored seqs 41 and 42 of batch 73019", ""]
    out += _raw_block(ack)
    out += ["", "### Heartbeat (`police/v1/{station}/heartbeat`, QoS 0, every `uplink.heartbeat_interval` s)", ""]
    out += _raw_block(heartbeat)
    out += ["", "### Telemetry (`police/v1/{station}/telemetry`, indented here)", ""]
    out += _json_block(json.loads(_checked(wire.encode(telemetry), wire.decode_telemetry)))
    out += [
        "",
        "### Command (`police/v1/{station}/cmd/notice` or `police/v1/all/cmd/notice`, indented here)",
        "",
        "`sig` is the Ed25519 signature (hex) over `Command.signing_bytes()` by the example private key whose "
        "seed is the bytes 00 01 02 … 1f (documentation only); its public key, as stations hold it "
        "(`commands.public_key_file`), and the bytes signed (one line after the `police-kiosk command` line) are:",
        "",
    ]
    public = Ed25519PrivateKey.from_private_bytes(EXAMPLE_COMMAND_SEED).public_key()
    out += ["```", public_key_pem(public).decode().rstrip(), "```", ""]
    out += ["```", unsigned.signing_bytes().decode(), "```", ""]
    out += _json_block(json.loads(_checked(wire.encode(command), wire.decode_command)))
    out += [
        "",
        "### RpcRequest (`police/v1/{station}/rpc/req`)",
        "",
        "Published with the MQTT v5 properties Response Topic `police/v1/{station}/rpc/res`, Correlation Data "
        "(the `id`) and Message Expiry (timeout + 1 s).",
        "",
    ]
    out += _raw_block(_checked(wire.encode(request), wire.decode_rpc_request))
    out += ["", "### RpcResponse (`police/v1/{station}/rpc/res`): an answer, and an error", ""]
    out += _raw_block(_checked(wire.encode(answer), wire.decode_rpc_response))
    out += [""]
    out += _raw_block(_checked(wire.encode(refusal), wire.decode_rpc_response))
    return out


def schemas() -> list[str]:
    modules = load_payload_modules()
    defs: dict[str, Any] = wire.json_schemas()["$defs"]
    out = [
        "### Wire payloads",
        "",
        "From `edge.wire.messages.json_schemas()`. References (`$ref`) point into this one set of definitions "
        "(`#/$defs/NAME`).",
    ]
    for name, schema in defs.items():
        out += ["", f"#### `{name}`", ""]
        out += _json_block(schema)
    types = payloads.registered_types()
    out += [
        "",
        "### Event data, by event type",
        "",
        "The `data` object of an `Event`, by its `type`: from `edge.wire.payloads` (`registered_types()`, "
        "`schema_of()`, `msgspec.json.schema`). `events.submit` refuses unknown types and data that does not "
        "fit (see docs/local-api.md). The spine's own types are registered by `edge.wire.payloads`; a component's "
        "types by its module (" + ", ".join(f"`{m}`" for m in modules) + "), which the daemon imports only "
        "when the component is enabled: a daemon accepts the types of the components it runs.",
        "",
        "| type | schema | registered by | what it is |",
        "|---|---|---|---|",
    ]
    for t in types:
        struct = payloads.schema_of(t)
        assert struct is not None
        doc = " ".join((struct.__doc__ or "").split())
        out.append(f"| `{t}` | `{struct.__name__}` | `{struct.__module__}` | {doc} |")
    # One schema per struct: several types may share one (every alarm.* incident transition does).
    by_struct: dict[type[msgspec.Struct], list[str]] = {}
    for t in types:
        struct = payloads.schema_of(t)
        assert struct is not None
        by_struct.setdefault(struct, []).append(t)
    for struct, names in by_struct.items():
        out += ["", "#### " + ", ".join(f"`{t}`" for t in names), ""]
        out += _json_block(msgspec.json.schema(struct))
    return out


def replace_region(text: str, name: str, lines: list[str]) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise SystemExit(f"gen_api_docs: {DOC} lacks the markers {begin} ... {end}")
    return text[: start + len(begin)] + "\n" + "\n".join(lines) + "\n" + text[stop:]


def render(text: str) -> str:
    return replace_region(replace_region(text, "examples", examples()), "schemas", schemas())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the examples and schemas in docs/mqtt-api.md.")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if the page is out of date")
    args = parser.parse_args(argv)
    old = DOC.read_text(encoding="utf-8")
    new = render(old)
    if new == old:
        return 0
    if args.check:
        print(f"{DOC.relative_to(ROOT)} is out of date: run scripts/gen_api_docs.py", file=sys.stderr)
        return 1
    tmp = DOC.with_suffix(".md.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, DOC)
    print(f"rewrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
