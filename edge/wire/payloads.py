"""Typed data payloads of the event types a station sends.

Every event type has a msgspec Struct describing its `data`. `events.submit` refuses types that are
not registered and data that does not fit, with a message naming the field. Versioned like the wire:
fields are added (with defaults), never renamed. `docs/mqtt-api.md` lists the schemas.
"""

from __future__ import annotations

from typing import Any

import msgspec

from edge.wire.bounds import BoundsError, check_value
from edge.wire.messages import EVENT_TYPE_RE

__all__ = ["PayloadError", "register", "registered_types", "schema_of", "validate"]


class PayloadError(ValueError):
    """The event type is unknown or its data does not fit the type's schema."""


_REGISTRY: dict[str, type[msgspec.Struct]] = {}


def register(event_type: str, schema: type[msgspec.Struct]) -> None:
    if not EVENT_TYPE_RE.match(event_type):
        raise ValueError(f"bad event type name {event_type!r}")
    if _REGISTRY.get(event_type, schema) is not schema:
        raise ValueError(f"event type {event_type} registered twice")
    _REGISTRY[event_type] = schema


def registered_types() -> list[str]:
    return sorted(_REGISTRY)


def schema_of(event_type: str) -> type[msgspec.Struct] | None:
    return _REGISTRY.get(event_type)


def validate(event_type: str, data: Any) -> dict[str, Any]:
    """Check `data` against the type's schema; returns it normalised (defaults filled in)."""
    schema = _REGISTRY.get(event_type)
    if schema is None:
        raise PayloadError(f"unknown event type {event_type!r}; known types: {', '.join(registered_types())}")
    if not isinstance(data, dict):
        raise PayloadError("data must be a JSON object")
    try:
        obj = msgspec.convert(data, schema, strict=True)
    except msgspec.ValidationError as exc:
        raise PayloadError(f"{event_type}: {exc}") from None
    out = msgspec.to_builtins(obj)
    assert isinstance(out, dict)
    try:  # what central would have to refuse is refused here (depth 4: batch, events, event, data)
        check_value(out, "data", 4)
    except BoundsError as exc:
        raise PayloadError(f"{event_type}: {exc}") from None
    return out


# ---- payloads of the spine -------------------------------------------------------------------------
class StationNote(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A free-text note from the station crew or a tool."""

    text: str
    author: str = ""


register("station.note", StationNote)
