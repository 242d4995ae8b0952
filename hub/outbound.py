"""STAND-IN for the lead's `hub/outbound.py` (replaced by main's on merge): the queue's interface only.

Commands central sends to stations, queued in `central_commands`; the hub service signs and publishes
them (not in this stand-in). `enqueue` is a plain INSERT so it joins the caller's transaction.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from hub.web.db import Db

__all__ = ["SCHEMA", "OutboundRow", "enqueue", "rows"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS central_commands (
    id BIGINT PRIMARY KEY, created DOUBLE PRECISION NOT NULL, target TEXT NOT NULL, name TEXT NOT NULL,
    args TEXT NOT NULL, lifetime_s DOUBLE PRECISION NOT NULL, retain INTEGER NOT NULL, supersede TEXT NOT NULL,
    state TEXT NOT NULL, published_at DOUBLE PRECISION, error TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class OutboundRow:
    id: int
    created: float
    target: str
    name: str
    state: str
    published_at: float | None
    error: str


def enqueue(
    db: Db,
    *,
    target: str,
    name: str,
    args: dict[str, Any],
    lifetime_s: float = 7 * 86400.0,
    retain: bool = False,
    supersede: str = "",
) -> int:
    text = json.dumps(args, ensure_ascii=False)
    if not target or not name or len(text) > 65536:
        raise ValueError("bad target, name or args")
    if supersede:
        db.run(
            "DELETE FROM central_commands WHERE target=? AND name=? AND supersede=? AND state='queued'",
            (target, name, supersede),
        )
    row = db.one("SELECT COALESCE(MAX(id), 0) + 1 FROM central_commands")
    new_id = int(row[0]) if row else 1
    db.run(
        "INSERT INTO central_commands VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', NULL, '')",
        (new_id, time.time(), target, name, text, lifetime_s, int(retain), supersede),
    )
    return new_id


def rows(db: Db, *, limit: int = 100) -> list[OutboundRow]:
    got = db.rows(
        "SELECT id, created, target, name, state, published_at, error FROM central_commands ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [OutboundRow(*r) for r in got]
