"""The kiosk's emergency button: through the alarm engine when it runs, always as a durable alarm event.

When the daemon offers `incidents.raise` (the alarms component is enabled), the kiosk calls it over the
daemon's own local API, exactly as any other client would (no reach into another component's
internals), so the crew gets the incident with its 1-3-5 timers. The kiosk's own `kiosk.emergency`
event (alarm priority, outbox first, nothing waits for the network) is emitted in every case and names
the incident when there is one.
"""

from __future__ import annotations

import logging
from pathlib import Path

from edge.api.client import ApiError, EdgeClient
from edge.wire.api.incidents import IncidentRaise

__all__ = ["raise_incident"]

log = logging.getLogger(__name__)


async def raise_incident(socket_path: Path, *, site: str, timeout: float = 2.0) -> str:
    """Ask the alarm engine for an incident (`incidents.raise`, see edge/alarms/api.py); returns its id,
    or "" when it could not take it."""
    params = IncidentRaise(
        kind="emergency",
        source="kiosk",
        site=site[:64],
        site_en="Resident kiosk",
        point="自助终端紧急求助按钮",
        point_en="kiosk emergency button",
    )
    try:
        async with EdgeClient(socket_path, timeout=timeout) as client:
            incident = await client.raise_incident(params)
    except (ApiError, TimeoutError, OSError) as exc:
        log.error("the alarm engine did not take the kiosk emergency (%s); raised as an alarm event", exc)
        return ""
    return incident.id
