"""Retention at central: personal data is purged after a documented number of days (docs/privacy.md).

What a resident typed (name, phone, ID number, description) lives at central only in the `fields` of the
`kiosk.report` and `kiosk.request` events (and of a conflicting copy in `event_conflicts`); the events
stay (statistics, bulletins and the work orders' history need their type, category, station and time),
their `fields` are emptied once older than `personal_days`. Refused messages (`dead_letters`) keep a
prefix of whatever arrived, so they are deleted after `dead_letter_days`; the console's audit log and
the work orders' masked copies are not personal data beyond the masked contact and are kept.

`police-kiosk hub purge --db URL [--days N] [--dry-run]` runs it once; the hub runs it every hour.
Idempotent: a purged event has `"fields":{}` and is not rewritten again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from hub.web.db import Db

__all__ = ["PERSONAL_TYPES", "PurgeResult", "RetentionJob", "RetentionSettings", "purge"]

log = logging.getLogger(__name__)

#: Event types whose `data.fields` hold what a resident typed or a card gave.
PERSONAL_TYPES: Final = ("kiosk.report", "kiosk.request")
_DAY: Final = 86400.0
_BATCH: Final = 500
_PURGED: Final = '%"fields":{}%'  # LIKE pattern of a body already purged
_PURGED_JSONB: Final = '%"fields": {}%'  # ... as PostgreSQL prints a JSONB body


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    personal_days: float = 180.0  # reports and requests: long enough to follow up, review and audit
    dead_letter_days: float = 30.0


@dataclass(frozen=True, slots=True)
class PurgeResult:
    events_scrubbed: int
    conflicts_scrubbed: int
    dead_letters_deleted: int


def purge(db: Db, settings: RetentionSettings, *, now: float | None = None, dry_run: bool = False) -> PurgeResult:
    """Scrub and delete what is older than its retention; returns what it did (or would do)."""
    t = time.time() if now is None else now
    cutoff = t - settings.personal_days * _DAY
    placeholders = ", ".join("?" for _ in PERSONAL_TYPES)
    scrubbed = 0
    while True:
        rows = db.rows(
            f"SELECT station, seq, body FROM events WHERE type IN ({placeholders}) AND received_at < ?"  # noqa: S608 - placeholders only
            " AND CAST(body AS TEXT) NOT LIKE ? AND CAST(body AS TEXT) NOT LIKE ? ORDER BY received_at LIMIT ?",
            (*PERSONAL_TYPES, cutoff, _PURGED, _PURGED_JSONB, _BATCH),
        )
        if not rows or dry_run:
            scrubbed += len(rows)
            break
        with db.transaction():
            for station, seq, body in rows:
                db.run("UPDATE events SET body = ? WHERE station = ? AND seq = ?", (_scrubbed(body), station, seq))
        scrubbed += len(rows)
    conflicts = db.rows(
        "SELECT station, seq, id, body FROM event_conflicts WHERE received_at < ? AND body NOT LIKE ?",
        (cutoff, _PURGED),
    )
    if not dry_run:
        with db.transaction():
            for station, seq, id_, body in conflicts:
                db.run(
                    "UPDATE event_conflicts SET body = ? WHERE station = ? AND seq = ? AND id = ?",
                    (_scrubbed(body), station, seq, id_),
                )
    dead_cutoff = t - settings.dead_letter_days * _DAY
    if dry_run:
        got = db.one("SELECT COUNT(*) FROM dead_letters WHERE received_at < ?", (dead_cutoff,))
        dead = int(got[0]) if got else 0
    else:
        dead = db.run("DELETE FROM dead_letters WHERE received_at < ?", (dead_cutoff,))
    return PurgeResult(scrubbed, len(conflicts), dead)


def _scrubbed(body: str | dict[str, Any]) -> str:
    """The event with its `data.fields` emptied (an unreadable body is replaced by a stub naming why). A
    body is text on SQLite, a dict on PostgreSQL (JSONB)."""
    try:
        event = json.loads(body) if isinstance(body, str) else body
        data = event.get("data")
        if isinstance(data, dict):
            data["fields"] = {}
        else:
            event["data"] = {"fields": {}}
    except (ValueError, AttributeError):
        return json.dumps({"purged": "unreadable body", "fields": {}})
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


class RetentionJob:
    """The hub's thread that purges every `interval` seconds (the first run a minute after start)."""

    def __init__(self, connect: Callable[[], Db], settings: RetentionSettings, *, interval: float = 3600.0) -> None:
        self._connect = connect
        self._settings = settings
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hub-retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        wait = min(60.0, self._interval)
        while not self._stop.wait(wait):
            wait = self._interval
            try:
                db = self._connect()
                try:
                    r = purge(db, self._settings)
                finally:
                    db.close()
            except Exception:  # a database hiccup: try again at the next interval
                log.exception("the retention purge failed; it runs again in %.0f s", self._interval)
                continue
            if r.events_scrubbed or r.conflicts_scrubbed or r.dead_letters_deleted:
                log.info(
                    "retention: personal data purged from %d events and %d conflicting copies, %d dead letters deleted",
                    r.events_scrubbed,
                    r.conflicts_scrubbed,
                    r.dead_letters_deleted,
                )
