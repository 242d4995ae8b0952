"""The local API on a real Unix socket: JSON-RPC 2.0 framing, errors, batches, notifications."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import edge.sim.payloads  # noqa: F401 - the test tools' event types (demo.tick, test.probe) are accepted here
from edge.api.client import ApiError, EdgeClient, Submitted
from edge.config.station import parse_config
from edge.daemon.core import EdgeDaemon


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[EdgeDaemon]:
    # The uplink points at a closed port: the API must work without central.
    cfg = parse_config(
        {
            "station": {"id": "ST-API"},
            "paths": {"data_dir": str(tmp_path / "d")},
            "uplink": {"url": "mqtt://127.0.0.1:9", "reconnect_max": 1.0},
            "outbox": {"reserve_bytes": 0, "disk_low_bytes": 0},
        }
    )
    d = EdgeDaemon(cfg)
    await d.start()
    try:
        yield d
    finally:
        await d.stop()


async def raw(path: Path, *lines: bytes, expect: int) -> list[dict[str, Any]]:
    reader, writer = await asyncio.open_unix_connection(str(path))
    for line in lines:
        writer.write(line)
    await writer.drain()
    out: list[dict[str, Any]] = [json.loads(await asyncio.wait_for(reader.readline(), 10)) for _ in range(expect)]
    writer.close()
    await writer.wait_closed()
    return out


async def test_submit_returns_id_and_gap_free_seq(daemon: EdgeDaemon) -> None:
    async with EdgeClient(daemon.api.path) as c:
        a = await c.submit_event("demo.tick", "info", {"n": 1})
        b = await c.submit_event("test.probe", "alarm", {"n": 2})
    assert (a.seq, b.seq) == (1, 2)
    assert a.id < b.id  # time-ordered ids
    assert daemon.outbox.depth() == 2  # accepted and held until central confirms


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"type": "Bad Type", "priority": "info", "data": {}}, "dotted lower-case"),
        ({"type": "no.such_type", "priority": "info", "data": {}}, "unknown event type"),
        ({"type": "demo.tick", "priority": "urgent", "data": {"n": 1}}, "priority must be one of"),
        ({"type": "demo.tick", "priority": "info", "data": {"n": "one"}}, "Expected `int`"),
        ({"type": "demo.tick", "priority": "info", "data": {"n": 1, "extra": 2}}, "unknown field"),
        ({"type": "demo.tick", "priority": "info", "data": {"n": 1}, "colour": "red"}, "unknown field `colour`"),
        ({"type": "demo.tick", "priority": "info", "data": {"n": 1, "pad": "x" * 300_000}}, "larger than"),
    ],
)
async def test_invalid_submissions_get_a_clear_invalid_params_error(
    daemon: EdgeDaemon, params: dict[str, object], needle: str
) -> None:
    async with EdgeClient(daemon.api.path) as c:
        with pytest.raises(ApiError) as err:
            await c.call("events.submit", params)
    assert err.value.code == -32602
    assert needle.lower() in err.value.message.lower()
    assert daemon.outbox.next_seq == 1  # nothing was accepted, no sequence number used


@pytest.mark.parametrize(
    ("method", "params", "needle"),
    [
        ("events.submit", {"type": 5}, "Expected `str`, got `int` - at `$.type`"),
        ("events.submit", {"type": "x" * 65}, "length <= 64 - at `$.type`"),
        ("hub.call", {"method": "hub.ping", "timeout": 90}, "<= 60.0 - at `$.timeout`"),
        ("hub.call", {"method": "hub.ping", "params": []}, "Expected `object`, got `array` - at `$.params`"),
        ("notify.subscribe", {}, "missing required field `topics`"),
        ("status.get", {"verbose": True}, "unknown field `verbose`"),
    ],
)
async def test_params_are_decoded_by_the_contract_and_the_field_is_named(
    daemon: EdgeDaemon, method: str, params: dict[str, object], needle: str
) -> None:
    async with EdgeClient(daemon.api.path) as c:
        with pytest.raises(ApiError) as err:
            await c.call(method, params)
    assert err.value.code == -32602
    assert err.value.message.startswith(f"{method}: ") and needle in err.value.message


async def test_protocol_errors_are_answered_and_the_connection_survives(daemon: EdgeDaemon) -> None:
    replies = await raw(
        daemon.api.path,
        b"this is not json\n",
        b'{"jsonrpc": "1.0", "id": 1, "method": "status.get"}\n',
        b'{"jsonrpc": "2.0", "id": 2, "method": "no.such"}\n',
        b'{"jsonrpc": "2.0", "id": 3, "method": "events.submit", "params": 7}\n',
        b'{"jsonrpc": "2.0", "method": "status.get"}\n',  # a notification: no answer
        b'{"jsonrpc": "2.0", "id": 4, "method": "status.get"}\n',
        expect=5,
    )
    codes = {r.get("id"): r.get("error", {}).get("code") for r in replies}
    assert codes[None] == -32700
    assert codes[1] == -32600
    assert codes[2] == -32601
    assert codes[3] == -32602
    ok = [r for r in replies if r.get("id") == 4]
    assert ok and ok[0]["result"]["station"] == "ST-API"


async def test_batches_answer_each_member(daemon: EdgeDaemon) -> None:
    async with EdgeClient(daemon.api.path) as c:
        res = await c.submit_many([("demo.tick", "info", {"n": i}) for i in range(50)] + [("nope.nope", "info", {})])
    assert [r.seq for r in res if isinstance(r, Submitted)] == list(range(1, 51))
    assert isinstance(res[-1], ApiError)


async def test_faults_are_pushed_to_subscribers(daemon: EdgeDaemon) -> None:
    got: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    async with EdgeClient(daemon.api.path, on_notify=lambda topic, p: got.put_nowait(p)) as c:
        await c.subscribe("faults")
        daemon.faults.raise_fault("device.test", "a test device fell off the bus")
        note = await asyncio.wait_for(got.get(), 5)
        while note.get("code") != "device.test":
            note = await asyncio.wait_for(got.get(), 5)
        assert note["active"] is True
        st = await c.status()
        assert "device.test" in [f.code for f in st.faults]


async def test_hub_calls_fail_fast_without_a_link(daemon: EdgeDaemon) -> None:
    async with EdgeClient(daemon.api.path) as c:
        with pytest.raises(ApiError) as err:
            await c.call_hub("hub.ping", {}, timeout=5)
    assert err.value.code == -32010
