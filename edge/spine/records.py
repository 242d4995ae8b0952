"""What travels through the spine: an event before and after the outbox accepts it, and the refusals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge.wire.messages import Priority

__all__ = ["Draft", "OutboxClosedError", "OutboxFullError", "StoredEvent"]


class OutboxFullError(Exception):
    """The event was refused: the outbox (or its disk) is full for events of this priority."""


class OutboxClosedError(Exception):
    """The outbox is closed; nothing more is accepted."""


@dataclass(frozen=True, slots=True)
class Draft:
    """An event before the outbox gives it an id, a sequence number and a timestamp."""

    type: str
    priority: Priority
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An accepted event as the relay sends it: encoded once, at accept time."""

    seq: int
    id: str
    priority: Priority
    accepted: float  # time.time() when committed
    body: bytes  # the Event, JSON-encoded
