"""hub.ingest.parse: every message on its own terms, sans-IO (bytes and time in, typed items out)."""

from __future__ import annotations

from typing import Any

import msgspec

from edge.wire import messages as wire
from hub.ingest import Delivery, HeartbeatMsg, StatusMsg, TelemetryMsg, parse

NOW = 1_800_000_000.0


def ev(seq: int, **over: Any) -> dict[str, Any]:
    return {
        "v": 1,
        "id": f"id-{seq}",
        "station": "ST-1",
        "seq": seq,
        "ts": "t",
        "type": "demo.tick",
        "priority": 1,
        "data": {"n": seq},
        **over,
    }


def batch(*events: Any, batch_id: int = 5) -> bytes:
    return msgspec.json.encode({"v": 1, "station": "ST-1", "batch": batch_id, "events": list(events)})


def test_a_good_batch_is_one_delivery_naming_its_batch() -> None:
    parsed, letters = parse("police/v1/ST-1/event", batch(ev(1), ev(2)), NOW)
    assert letters == []
    assert isinstance(parsed, Delivery)
    assert (parsed.station, parsed.batch, [e.seq for e in parsed.events], parsed.refused) == ("ST-1", 5, [1, 2], [])


def test_a_bad_event_is_refused_alone_and_its_seq_still_acked() -> None:
    parsed, letters = parse("police/v1/ST-1/event", batch(ev(1), ev(2, type="a.\x00b"), {**ev(3), "seq": 2**63}), NOW)
    assert isinstance(parsed, Delivery)
    assert [e.seq for e in parsed.events] == [1]
    assert parsed.refused == [2], "seq 2 is readable and acked; 2**63 is not a seq at all"
    assert len(letters) == 2
    assert all(d.station == "ST-1" and d.topic == "police/v1/ST-1/event" for d in letters)


def test_an_event_of_another_station_is_refused() -> None:
    parsed, letters = parse("police/v1/ST-1/event", batch(ev(1, station="ST-2")), NOW)
    assert isinstance(parsed, Delivery) and parsed.events == [] and parsed.refused == [1]
    assert "ST-2" in letters[0].reason


def test_what_cannot_be_read_at_all_is_one_dead_letter_with_a_bounded_prefix() -> None:
    for payload in (b"\xff" * 5000, b"[" * 100_000 + b"]" * 100_000, b'{"v":1,"events":"x"}'):
        parsed, letters = parse("police/v1/ST-1/event", payload, NOW)
        assert parsed is None
        (d,) = letters
        assert d.size == len(payload) and len(d.payload) <= 1024 and d.received_at == NOW


def test_topics_are_checked_before_anything_is_decoded() -> None:
    for topic in (
        "police/v1/bad id/event",
        "police/v1/" + "A" * 65 + "/status",
        "police/v2/ST-1/event",
        "police/v1/ST-1/nonsense",
        "police/v1/ST-1/rpc/res",
        "police/v1/ST-1",
    ):
        parsed, letters = parse(topic, b"{}", NOW)
        assert parsed is None and len(letters) == 1, topic


def test_status_telemetry_and_heartbeat() -> None:
    parsed, _ = parse("police/v1/ST-1/status", b"", NOW)
    assert parsed == StatusMsg("ST-1", None), "a cleared retained status"
    parsed, letters = parse(
        "police/v1/ST-1/status", b'{"v":1,"state":"online","counter":9223372036854775808,"ts":"x"}', NOW
    )
    assert parsed is None and "counter" in letters[0].reason
    parsed, _ = parse("police/v1/ST-1/heartbeat", wire.encode(wire.Heartbeat(counter=7, ts="x")), NOW)
    assert parsed == HeartbeatMsg("ST-1", 7)
    tele = (
        b'{"v":1,"ts":"x","unknown":"\\u0000","outbox":{"depth":0,"by_priority":{},"bytes":0,"oldest_age_s":0,'
        b'"accepted_total":0,"rejected_total":0,"confirmed_total":0},"link":{"state":"connected","connects":1,'
        b'"in_flight":0,"published_total":0,"resent_total":0,"publish_failures":0},"host":{"load1":0,'
        b'"mem_available_mb":1,"disk_free_mb":1,"uptime_s":1}}'
    )
    parsed, letters = parse("police/v1/ST-1/telemetry", tele, NOW)
    assert isinstance(parsed, TelemetryMsg) and letters == []
    assert b"unknown" not in parsed.body, "stored re-encoded: an unknown field cannot smuggle U+0000 into JSONB"
