"""The kiosk's emergency button and officer call: through the alarm engine when it runs, always as a
durable event.

When the daemon offers `incidents.raise` (the alarms component is enabled), the kiosk calls it over the
daemon's own local API, exactly as any other client would (no reach into another component's
internals), so the crew gets the incident with its 1-3-5 timers and escalation: kind `emergency` for the
emergency button, `officer_call` (less urgent: no siren) for "call the officer on duty". The incident's
site is the station's name, its point where the kiosk stands (`[kiosk] location`, `location_en`). The
kiosk's own event (`kiosk.emergency` at alarm priority, `kiosk.call_officer`; outbox first, nothing
waits for the network) is emitted in every case and names the incident when there is one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from edge.api.client import ApiError, EdgeClient
from edge.wire.api.incidents import IncidentRaise

__all__ = ["KioskPlace", "raise_incident"]

log = logging.getLogger(__name__)

KioskIncidentKind = Literal["emergency", "officer_call"]
_POINT = {
    "emergency": ("自助终端紧急求助按钮", "kiosk emergency button"),
    "officer_call": ("自助终端呼叫值班民警", "kiosk officer call"),
}


@dataclass(frozen=True, slots=True)
class KioskPlace:
    """Where the kiosk is: the station's name and the spot in it (`[kiosk] location`, may be empty)."""

    station: str
    location: str = ""
    location_en: str = ""

    def point(self, kind: KioskIncidentKind) -> tuple[str, str]:
        """The incident's point (zh, en): the kiosk's location when configured, else what was pressed."""
        zh, en = _POINT[kind]
        if not self.location:
            return zh, en
        return self.location, self.location_en


async def raise_incident(socket_path: Path, *, kind: KioskIncidentKind, place: KioskPlace, timeout: float = 2.0) -> str:
    """Ask the alarm engine for an incident (`incidents.raise`, see edge/alarms/api.py); returns its id,
    or "" when it could not take it."""
    point, point_en = place.point(kind)
    params = IncidentRaise(
        kind=kind,
        source="kiosk",
        site=place.station[:64],
        point=point[:64],
        point_en=point_en[:64],
    )
    try:
        async with EdgeClient(socket_path, timeout=timeout) as client:
            incident = await client.raise_incident(params)
    except (ApiError, TimeoutError, OSError) as exc:
        log.error("the alarm engine did not take the kiosk %s (%s); sent as a kiosk event", kind, exc)
        return ""
    return incident.id
