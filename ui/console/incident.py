"""The incident as the daemon sends it: the wire contract's `Incident` (`edge.wire.api.incidents`).

The console does not declare it again: it uses the contract's lenient view (unknown fields ignored,
states and kinds plain strings, so a console older than the daemon still shows an incident whose state
or kind it does not know yet, as open, with the raw name). This module adds the console's helpers.
"""

from __future__ import annotations

from typing import Any

import msgspec

from edge.wire.api.incidents import OPEN_STATES, STATE_ORDER, Deadlines, Incident, Source, Step, Targets

__all__ = [
    "OPEN_STATES",
    "STATE_ORDER",
    "TARGETS",
    "Deadlines",
    "Incident",
    "Source",
    "Step",
    "Targets",
    "parse_incident",
]

TARGETS = ("respond", "arrive", "resolve")


def parse_incident(obj: Any) -> Incident:
    """Decode one contract `Incident` object (or take one as it is); raises ValueError when it is not one."""
    try:
        return msgspec.convert(obj, Incident)
    except msgspec.ValidationError as exc:
        raise ValueError(f"not an incident: {exc}") from None
