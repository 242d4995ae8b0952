"""What one delivered MQTT message is, decided on its own terms: sans-IO, bytes and time in.

`parse()` turns a message into one typed item (an event delivery, a status, telemetry, a heartbeat, a
request) and a list of dead letters for whatever in it cannot be stored as what it claims to be. It
never raises for anything a station sends: the topic, the station id in it, the size, the JSON, the
schema and the wire limits (`edge.wire.bounds`) are all checked here.

An event batch that does not decode as a whole is taken apart: every event that decodes and keeps the
limits is still delivered, every other one becomes a dead letter, and the seqs of both are acked (the
refused ones are kept in the dead-letter table; resending them would never help).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from edge.wire import messages as wire
from edge.wire.bounds import INT64_MAX, MAX_PAYLOAD_BYTES
from hub.liveness import is_station_id
from hub.store_base import DEAD_LETTER_PREFIX, DeadLetter, safe_text
from hub.telemetry_history import Sample, sample_of

__all__ = ["Delivery", "HeartbeatMsg", "Parsed", "RpcMsg", "StatusMsg", "TelemetryMsg", "parse"]


@dataclass(slots=True)
class Delivery:
    """One event batch: the events to store, and the seqs to ack once they are committed."""

    station: str
    batch: int
    events: list[wire.Event] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)  # seqs dead-lettered (acked too)


@dataclass(frozen=True, slots=True)
class StatusMsg:
    station: str
    status: wire.Status | None  # None: a cleared retained status


@dataclass(frozen=True, slots=True)
class TelemetryMsg:
    station: str
    ts: str
    body: bytes  # re-encoded: unknown fields dropped
    sample: Sample | None = None  # its narrow row for the history (hub/telemetry_history.py)


@dataclass(frozen=True, slots=True)
class HeartbeatMsg:
    station: str
    counter: int


@dataclass(frozen=True, slots=True)
class RpcMsg:
    station: str
    request: wire.RpcRequest


Parsed = Delivery | StatusMsg | TelemetryMsg | HeartbeatMsg | RpcMsg


class _LooseBatch(msgspec.Struct):
    events: list[msgspec.Raw] = []
    batch: int = 0


class _LooseEvent(msgspec.Struct):
    seq: int


def letter(topic: str, station: str, payload: bytes, reason: str, now: float) -> DeadLetter:
    return DeadLetter(
        received_at=now,
        topic=safe_text(topic, 300),
        station=safe_text(station, 64),
        size=len(payload),
        reason=safe_text(reason, 500),
        payload=bytes(payload[:DEAD_LETTER_PREFIX]),
    )


def parse(topic: str, payload: bytes, now: float) -> tuple[Parsed | None, list[DeadLetter]]:
    parts = topic.split("/")
    station = parts[2] if len(parts) > 2 else ""
    if len(parts) not in (4, 5) or f"{parts[0]}/{parts[1]}" != wire.PREFIX:
        return None, [letter(topic, station, payload, "unexpected topic", now)]
    if not is_station_id(station):
        return None, [letter(topic, station, payload, "the station id in the topic does not match the id pattern", now)]
    kind = parts[3]
    if len(parts) == 5:
        if kind == "rpc" and parts[4] == "req":
            try:
                return RpcMsg(station, wire.decode_rpc_request(payload)), []
            except ValueError as exc:
                return None, [letter(topic, station, payload, f"bad request: {exc}", now)]
        return None, [letter(topic, station, payload, "unexpected topic", now)]
    try:
        if kind == "event":
            return _events(topic, station, payload, now)
        if kind == "status":
            return StatusMsg(station, wire.decode_status(payload) if payload else None), []
        if kind == "telemetry":
            tele = wire.decode_telemetry(payload)
            return TelemetryMsg(station, tele.ts, wire.encode(tele), sample_of(tele)), []
        if kind == "heartbeat":
            return HeartbeatMsg(station, wire.decode_heartbeat(payload).counter), []
    except ValueError as exc:  # msgspec's errors and BoundsError
        return None, [letter(topic, station, payload, f"bad {kind}: {exc}", now)]
    return None, [letter(topic, station, payload, "unexpected topic", now)]


def _events(topic: str, station: str, payload: bytes, now: float) -> tuple[Parsed | None, list[DeadLetter]]:
    try:
        batch = wire.decode_batch(payload)
    except ValueError as exc:
        return _salvage(topic, station, payload, str(exc), now)
    out = Delivery(station, batch.batch)
    letters: list[DeadLetter] = []
    for ev in batch.events:
        if ev.station != station:
            out.refused.append(ev.seq)
            letters.append(
                letter(
                    topic, station, wire.encode(ev), f"event of station {ev.station!r} on the topic of {station!r}", now
                )
            )
            continue
        out.events.append(ev)
        out.bodies.append(wire.encode(ev))
    return out, letters


def _salvage(topic: str, station: str, payload: bytes, why: str, now: float) -> tuple[Parsed | None, list[DeadLetter]]:
    """The batch as a whole is refused: keep the events that are fine on their own, refuse the rest."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None, [letter(topic, station, payload, f"bad event batch: {why}", now)]
    try:
        loose = msgspec.json.decode(payload, type=_LooseBatch)
    except (ValueError, RecursionError) as exc:
        return None, [letter(topic, station, payload, f"bad event batch: {why} ({exc})", now)]
    batch_id = loose.batch if 0 <= loose.batch <= INT64_MAX else 0
    out = Delivery(station, batch_id)
    letters: list[DeadLetter] = []
    for raw in loose.events:
        body = bytes(raw)
        try:
            ev = wire.decode_event(body)
            if ev.station != station:
                raise ValueError(f"event of station {ev.station!r} on the topic of {station!r}")
        except (ValueError, RecursionError) as exc:
            letters.append(letter(topic, station, body, f"bad event: {exc}", now))
            try:
                seq = msgspec.json.decode(body, type=_LooseEvent).seq
            except (ValueError, RecursionError):
                continue
            if 1 <= seq <= INT64_MAX:
                out.refused.append(seq)
            continue
        out.events.append(ev)
        out.bodies.append(wire.encode(ev))
    if not loose.events:
        letters.append(letter(topic, station, payload, f"bad event batch: {why}", now))
    return out, letters
