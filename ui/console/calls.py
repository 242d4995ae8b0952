"""Officer calls the console announces itself: pure Python, no Qt, no clock of its own.

A resident pressed "call the officer on duty" at the kiosk: the daemon sends `kiosk.officer_called`
(`edge.wire.api.kiosk.OfficerCalled`). When the station's alarm engine took the call, the notification
names its `officer_call` incident and the console shows that incident like any other (its own label,
escalated as alarms are); this board ignores it. When no engine runs (no incident), the board keeps the
call and the console shows it in an amber banner with the kiosk's location, sounding the softer warning
tone, until the crew presses "Noted" (local to this console). Never the red takeover.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from edge.wire.api.incidents import CALL_KINDS
from edge.wire.api.kiosk import OfficerCalled

__all__ = ["CALL_KINDS", "MAX_CALLS", "CallBoard", "CallView", "parse_call"]

MAX_CALLS = 20  # calls kept while not noted (the oldest go first)
Clock = Callable[[float, float], str]
Pick = Callable[[str, str, str], tuple[str, str]]


@dataclass(frozen=True, slots=True)
class CallView:
    key: str
    station: str  # the station's name (its id when it has none)
    location: str  # where the kiosk stands, in the console's language when known ("" when not configured)
    location_other: str  # the other language's, "" when the same or unknown
    clock: str  # when the resident called


def parse_call(obj: Any) -> OfficerCalled:
    """Decode a `kiosk.officer_called` notification; raises ValueError when it is not one."""
    try:
        return msgspec.convert(obj, OfficerCalled)
    except msgspec.ValidationError as exc:
        raise ValueError(f"not an officer call: {exc}") from None


@dataclass(slots=True)
class CallBoard:
    calls: dict[str, OfficerCalled] = field(default_factory=dict)
    _announced: set[str] = field(default_factory=set)

    def apply(self, obj: Any) -> str | None:
        """A `kiosk.officer_called` notification: kept (its key) unless the alarm engine took it (None)."""
        call = parse_call(obj)
        if call.incident:
            return None  # the incident shows it
        key = f"{call.station}:{call.seq}"
        self.calls[key] = call
        while len(self.calls) > MAX_CALLS:
            self.note(next(iter(self.calls)))
        return key

    def note(self, key: str) -> None:
        """The crew has seen the call."""
        self.calls.pop(key, None)
        self._announced.discard(key)

    def tick(self) -> bool:
        """True when a call arrived since the last tick (the tone starts again)."""
        new = set(self.calls) - self._announced
        self._announced |= new
        return bool(new)

    def view(self, now: float, lang: str, clock: Clock, pick: Pick) -> tuple[CallView, ...]:
        """Newest first. `pick(zh, en, lang)` chooses the language (`model._pick`)."""
        ordered = sorted(self.calls.items(), key=lambda kv: (kv[1].at, kv[1].seq), reverse=True)
        views = []
        for key, call in ordered:
            location, other = pick(call.location, call.location_en, lang)
            views.append(
                CallView(
                    key=key,
                    station=call.station_name or call.station,
                    location=location,
                    location_other=other,
                    clock=clock(call.at, now) if call.at else "",
                )
            )
        return tuple(views)
