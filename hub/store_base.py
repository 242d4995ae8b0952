"""What every hub store offers (SQLite and PostgreSQL alike): the protocol, its rows and its errors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from edge.wire.messages import Event, Status, encode
from hub.telemetry_history import MinuteRow, Sample, Upkeep

__all__ = [
    "DEAD_LETTER_PREFIX",
    "DeadLetter",
    "LivenessChange",
    "SchemaTooNewError",
    "StationRow",
    "Store",
    "StoreResult",
    "StoreUnavailableError",
    "acks_of",
    "canonical_body",
    "safe_text",
]

#: How much of a refused payload the dead-letter table keeps.
DEAD_LETTER_PREFIX = 1024


class StoreUnavailableError(Exception):
    """The database cannot be reached or written (connection lost, disk full): the hub must exit."""


class SchemaTooNewError(Exception):
    """The database was migrated by a newer hub than this one: refuse to start, touch nothing."""


@dataclass(frozen=True, slots=True)
class StoreResult:
    acked: dict[str, list[int]]  # station -> seqs now safely stored (new or duplicate)
    stored: int
    duplicates: int
    conflicts: int


@dataclass(frozen=True, slots=True)
class StationRow:
    station: str
    state: str  # from the station's own status: online | offline | unknown
    counter: int
    status_ts: str
    last_seen: float
    events: int
    telemetry: dict[str, Any] | None
    liveness: str = "unknown"  # the hub's view: online | silent | restarting | offline | unknown
    last_heard: float = 0.0
    dead_letters: int = 0
    liveness_since: float = 0.0  # hub time of the last liveness change


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message the hub could not store as what it claims to be, kept for a person to look at."""

    received_at: float
    topic: str
    station: str
    size: int
    reason: str
    payload: bytes  # the first DEAD_LETTER_PREFIX bytes


@dataclass(frozen=True, slots=True)
class LivenessChange:
    station: str
    old: str
    new: str


class Store(Protocol):
    def store_events(self, events: list[Event], bodies: list[bytes]) -> StoreResult: ...
    def update_status(self, station: str, status: Status) -> bool: ...
    def apply_status(self, station: str, status: Status, now: float) -> tuple[bool, LivenessChange | None]: ...
    def apply_statuses(
        self, items: list[tuple[str, Status]], now: float
    ) -> list[tuple[bool, LivenessChange | None]]: ...
    def count_stations(self) -> int: ...
    def update_telemetry(self, station: str, ts: str, body: bytes) -> None: ...
    def update_telemetry_many(
        self,
        reports: list[tuple[str, str, bytes]],
        history: Sequence[tuple[str, float, Sample]] = (),
        minutes: Sequence[MinuteRow] = (),
    ) -> None: ...
    def telemetry_upkeep(self, upkeep: Upkeep, limit: int = 20_000) -> int: ...
    def set_hub_state(self, name: str, value: str, now: float) -> None: ...
    def dead_letter(self, letter: DeadLetter) -> None: ...
    def dead_letters(self, limit: int = 100) -> list[DeadLetter]: ...
    def heard(self, stations: dict[str, int | None], now: float) -> list[LivenessChange]: ...
    def check_liveness(self, now: float, *, silent_after: float, offline_after: float) -> list[LivenessChange]: ...
    def export(self, station: str | None = None) -> Iterator[bytes]: ...
    def stations(self) -> list[StationRow]: ...
    def close(self) -> None: ...


def safe_text(value: str, limit: int = 200) -> str:
    """Text any backend stores: cut to `limit`, U+0000 and lone surrogates escaped."""
    cut = value[:limit]
    return cut.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def acks_of(events: list[Event]) -> dict[str, list[int]]:
    acked: dict[str, list[int]] = {}
    for e in events:
        acked.setdefault(e.station, []).append(e.seq)
    return acked


def canonical_body(text: str) -> bytes:
    """A stored event body as the hub received and stored it: `wire.encode` of the event. PostgreSQL keeps
    bodies as JSONB, which reorders keys and spaces them out (same content); encoding the event again gives
    back the very bytes the hub wrote (what `hub export` prints on either backend). A body that is not an
    event (a stub left by retention for an unreadable one) is returned as it is: still one line of JSON."""
    try:
        return encode(msgspec.json.decode(text, type=Event))
    except (msgspec.DecodeError, msgspec.ValidationError):
        return text.encode()
