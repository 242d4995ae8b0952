"""The wire's limits (edge.wire.bounds): what central must refuse, the station refuses at `events.submit`.

Units of the checks and the decoders, then the local API of a real daemon on a real socket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from edge.api.client import EdgeClient
from edge.config.station import parse_config
from edge.daemon.composition import build_components
from edge.daemon.core import EdgeDaemon
from edge.wire import messages as wire
from edge.wire.bounds import INT64_MAX, MAX_DEPTH, MAX_PAYLOAD_BYTES, BoundsError, check_value
from edge.wire.errors import ApiError


def test_check_value_accepts_what_every_backend_stores() -> None:
    check_value({"a": [1, -(2**63), INT64_MAX, 1.5, None, True, "中文 🚓"], "b": {"c": "x"}})
    deep: object = 1
    for _ in range(MAX_DEPTH - 1):
        deep = [deep]
    check_value(deep)


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ({"n": 2**63}, "signed 64-bit"),
        ({"n": -(2**63) - 1}, "signed 64-bit"),
        ({"s": "a\x00b"}, "U+0000"),
        ({"a\x00": 1}, "U+0000"),
        ({"s": "\ud800"}, "U+D800"),
    ],
)
def test_check_value_refuses_with_the_place_named(value: object, needle: str) -> None:
    with pytest.raises(BoundsError, match=needle.replace("+", r"\+")):
        check_value(value)


def test_check_value_refuses_nesting_past_the_limit_without_recursing() -> None:
    deep: object = 1
    for _ in range(100_000):  # iterative: no RecursionError however deep
        deep = [deep]
    with pytest.raises(BoundsError, match="nested deeper"):
        check_value(deep)


def test_decoders_refuse_out_of_range_seqs_counters_and_oversized_or_deep_payloads() -> None:
    ev = {"v": 1, "id": "i", "station": "ST-1", "seq": 2**63, "ts": "t", "type": "demo.tick", "priority": 1}
    with pytest.raises(msgspec.ValidationError, match="9223372036854775807"):
        wire.decode_batch(msgspec.json.encode({"v": 1, "station": "ST-1", "events": [ev]}))
    with pytest.raises(msgspec.ValidationError):
        wire.decode_batch(msgspec.json.encode({"v": 1, "station": "bad id", "events": []}))
    with pytest.raises(msgspec.ValidationError, match="counter"):
        wire.decode_status(b'{"v":1,"state":"online","counter":9223372036854775808,"ts":"x"}')
    with pytest.raises(BoundsError, match="over the limit"):
        wire.decode_status(b" " * (MAX_PAYLOAD_BYTES + 1))
    with pytest.raises(BoundsError, match="nested deeper"):
        wire.decode_telemetry(b'{"v":1,"cameras":{"c":{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}}}")
    with pytest.raises(BoundsError, match="U\\+0000"):
        wire.decode_heartbeat(b'{"v":1,"counter":1,"ts":"\\u0000"}')
    ok = {**ev, "seq": INT64_MAX, "data": {"n": 1}}
    batch = wire.decode_batch(msgspec.json.encode({"v": 1, "station": "ST-1", "events": [ok], "batch": 9}))
    assert (batch.batch, batch.events[0].seq) == (9, INT64_MAX)


@pytest.mark.parametrize(
    ("field", "needle"),
    [
        (b'"type":"demo\\u0000tick"', r"\$\.events\[1\]\.type: U\+0000"),
        (b'"ts":"t\\u0000"', r"\$\.events\[1\]\.ts: U\+0000"),
        (b'"data":{"k":[{"s":"\\u0000"}]}', r"\$\.events\[1\]\.data\.k\[0\]\.s: U\+0000"),
        (b'"data":{"\\u0000":1}', r"\$\.events\[1\]\.data\.<key>: U\+0000"),
        (b'"data":{"n":9223372036854775808}', r"\$\.events\[1\]\.data\.n: integer outside"),
        (b'"data":{"d":' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}", r"\$\.events\[1\]\.data\.d(\[0\])+: nested"),
    ],
)
def test_a_batch_is_checked_event_by_event_with_the_place_named(field: bytes, needle: str) -> None:
    """The hub's checks of a batch (its quick pass skips strings when no \\u escape is in the payload)
    still find every value outside the limits and name where it is."""
    good = b'"v":1,"id":"i","station":"ST-1","ts":"t","type":"demo.tick","priority":1,"data":{"s":"caf\xc3\xa9"}'
    first = b"{" + good + b',"seq":1}'
    bad = b"{" + good.replace(field.split(b":", 1)[0] + b":", b'"unused":', 1) + b',"seq":2,' + field + b"}"
    payload = b'{"v":1,"station":"ST-1","events":[' + first + b"," + bad + b"]}"
    with pytest.raises(BoundsError, match=needle):
        wire.decode_batch(payload)
    assert wire.decode_batch(b'{"v":1,"station":"ST-1","events":[' + first + b"]}").events[0].data == {"s": "café"}
    escaped = first.replace(b"caf\xc3\xa9", b"caf\\u00e9")
    assert wire.decode_batch(b'{"v":1,"station":"ST-1","events":[' + escaped + b"]}").events[0].data == {"s": "café"}


def test_batch_payload_names_the_batch_and_old_payloads_still_decode() -> None:
    ev = wire.Event(id="i", station="ST-1", seq=1, ts="t", type="demo.tick", priority=wire.Priority.INFO)
    assert wire.decode_batch(wire.batch_payload("ST-1", [wire.encode(ev)], batch=42)).batch == 42
    old = b'{"v":1,"station":"ST-1","events":[]}'
    assert wire.decode_batch(old).batch == 0, "a station that predates batch ids"
    assert wire.decode_ack(b'{"v":1,"seqs":[1]}').batch == 0


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[EdgeDaemon]:
    cfg = parse_config(
        {
            "station": {"id": "ST-BOUNDS"},
            "paths": {"data_dir": str(tmp_path / "d")},
            "uplink": {"url": "mqtt://127.0.0.1:9", "reconnect_max": 1.0},
            "outbox": {"reserve_bytes": 0, "disk_low_bytes": 0},
            "sim": {"test_events": True},
        }
    )
    d = EdgeDaemon(cfg, components=build_components(cfg))  # as the CLI builds it: demo.tick is known
    await d.start()
    try:
        yield d
    finally:
        await d.stop()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"n": 2**63}, "signed 64-bit"),
        ({"n": 1, "note": "bad\x00note"}, "U+0000"),
        ({"text": "ok", "author": "\x00"}, "U+0000"),
    ],
)
async def test_events_submit_refuses_what_central_would_refuse(
    daemon: EdgeDaemon, data: dict[str, object], needle: str
) -> None:
    type_ = "station.note" if "text" in data else "demo.tick"
    async with EdgeClient(daemon.api.path) as c:
        with pytest.raises(ApiError) as err:
            await c.call("events.submit", {"type": type_, "priority": "info", "data": data})
    assert err.value.code == -32602
    assert needle in err.value.message
    assert daemon.outbox.next_seq == 1, "nothing accepted, no seq used"
