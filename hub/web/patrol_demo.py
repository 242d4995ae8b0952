"""Demo and screenshot data for the patrol pages: check-in events stored as a station would have sent them.

Used by `scripts/screenshots_central.py` and the console tests; never by the running hub.
"""

from __future__ import annotations

import msgspec

from edge.wire import messages as wire
from edge.wire.patrol import CheckInMethod, PatrolCheckIn, PatrolRole
from hub.store import open_store

__all__ = ["store_checkin"]


def store_checkin(
    db_url: str,
    station: str,
    seq: int,
    *,
    id_hash: str,
    name: str,
    role: PatrolRole,
    at: float,
    method: CheckInMethod = "card",
) -> None:
    """One `patrol.checkin` event of `station` (its event number `seq`) at the time `at`."""
    data = PatrolCheckIn(
        id_hash=id_hash,
        display_name=name,
        role=role,
        method=method,
        station=station,
        point=station,
        at=wire.utc_now_iso(at),
    )
    ev = wire.Event(
        id=wire.new_event_id(),
        station=station,
        seq=seq,
        ts=wire.utc_now_iso(at),
        type="patrol.checkin",
        priority=wire.Priority.INFO,
        data=msgspec.to_builtins(data),
    )
    store = open_store(db_url)
    try:
        store.store_events([ev], [wire.encode(ev)])
    finally:
        store.close()
