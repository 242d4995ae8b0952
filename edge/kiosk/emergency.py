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

__all__ = ["raise_incident"]

log = logging.getLogger(__name__)


async def raise_incident(socket_path: Path, *, site: str, timeout: float = 2.0) -> str:
    """Ask the alarm engine for an incident (`incidents.raise`, see edge/alarms/api.py); returns its id,
    or "" when it could not take it."""
    params = {"kind": "emergency", "source": "kiosk", "site": site, "site_en": "Resident kiosk",
              "point": "自助终端紧急求助按钮", "point_en": "kiosk emergency button"}
    try:
        async with EdgeClient(socket_path, timeout=timeout) as client:
            result = await client.call("incidents.raise", params)
    except (ApiError, TimeoutError, OSError) as exc:
        log.error("the alarm engine did not take the kiosk emergency (%s); raised as an alarm event", exc)
        return ""
    if isinstance(result, dict):
        return str(result.get("id") or result.get("incident") or "")
    return str(result or "")
