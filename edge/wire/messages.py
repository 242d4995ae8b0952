"""The wire contract between stations and central: topics, the event envelope and every payload.

This module is the only thing the hub shares with the edge. It depends on msgspec alone. Payloads are
versioned (`v`): fields are added, never renamed or removed; a reader ignores fields it does not know.
`docs/mqtt-api.md` documents every topic and payload; `json_schemas()` generates their JSON Schemas.

Topic tree (``{station}`` is a station id, ``{name}`` a command name)::

    police/v1/{station}/status      retained birth / last-will message (Status)
    police/v1/{station}/event       QoS 1, a batch of events (EventBatch)
    police/v1/{station}/ack         QoS 1, hub -> station: event seqs stored (Ack)
    police/v1/{station}/telemetry   QoS 0, expiring health report (Telemetry)
    police/v1/{station}/cmd/{name}  QoS 1, hub -> station command (Command)
    police/v1/all/cmd/{name}        QoS 1, broadcast command (Command)
    police/v1/{station}/rpc/req     QoS 1, station -> hub request (RpcRequest), answered on
    police/v1/{station}/rpc/res     QoS 1, hub -> station response (RpcResponse)

Requests are for answers a resident waits for (a free appointment slot, a traffic lookup). They are not
durable: when the link is down the caller gets an error at once and falls back to a durable event.
"""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any, Final

import msgspec

__all__ = [
    "PREFIX",
    "STATION_ID_RE",
    "Ack",
    "Command",
    "Event",
    "EventBatch",
    "Place",
    "Priority",
    "RpcError",
    "RpcRequest",
    "RpcResponse",
    "Status",
    "Telemetry",
    "decode_ack",
    "decode_batch",
    "decode_command",
    "decode_rpc_request",
    "decode_rpc_response",
    "decode_status",
    "decode_telemetry",
    "encode",
    "json_schemas",
    "new_event_id",
    "topic",
    "utc_now_iso",
]

PREFIX: Final = "police/v1"
WIRE_VERSION: Final = 1
#: Station ids travel in topic names: no `/`, `+`, `#` and nothing a shell or a file name chokes on.
STATION_ID_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: Event types are dotted lower-case names: `alarm.raised`, `kiosk.report`, `vision.plate_hit`.
EVENT_TYPE_RE: Final = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class Priority(IntEnum):
    """Higher goes first. Alarms overtake everything; info gives way first when space runs out."""

    INFO = 1
    WARNING = 2
    ALARM = 3

    @classmethod
    def parse(cls, value: object) -> Priority:
        if isinstance(value, Priority):
            return value
        if isinstance(value, str) and value.upper() in cls.__members__:
            return cls[value.upper()]
        if isinstance(value, int) and not isinstance(value, bool) and value in {p.value for p in cls}:
            return cls(value)
        raise ValueError(f"priority must be one of alarm, warning, info; got {value!r}")


def topic(station: str, kind: str, name: str | None = None) -> str:
    """`topic("ST-1", "event")` → `police/v1/ST-1/event`; `topic("all", "cmd", "notice")`;
    `topic("ST-1", "rpc", "req")`."""
    if kind in {"cmd", "rpc"}:
        if not name:
            raise ValueError(f"a {kind} topic needs a name")
        return f"{PREFIX}/{station}/{kind}/{name}"
    return f"{PREFIX}/{station}/{kind}"


def utc_now_iso(now: float | None = None) -> str:
    """RFC 3339 UTC with milliseconds: `2026-11-23T07:00:00.123Z`."""
    t = time.time() if now is None else now
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _Uuid7:
    """Time-ordered ids (UUIDv7 layout): 48-bit unix ms, then a counter and random bits.

    Within one millisecond the 12-bit counter keeps ids strictly increasing from this process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0

    def __call__(self, now: float | None = None) -> str:
        ms = int((time.time() if now is None else now) * 1000)
        with self._lock:
            if ms <= self._last_ms:
                ms = self._last_ms
                self._counter += 1
                if self._counter > 0xFFF:
                    ms += 1
                    self._counter = 0
            else:
                self._counter = int.from_bytes(os.urandom(2), "big") & 0x3FF
            self._last_ms = ms
            counter = self._counter
        rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


new_event_id = _Uuid7()


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """The envelope of everything a station reports. Version 1."""

    v: int = WIRE_VERSION
    id: str  # UUIDv7, time-ordered, unique across all stations
    station: str
    seq: int  # per-station sequence: 1, 2, 3, ... with no gaps, assigned when the outbox commits
    ts: str  # UTC, RFC 3339 with milliseconds, when the event was accepted
    type: str
    priority: Priority
    data: dict[str, Any] = msgspec.field(default_factory=dict)


class EventBatch(msgspec.Struct, frozen=True, kw_only=True):
    """One MQTT message on `.../event`: events of one station, usually of one priority lane."""

    v: int = WIRE_VERSION
    station: str
    events: list[Event]


class Ack(msgspec.Struct, frozen=True, kw_only=True):
    """Hub → station on `.../ack`: these seqs are committed in central storage (or were already)."""

    v: int = WIRE_VERSION
    seqs: list[int]


class Status(msgspec.Struct, frozen=True, kw_only=True):
    """Retained on `.../status`. `counter` grows with every connection of the station (birth), and the
    last will carries the counter of the connection it belongs to, so central ignores a stale will."""

    v: int = WIRE_VERSION
    state: str  # "online" | "offline"
    counter: int
    ts: str
    software: str = ""
    reason: str = ""


class OutboxHealth(msgspec.Struct, frozen=True, kw_only=True):
    depth: int
    by_priority: dict[str, int]
    bytes: int
    oldest_age_s: float
    accepted_total: int
    rejected_total: int
    confirmed_total: int


class LinkHealth(msgspec.Struct, frozen=True, kw_only=True):
    state: str  # "connected" | "connecting" | "disconnected"
    connects: int
    in_flight: int
    published_total: int
    resent_total: int
    publish_failures: int


class HostHealth(msgspec.Struct, frozen=True, kw_only=True):
    load1: float
    mem_available_mb: float
    disk_free_mb: float
    uptime_s: float


class Place(msgspec.Struct, frozen=True, kw_only=True):
    """Where central shows the station: its name, district and position (from `[station]`)."""

    name: str = ""
    district: str = ""
    lat: float | None = None
    lon: float | None = None


class Telemetry(msgspec.Struct, frozen=True, kw_only=True):
    """QoS 0 on `.../telemetry`, sent with a message expiry so a stale report is never delivered."""

    v: int = WIRE_VERSION
    ts: str
    outbox: OutboxHealth
    link: LinkHealth
    host: HostHealth
    faults: list[str] = msgspec.field(default_factory=list)
    devices: dict[str, str] = msgspec.field(default_factory=dict)
    cameras: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)  # per camera: frames, lag, drops...
    commands: dict[str, int] = msgspec.field(default_factory=dict)  # accepted, refused_{reason} since start
    place: Place | None = None  # added in version 1.1: readers that predate it ignore it


class Command(msgspec.Struct, frozen=True, kw_only=True):
    """Hub → station on `.../cmd/{name}` or `police/v1/all/cmd/{name}`.

    `sig` is an Ed25519 signature (hex) by central's command key over `signing_bytes()`: every other
    field, including the target stations (`all` for every station), the issue and expiry times and the
    monotonic `counter`. `key_id` names the signing key. Stations hold only the public key and refuse
    unsigned, forged, misdirected, expired, unbounded, replayed or out-of-order commands
    (`edge/wire/commands.py`).
    """

    v: int = WIRE_VERSION
    id: str
    name: str
    args: dict[str, Any] = msgspec.field(default_factory=dict)
    issued_at: str = ""
    expires_at: str = ""
    sig: str = ""
    targets: list[str] = msgspec.field(default_factory=list)
    counter: int = 0
    key_id: str = ""

    def signing_bytes(self) -> bytes:
        unsigned = {
            "v": self.v, "id": self.id, "name": self.name, "args": self.args, "targets": self.targets,
            "counter": self.counter, "issued_at": self.issued_at, "expires_at": self.expires_at,
            "key_id": self.key_id,
        }
        return b"police-kiosk command\n" + msgspec.json.encode(unsigned, order="sorted")


class RpcRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Station → hub on `.../rpc/req`. `deadline` (UTC) tells the hub when nobody waits any more."""

    v: int = WIRE_VERSION
    id: str
    method: str
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    deadline: str = ""


class RpcError(msgspec.Struct, frozen=True, kw_only=True):
    code: int
    message: str


class RpcResponse(msgspec.Struct, frozen=True, kw_only=True):
    """Hub → station on `.../rpc/res`: `result` or `error`, for the request with the same `id`."""

    v: int = WIRE_VERSION
    id: str
    result: Any = None
    error: RpcError | None = None


_encoder = msgspec.json.Encoder()


def encode(value: msgspec.Struct) -> bytes:
    return _encoder.encode(value)


_batch_decoder = msgspec.json.Decoder(EventBatch)
_ack_decoder = msgspec.json.Decoder(Ack)
_status_decoder = msgspec.json.Decoder(Status)
_telemetry_decoder = msgspec.json.Decoder(Telemetry)
_command_decoder = msgspec.json.Decoder(Command)
_rpc_request_decoder = msgspec.json.Decoder(RpcRequest)
_rpc_response_decoder = msgspec.json.Decoder(RpcResponse)


def decode_rpc_request(payload: bytes) -> RpcRequest:
    return _rpc_request_decoder.decode(payload)


def decode_rpc_response(payload: bytes) -> RpcResponse:
    return _rpc_response_decoder.decode(payload)


def decode_batch(payload: bytes) -> EventBatch:
    return _batch_decoder.decode(payload)


def decode_ack(payload: bytes) -> Ack:
    return _ack_decoder.decode(payload)


def decode_status(payload: bytes) -> Status:
    return _status_decoder.decode(payload)


def decode_telemetry(payload: bytes) -> Telemetry:
    return _telemetry_decoder.decode(payload)


def decode_command(payload: bytes) -> Command:
    return _command_decoder.decode(payload)


def batch_payload(station: str, encoded_events: list[bytes]) -> bytes:
    """An EventBatch from events already encoded once (at accept time), without re-encoding them."""
    head = _encoder.encode(station)
    return b'{"v":1,"station":' + head + b',"events":[' + b",".join(encoded_events) + b"]}"


def json_schemas() -> dict[str, Any]:
    """JSON Schemas of every payload, for docs/mqtt-api.md and for central's other consumers."""
    kinds = [Status, EventBatch, Ack, Telemetry, Command, RpcRequest, RpcResponse]
    _, components = msgspec.json.schema_components(kinds, ref_template="#/$defs/{name}")
    return {"$defs": components}
