"""The wire contract between stations and central: topics, the event envelope and every payload.

This module is the only thing the hub shares with the edge. It depends on msgspec alone. Payloads are
versioned (`v`): fields are added, never renamed or removed; a reader ignores fields it does not know.
`docs/mqtt-api.md` documents every topic and payload; `json_schemas()` generates their JSON Schemas.

Topic tree (``{station}`` is a station id, ``{name}`` a command name)::

    police/v1/{station}/status      retained birth / last-will message (Status)
    police/v1/{station}/event       QoS 1, a batch of events (EventBatch)
    police/v1/{station}/ack         QoS 1, hub -> station: event seqs stored (Ack)
    police/v1/{station}/telemetry   QoS 0, expiring health report (Telemetry)
    police/v1/{station}/heartbeat   QoS 0, expiring "still alive" (Heartbeat)
    police/v1/{station}/cmd/{name}  QoS 1, hub -> station command (Command)
    police/v1/all/cmd/{name}        QoS 1, broadcast command (Command)
    police/v1/{station}/rpc/req     QoS 1, station -> hub request (RpcRequest), answered on
    police/v1/{station}/rpc/res     QoS 1, hub -> station response (RpcResponse)

Requests are for answers a resident waits for (a free appointment slot, a traffic lookup). They are not
durable: when the link is down the caller gets an error at once and falls back to a durable event.
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Annotated, Any, Final

import msgspec

from edge.wire.bounds import INT64_MAX, MAX_DEPTH, MAX_PAYLOAD_BYTES, BoundsError, check_text, check_value
from edge.wire.ids import new_event_id, utc_now_iso

__all__ = [
    "PREFIX",
    "STATION_ID_RE",
    "Ack",
    "BoundsError",
    "Command",
    "Event",
    "EventBatch",
    "Heartbeat",
    "Place",
    "Priority",
    "RpcError",
    "RpcRequest",
    "RpcResponse",
    "Status",
    "Telemetry",
    "check_event",
    "decode_ack",
    "decode_batch",
    "decode_command",
    "decode_event",
    "decode_heartbeat",
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

#: A per-station sequence number: 1, 2, 3, ... within signed 64-bit.
Seq = Annotated[int, msgspec.Meta(ge=1, le=INT64_MAX)]
#: A connection counter or batch id: 0 or more, within signed 64-bit.
Counter = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
StationId = Annotated[str, msgspec.Meta(pattern=STATION_ID_RE.pattern)]


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


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """The envelope of everything a station reports. Version 1."""

    v: int = WIRE_VERSION
    id: str  # UUIDv7, time-ordered, unique across all stations
    station: StationId
    seq: Seq  # per-station sequence: 1, 2, 3, ... with no gaps, assigned when the outbox commits
    ts: str  # UTC, RFC 3339 with milliseconds, when the event was accepted
    type: str
    priority: Priority
    data: dict[str, Any] = msgspec.field(default_factory=dict)


class EventBatch(msgspec.Struct, frozen=True, kw_only=True):
    """One MQTT message on `.../event`: events of one station, usually of one priority lane.

    `batch` (since v1.1) names this delivery; the hub's ack repeats it, and the station confirms only
    seqs of the batch that ack names. 0 from stations that predate it."""

    v: int = WIRE_VERSION
    station: StationId
    events: list[Event]
    batch: Counter = 0


class Ack(msgspec.Struct, frozen=True, kw_only=True):
    """Hub → station on `.../ack`: these seqs of batch `batch` are committed in central storage (or
    were already, or were refused for good and kept in the hub's dead-letter table)."""

    v: int = WIRE_VERSION
    seqs: list[Seq]
    batch: Counter = 0


class Heartbeat(msgspec.Struct, frozen=True, kw_only=True):
    """QoS 0 on `.../heartbeat`, every `uplink.heartbeat_interval` seconds: "this station is alive".

    `counter` is the connection counter of the Status the station last published."""

    v: int = WIRE_VERSION
    counter: Counter
    ts: str


class Status(msgspec.Struct, frozen=True, kw_only=True):
    """Retained on `.../status`. `counter` grows with every connection of the station (birth), and the
    last will carries the counter of the connection it belongs to, so central ignores a stale will."""

    v: int = WIRE_VERSION
    state: str  # "online" | "offline"
    counter: Counter
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
    acks_ignored: int = 0  # acks that named no batch in flight (forged, stale, late)


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
            "v": self.v,
            "id": self.id,
            "name": self.name,
            "args": self.args,
            "targets": self.targets,
            "counter": self.counter,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
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
_heartbeat_decoder = msgspec.json.Decoder(Heartbeat)
_command_decoder = msgspec.json.Decoder(Command)
_rpc_request_decoder = msgspec.json.Decoder(RpcRequest)
_rpc_response_decoder = msgspec.json.Decoder(RpcResponse)


def _bounded(decoder: msgspec.json.Decoder[Any], payload: bytes) -> Any:
    """Decode within the size limit; a nesting too deep for the decoder is a BoundsError, not a crash."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise BoundsError(f"payload of {len(payload)} bytes, over the limit of {MAX_PAYLOAD_BYTES}")
    try:
        return decoder.decode(payload)
    except RecursionError:
        raise BoundsError(f"nested deeper than {MAX_DEPTH} levels") from None


def _checked(value: msgspec.Struct) -> None:
    check_value(msgspec.to_builtins(value))


def check_event(ev: Event, where: str = "$", depth: int = 1, *, texts: bool = True) -> None:
    """The limits msgspec's schema does not express: text without U+0000, data depth and integers.
    `texts=False`: the event was decoded from JSON without a `\\u` escape (see `check_value`)."""
    if texts:
        for name in ("id", "ts", "type"):
            check_text(getattr(ev, name), f"{where}.{name}")
    check_value(ev.data, f"{where}.data", depth + 1, texts=texts)


def decode_rpc_request(payload: bytes) -> RpcRequest:
    req: RpcRequest = _bounded(_rpc_request_decoder, payload)
    _checked(req)
    return req


def decode_rpc_response(payload: bytes) -> RpcResponse:
    res: RpcResponse = _bounded(_rpc_response_decoder, payload)
    return res


def decode_batch(payload: bytes) -> EventBatch:
    batch: EventBatch = _bounded(_batch_decoder, payload)
    # U+0000 and lone surrogates can only be written as \u escapes: without one, no string needs a look.
    texts = b"\\u" in payload
    for i, ev in enumerate(batch.events):
        check_event(ev, f"$.events[{i}]", 3, texts=texts)
    return batch


def decode_event(payload: bytes | str) -> Event:
    """One event on its own (the hub's fallback when a batch does not decode as a whole)."""
    ev = msgspec.json.decode(payload, type=Event)
    check_event(ev)
    return ev


def decode_ack(payload: bytes) -> Ack:
    ack: Ack = _bounded(_ack_decoder, payload)
    return ack


def decode_status(payload: bytes) -> Status:
    status: Status = _bounded(_status_decoder, payload)
    _checked(status)
    return status


def decode_telemetry(payload: bytes) -> Telemetry:
    tele: Telemetry = _bounded(_telemetry_decoder, payload)
    _checked(tele)
    return tele


def decode_heartbeat(payload: bytes) -> Heartbeat:
    hb: Heartbeat = _bounded(_heartbeat_decoder, payload)
    _checked(hb)
    return hb


def decode_command(payload: bytes) -> Command:
    cmd: Command = _bounded(_command_decoder, payload)
    _checked(cmd)
    return cmd


def batch_payload(station: str, encoded_events: list[bytes], *, batch: int = 0) -> bytes:
    """An EventBatch from events already encoded once (at accept time), without re-encoding them."""
    head = _encoder.encode(station)
    return (
        b'{"v":1,"station":'
        + head
        + b',"events":['
        + b",".join(encoded_events)
        + b'],"batch":'
        + str(int(batch)).encode()
        + b"}"
    )


def json_schemas() -> dict[str, Any]:
    """JSON Schemas of every payload, for docs/mqtt-api.md and for central's other consumers."""
    kinds = [Status, EventBatch, Ack, Telemetry, Heartbeat, Command, RpcRequest, RpcResponse]
    _, components = msgspec.json.schema_components(kinds, ref_template="#/$defs/{name}")
    return {"$defs": components}
