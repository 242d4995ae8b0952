"""Anti-fraud notices written in the console, and the `kiosk.notices` sets the stations get.

A kiosk keeps one notice set per scope (`all`, or its own station id) and a new set of a scope replaces the
held one unless it is older by `issued_at` (`kiosk.notices.NoticeBoard`). So the console keeps every
notice with the scope it was written for and, on each change, pushes whole sets: a change to an `all`
notice sends the `all` set (one retained command to every station); a change to a district's or some
stations' notice sends each station it reaches its own set - the unexpired, not withdrawn notices of
that station and of its district. Args are exactly a `kiosk.notices.NoticeSet`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from edge.wire import messages as wire
from edge.wire.commands import MAX_LIFETIME_S
from hub import outbound
from hub.migrations import Part
from hub.web import pushlog
from hub.web.db import Db
from hub.web.scopes import Scope, parse_scope

__all__ = [
    "COMMAND",
    "PART",
    "NoticeError",
    "NoticeView",
    "add",
    "notice_sets",
    "notices",
    "push",
    "withdraw",
]

COMMAND: Final = "kiosk.notices"
KIND: Final = "anti_fraud"
MAX_TITLE: Final = 60
MAX_BODY: Final = 600
# Version 1: the tables as they shipped before versions were recorded. Never edit a shipped version:
# a change is a new entry at the end of PART (hub/migrations.py).
_V1: Final = """
CREATE TABLE IF NOT EXISTS console_notices (
    id TEXT PRIMARY KEY, scope TEXT NOT NULL, kind TEXT NOT NULL, title_zh TEXT NOT NULL, title_en TEXT NOT NULL,
    body_zh TEXT NOT NULL, body_en TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL,
    created DOUBLE PRECISION NOT NULL, created_by TEXT NOT NULL, withdrawn_by TEXT NOT NULL,
    withdrawn_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS console_notices_live ON console_notices (withdrawn_at, created)
"""
PART: Final = Part("notices", (_V1,))


class NoticeError(ValueError):
    """A notice a kiosk could not show (a missing language, too long, an expiry in the past)."""


@dataclass(frozen=True, slots=True)
class NoticeView:
    id: str
    scope: Scope
    kind: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    expires: float  # 0: until withdrawn
    created: float
    created_by: str
    withdrawn_by: str = ""
    withdrawn_at: float = 0.0

    def live(self, now: float) -> bool:
        return not self.withdrawn_at and (not self.expires or self.expires > now)

    def wire(self) -> dict[str, Any]:
        """One `kiosk.notices.Notice`."""
        return {
            "id": self.id,
            "kind": self.kind,
            "title": {"zh": self.title_zh, "en": self.title_en},
            "body": {"zh": self.body_zh, "en": self.body_en},
            "published": wire.utc_now_iso(self.created),
            "expires": wire.utc_now_iso(self.expires) if self.expires else "",
        }

    def as_json(self) -> dict[str, Any]:
        return {
            **self.wire(),
            "scope": str(self.scope),
            "created_by": self.created_by,
            "withdrawn_by": self.withdrawn_by,
            "withdrawn_at": self.withdrawn_at or None,
        }


def draft(
    *, title_zh: str, title_en: str, body_zh: str, body_en: str, expires: float, scope: Scope, by: str, now: float
) -> NoticeView:
    """A checked notice (not stored): what the preview shows and `add` stores."""
    fields = {"title_zh": title_zh, "title_en": title_en, "body_zh": body_zh, "body_en": body_en}
    for key, value in fields.items():
        limit = MAX_TITLE if key.startswith("title") else MAX_BODY
        text = value.strip()
        if not text or len(text) > limit:
            raise NoticeError(f"{key}: 1-{limit} characters, in both languages")
        fields[key] = text
    if expires and expires <= now:
        raise NoticeError("the expiry is in the past")
    return NoticeView(
        id="c-" + secrets.token_hex(6),
        scope=scope,
        kind=KIND,
        title_zh=fields["title_zh"],
        title_en=fields["title_en"],
        body_zh=fields["body_zh"],
        body_en=fields["body_en"],
        expires=expires,
        created=now,
        created_by=by,
    )


_SELECT = (
    "SELECT id, scope, kind, title_zh, title_en, body_zh, body_en, expires, created, created_by, withdrawn_by,"
    " withdrawn_at FROM console_notices"
)


def _view(r: tuple[Any, ...]) -> NoticeView:
    return NoticeView(
        r[0], parse_scope(r[1]), r[2], r[3], r[4], r[5], r[6], float(r[7]), float(r[8]), r[9], r[10], float(r[11])
    )


def notices(db: Db, *, limit: int = 500) -> list[NoticeView]:
    """Every notice, newest first (live, expired and withdrawn)."""
    return [_view(r) for r in db.rows(f"{_SELECT} ORDER BY created DESC LIMIT ?", (limit,))]


def add(db: Db, notice: NoticeView) -> None:
    n = notice
    db.run(
        "INSERT INTO console_notices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0)",
        (n.id, str(n.scope), n.kind, n.title_zh, n.title_en, n.body_zh, n.body_en, n.expires, n.created, n.created_by),
    )


def withdraw(db: Db, notice_id: str, *, by: str, now: float | None = None) -> NoticeView | None:
    row = db.one(f"{_SELECT} WHERE id = ? AND withdrawn_at = 0", (notice_id,))
    if row is None:
        return None
    db.run(
        "UPDATE console_notices SET withdrawn_by = ?, withdrawn_at = ? WHERE id = ?",
        (by, time.time() if now is None else now, notice_id),
    )
    return _view(row)


def notice_sets(
    changed: Scope, every: list[NoticeView], districts: Mapping[str, str], *, now: float
) -> list[tuple[str, dict[str, Any]]]:
    """(target, `NoticeSet` args) for each set a change to a notice of scope `changed` alters."""
    live = sorted((n for n in every if n.live(now)), key=lambda n: -n.created)
    issued = wire.utc_now_iso(now)
    if changed.kind == "all":
        return [
            ("all", {"scope": "all", "issued_at": issued, "notices": [n.wire() for n in live if n.scope.kind == "all"]})
        ]
    out = []
    for station in changed.reach(districts):
        district = districts.get(station, "")
        own = [n.wire() for n in live if n.scope.kind != "all" and n.scope.covers(station, district)]
        out.append((station, {"scope": station, "issued_at": issued, "notices": own}))
    return out


def push(db: Db, changed: Scope, districts: Mapping[str, str], *, by: str, now: float | None = None) -> str:
    """Queue the sets a change of scope `changed` alters; returns the push's id (`hub.web.pushlog`)."""
    t = time.time() if now is None else now
    sets = notice_sets(changed, notices(db), districts, now=t)
    row_ids = [
        outbound.enqueue(
            db,
            target=target,
            name=COMMAND,
            args=args,
            lifetime_s=MAX_LIFETIME_S,  # retained: a kiosk that was away for weeks still gets the set
            retain=True,
            supersede="notices",
            now=t,
        )
        for target, args in sets
    ]
    most = max((len(args["notices"]) for _, args in sets), default=0)
    return pushlog.record(db, name=COMMAND, scope=str(changed), by=by, detail=str(most), row_ids=row_ids, now=t)
