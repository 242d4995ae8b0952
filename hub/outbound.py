"""Central's outbox: commands the console (or a schedule) sends to stations, durable until published.

A page that reassigns a work order, pushes a bulletin or a roster writes a row (`enqueue`) in the same
database as everything else, and answers at once; the hub service, which holds central's Ed25519 key,
signs and publishes due rows over its MQTT connection and marks them published once the broker has
acknowledged them (QoS 1 PUBACK). So a command is never lost to a hub restart or a broker outage
between the click and the publish, and a console needs neither the key nor the broker.

Order: rows are published in id order, one publisher at a time (a lease in `hub_state`, renewed before each
row and passed on when its hub stops renewing it for `LEASE_S`), and each is signed when it is published, so a
station's commands arrive with rising counters in the order they were made - a station refuses a counter lower
than one it took on the same stream, so publishing out of order would lose commands. A row whose publish
failed is signed again (a new counter) on the next try: its handler at the station must be idempotent (the
work-order state goes by revision, a bulletin by week, a roster replaces the last). A row still unpublished
when its lifetime ends is `expired`; without a signing key rows stay `queued` and the console says why.

`supersede`: enqueueing a row drops the still-queued rows with the same (target, name, supersede) key,
so a station offline for a day gets the latest bulletin or order state, not every intermediate one.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from edge.wire import messages as wire
from edge.wire.commands import MAX_LIFETIME_S, CommandSigner
from hub.web.db import Db

__all__ = [
    "LEASE_S",
    "MAX_ARGS_BYTES",
    "OutboundPublisher",
    "OutboundRow",
    "enqueue",
    "hold_lease",
    "holder_id",
    "publish_due",
    "rows",
]

log = logging.getLogger(__name__)

MAX_ARGS_BYTES: Final = 64 * 1024
_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_LEASE: Final = "outbound.publisher"  # the hub_state row of the lease: one publisher at a time across hubs
LEASE_S: Final = 30.0
_BATCH: Final = 50


@dataclass(frozen=True, slots=True)
class OutboundRow:
    id: int
    created: float
    target: str
    name: str
    state: str  # queued | published | expired
    published_at: float | None
    attempts: int
    error: str


class Publisher(Protocol):
    @property
    def connected(self) -> bool:
        """Whether the broker connection is up (nothing is tried while it is not)."""

    def publish_confirmed(self, topic: str, payload: bytes, *, retain: bool, timeout: float) -> None:
        """Publish at QoS 1 and return once the broker acknowledged it; raise otherwise."""


def enqueue(
    db: Db,
    *,
    target: str,
    name: str,
    args: dict[str, Any],
    lifetime_s: float = 7 * 86400.0,
    retain: bool = False,
    supersede: str = "",
    now: float | None = None,
) -> int:
    """Queue one command for `target` (a station id or `all`); returns its row id."""
    if target != "all" and not wire.STATION_ID_RE.match(target):
        raise ValueError(f"target must be a station id or `all`, got {target[:80]!r}")
    if not _NAME_RE.match(name):
        raise ValueError(f"bad command name {name[:80]!r}")
    if not 0 < lifetime_s <= MAX_LIFETIME_S:
        raise ValueError(f"lifetime must be more than 0 and at most {MAX_LIFETIME_S:.0f} s")
    body = json.dumps(args, ensure_ascii=False, separators=(",", ":"))
    if len(body.encode()) > MAX_ARGS_BYTES:
        raise ValueError(f"args are {len(body.encode())} bytes, more than {MAX_ARGS_BYTES}")
    t = time.time() if now is None else now
    with db.transaction():
        if supersede:
            db.run(
                "DELETE FROM central_commands WHERE state = 'queued' AND target = ? AND name = ? AND supersede = ?",
                (target, name, supersede),
            )
        got = db.one(
            "INSERT INTO central_commands (created, target, name, args, lifetime, retain, supersede, state,"
            " attempts, error) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', 0, '') RETURNING id",
            (t, target, name, body, lifetime_s, 1 if retain else 0, supersede),
        )
    assert got is not None
    return int(got[0])


def rows(db: Db, *, limit: int = 100, target: str | None = None) -> list[OutboundRow]:
    """The latest rows, newest first (for a console page)."""
    got = db.rows(
        "SELECT id, created, target, name, state, published_at, attempts, error FROM central_commands"
        " WHERE (? = '' OR target = ?) ORDER BY id DESC LIMIT ?",
        (target or "", target or "", limit),
    )
    return [
        OutboundRow(int(r[0]), float(r[1]), r[2], r[3], r[4], None if r[5] is None else float(r[5]), int(r[6]), r[7])
        for r in got
    ]


def holder_id() -> str:
    """This process's name as the publisher's lease holder (host, pid and a random part: unique per run)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


_PROCESS_HOLDER: Final = holder_id()


def hold_lease(db: Db, holder: str, now: float, *, lease_s: float = LEASE_S) -> bool:
    """Take or renew the publisher's lease (a row of `hub_state`); True if `holder` has it now. A lease not
    renewed for `lease_s` (its hub stopped or froze) passes to the next hub that asks. Two hubs asking at
    once: the row's lock orders them and the second sees the first's lease (PostgreSQL re-reads the row
    an UPDATE waited for; SQLite has one writer)."""
    with db.transaction():
        db.run(
            "INSERT INTO hub_state (name, value, since) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
            (_LEASE, holder, now),
        )
        db.run(
            "UPDATE hub_state SET value = ?, since = ? WHERE name = ? AND (value = ? OR since < ?)",
            (holder, now, _LEASE, holder, now - lease_s),
        )
        got = db.one("SELECT value FROM hub_state WHERE name = ?", (_LEASE,))
    return got is not None and got[0] == holder


def publish_due(
    db: Db,
    signer: CommandSigner,
    out: Publisher,
    *,
    now: float | None = None,
    timeout: float = 5.0,
    holder: str = _PROCESS_HOLDER,
) -> int:
    """Sign and publish up to a batch of queued rows in id order; returns how many were published.
    Stops at the first failure (the rest keep their order for the next try).

    No transaction is open while the broker is asked: waiting for a PUBACK inside one would hold SQLite's
    write lock (every ingest and console write would wait behind the broker). Each row is published under
    the lease (renewed before each row) and marked in a short transaction of its own; a hub that dies
    between the broker's PUBACK and the mark publishes that row again (its handler is idempotent)."""
    t = time.time() if now is None else now
    published = 0
    if not out.connected:
        return 0
    if not hold_lease(db, holder, time.time()):
        return 0  # another hub is publishing
    with db.transaction():
        db.run("UPDATE central_commands SET state = 'expired' WHERE state = 'queued' AND created + lifetime <= ?", (t,))
        due = db.rows(
            "SELECT id, created, target, name, args, lifetime, retain FROM central_commands"
            " WHERE state = 'queued' ORDER BY id LIMIT ?",
            (_BATCH,),
        )
    for i, (row_id, created, target, name, args, lifetime, retain) in enumerate(due):
        if i and not hold_lease(db, holder, time.time()):
            break
        remaining = float(created) + float(lifetime) - t
        try:
            cmd = signer.command(name, json.loads(args), targets=[target], lifetime=remaining, now=t)
            topic = wire.topic(target, "cmd", name)
            out.publish_confirmed(topic, wire.encode(cmd), retain=bool(retain), timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - any failure: count it, keep the row, try again later
            with db.transaction():
                db.run(
                    "UPDATE central_commands SET attempts = attempts + 1, error = ? WHERE id = ?",
                    (f"{type(exc).__name__}: {exc}"[:300], row_id),
                )
            log.warning("command %s #%d to %s not published yet: %s", name, row_id, target, exc)
            break
        with db.transaction():
            db.run(
                "UPDATE central_commands SET state = 'published', published_at = ?, attempts = attempts + 1,"
                " error = '' WHERE id = ? AND state = 'queued'",
                (t, row_id),
            )
        published += 1
    return published


class OutboundPublisher:
    """The hub's thread that publishes queued commands every `interval` seconds."""

    def __init__(
        self,
        connect: Callable[[], Db],
        signer: CommandSigner,
        out: Publisher,
        *,
        interval: float = 0.5,
    ) -> None:
        self._connect = connect
        self._signer = signer
        self._out = out
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.published = 0
        self.holder = holder_id()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hub-outbound", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        db: Db | None = None
        while not self._stop.wait(self._interval):
            try:
                if db is None or db.broken:
                    db = self._connect()
                while (n := publish_due(db, self._signer, self._out, holder=self.holder)) > 0:
                    self.published += n
                    if self._stop.is_set():
                        break
            except Exception:  # a database hiccup: log, reconnect, try again next tick
                log.exception("publishing central's queued commands failed; retrying")
                if db is not None:
                    db.close()
                db = None
        if db is not None:
            db.close()
