"""Demo and screenshot data for the patrol pages: check-in events stored as a station would have sent them.

Used by `scripts/screenshots_central.py` and the console tests; never by the running hub.
"""

from __future__ import annotations

import time

import msgspec

from edge.wire import messages as wire
from edge.wire.patrol import CheckInMethod, PatrolCheckIn, PatrolRole
from hub.store import open_store
from hub.web import patrol
from hub.web.db import Db

__all__ = ["seed_patrol", "store_checkin"]


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


def seed_patrol(db_url: str, *, visits: dict[str, int]) -> None:
    """Three members (sample ID numbers from the national standard's examples, not real people) and,
    per station in `visits`, that many check-ins spread over the last week."""
    db = Db(db_url)
    try:
        people = [
            patrol.add_member(db, id_number=number, display_name=name, role=role, by="cli:demo")[0]
            for number, name, role in (
                ("11010519491231002X", "老张", "volunteer"),
                ("440304199001011234", "巡警小李", "officer"),
                ("440305198508083321", "王阿姨", "volunteer"),
            )
        ]
    finally:
        db.close()
    now = time.time()
    seq = 100
    for station, n in visits.items():
        for i in range(n):
            who = people[(seq + i) % len(people)]
            role: PatrolRole = "officer" if who.role == "officer" else "volunteer"
            at = now - (i * 97_000) % (6 * 86400) - 3600
            store_checkin(db_url, station, seq, id_hash=who.id_hash, name=who.display_name, role=role, at=at)
            seq += 1
