"""Retention at central: personal data is purged after a documented number of days (docs/privacy.md).

What a resident typed (name, phone, ID number, description) lives at central only in the `fields` of the
`kiosk.report` and `kiosk.request` events (and of a conflicting copy in `event_conflicts`) and of the
bookings the kiosk services made (`kiosk_bookings`, emptied after the same retention); the events
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
from typing import Final

from hub.web.db import Db

__all__ = ["PERSONAL_TYPES", "PurgeResult", "RetentionJob", "RetentionSettings", "purge"]

log = logging.getLogger(__name__)

#: Event types whose `data.fields` hold what a resident typed or a card gave.
PERSONAL_TYPES: Final = ("kiosk.report", "kiosk.request")
_DAY: Final = 86400.0
_BATCH: Final = 500
_CURSOR: Final = "retention_personal_cutoff"  # hub_state: the cutoff of the last finished run
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
    bookings_scrubbed: int = 0


def purge(db: Db, settings: RetentionSettings, *, now: float | None = None, dry_run: bool = False) -> PurgeResult:
    """Scrub and delete what is older than its retention; returns what it did (or would do)."""
    t = time.time() if now is None else now
    cutoff = t - settings.personal_days * _DAY
    placeholders = ", ".join("?" for _ in PERSONAL_TYPES)
    # what an earlier run finished: everything received before its cutoff is purged already, so each run
    # reads only what has aged past the retention since (not every old event again, year after year)
    got = db.one("SELECT value FROM hub_state WHERE name = ?", (_CURSOR,))
    since = float(got[0]) if got else 0.0
    scrubbed = 0
    while True:
        rows = db.rows(
            f"SELECT station, seq, body FROM events WHERE type IN ({placeholders}) AND received_at >= ?"  # noqa: S608 - placeholders only
            " AND received_at < ? AND CAST(body AS TEXT) NOT LIKE ? AND CAST(body AS TEXT) NOT LIKE ?"
            " ORDER BY received_at LIMIT ?",
            (*PERSONAL_TYPES, since, cutoff, _PURGED, _PURGED_JSONB, _BATCH),
        )
        if not rows or dry_run:
            scrubbed += len(rows)
            break
        with db.transaction():
            for station, seq, body in rows:
                db.run("UPDATE events SET body = ? WHERE station = ? AND seq = ?", (_scrubbed(body), station, seq))
        scrubbed += len(rows)
    conflicts = db.rows(
        "SELECT station, seq, id, body FROM event_conflicts WHERE received_at >= ? AND received_at < ?"
        " AND body NOT LIKE ?",
        (since, cutoff, _PURGED),
    )
    if not dry_run:
        with db.transaction():
            for station, seq, id_, body in conflicts:
                db.run(
                    "UPDATE event_conflicts SET body = ? WHERE station = ? AND seq = ? AND id = ?",
                    (_scrubbed(body), station, seq, id_),
                )
    bookings = 0
    if _table_exists(db, "kiosk_bookings"):  # the booking's form (name, ID number, phone): emptied too
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cutoff))
        if dry_run:
            got = db.one("SELECT COUNT(*) FROM kiosk_bookings WHERE created_at < ? AND fields <> '{}'", (iso,))
            bookings = int(got[0]) if got else 0
        else:
            bookings = db.run("UPDATE kiosk_bookings SET fields = '{}' WHERE created_at < ? AND fields <> '{}'", (iso,))
    dead_cutoff = t - settings.dead_letter_days * _DAY
    if dry_run:
        got = db.one("SELECT COUNT(*) FROM dead_letters WHERE received_at < ?", (dead_cutoff,))
        dead = int(got[0]) if got else 0
    else:
        dead = db.run("DELETE FROM dead_letters WHERE received_at < ?", (dead_cutoff,))
    if not dry_run and cutoff > since:
        db.run(
            "INSERT INTO hub_state (name, value, since) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value, since = excluded.since",
            (_CURSOR, repr(cutoff), t),
        )
    return PurgeResult(scrubbed, len(conflicts), dead, bookings)


def _table_exists(db: Db, name: str) -> bool:
    if db.pg:
        got = db.one("SELECT to_regclass(?) IS NOT NULL", (name,))
    else:
        got = db.one("SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return bool(got and got[0])


def _scrubbed(body: str) -> str:
    """The event with its `data.fields` emptied (an unreadable body is replaced by a stub naming why)."""
    try:
        event = json.loads(body)
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
            if r.events_scrubbed or r.conflicts_scrubbed or r.dead_letters_deleted or r.bookings_scrubbed:
                log.info(
                    "retention: personal data purged from %d events, %d conflicting copies and %d bookings; "
                    "%d dead letters deleted",
                    r.events_scrubbed,
                    r.conflicts_scrubbed,
                    r.bookings_scrubbed,
                    r.dead_letters_deleted,
                )
