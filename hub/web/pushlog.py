"""What the console pushed (a watch list, a notice set), to which scope, by whom - and how far it got.

One console action can queue a command for many stations (`hub.outbound.enqueue`, one row per station or one
for `all`); a push remembers the ids of its rows, and its state is read from the outbox's own rows
(`hub.outbound.rows`): queued, published or expired, per station, with the last error.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

from hub import outbound
from hub.migrations import Part
from hub.web.db import Db

__all__ = ["PART", "PushView", "recent", "record"]

# Version 1: the tables as they shipped before versions were recorded. Never edit a shipped version:
# a change is a new entry at the end of PART (hub/migrations.py).
_V1: Final = """
CREATE TABLE IF NOT EXISTS console_pushes (
    id TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL, by_name TEXT NOT NULL, name TEXT NOT NULL,
    scope TEXT NOT NULL, detail TEXT NOT NULL, row_ids TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_pushes_at ON console_pushes (name, at)
"""
PART: Final = Part("pushes", (_V1,))
_ROWS_LOOKED_AT: Final = 5000  # the outbox's latest rows read to find a push's own


@dataclass(frozen=True, slots=True)
class PushView:
    id: str
    at: float
    by: str
    name: str
    scope: str
    detail: str
    rows: list[outbound.OutboundRow] = field(default_factory=list)
    missing: int = 0  # rows gone: replaced while queued by a later push to the same station, or long ago

    @property
    def states(self) -> dict[str, int]:
        return dict(Counter(r.state for r in self.rows))

    @property
    def state(self) -> str:
        """`published` when every row is, `expired` if any expired, `queued` while any waits; `none` when the
        scope reached no station."""
        got = self.states
        if not self.rows:
            return "none" if not self.missing else "published"
        if got.get("expired"):
            return "expired"
        return "queued" if got.get("queued") else "published"

    @property
    def error(self) -> str:
        return next((r.error for r in self.rows if r.error and r.state == "queued"), "")

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "at": self.at,
            "by": self.by,
            "name": self.name,
            "scope": self.scope,
            "detail": self.detail,
            "state": self.state,
            "states": self.states,
            "error": self.error,
            "stations": [{"target": r.target, "state": r.state, "error": r.error} for r in self.rows],
        }


def record(db: Db, *, name: str, scope: str, by: str, detail: str, row_ids: list[int], now: float | None = None) -> str:
    pid = secrets.token_hex(8)
    db.run(
        "INSERT INTO console_pushes VALUES (?, ?, ?, ?, ?, ?, ?)",
        (pid, time.time() if now is None else now, by, name, scope, detail[:300], json.dumps(row_ids)),
    )
    return pid


def recent(db: Db, name: str, *, limit: int = 20) -> list[PushView]:
    """The latest pushes of command `name`, newest first, each with its outbox rows."""
    pushes = db.rows(
        "SELECT id, at, by_name, scope, detail, row_ids FROM console_pushes WHERE name = ? ORDER BY at DESC LIMIT ?",
        (name, limit),
    )
    if not pushes:
        return []
    by_id = {r.id: r for r in outbound.rows(db, limit=_ROWS_LOOKED_AT) if r.name == name}
    out = []
    for pid, at, by, scope, detail, ids_text in pushes:
        ids = [int(i) for i in json.loads(ids_text)]
        got = [by_id[i] for i in ids if i in by_id]
        out.append(PushView(pid, float(at), by, name, scope, detail, got, len(ids) - len(got)))
    return out
