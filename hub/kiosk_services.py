"""Central's reference services for the resident kiosk: appointment slots, the traffic-matters lookup,
queue ticket numbers, and answers to requests a station queued while it was offline.

Every request carries the kiosk's `request_id`; central answers each (station, request_id) once and
returns the same answer when asked again, so a live request that timed out at the station and the same
request queued as a `kiosk.request` event never book two slots. Answers are `{"ok": true, ...}` or
`{"ok": false, "reason": {"zh", "en"}}` (a refusal the resident reads); malformed requests raise
`ApiError`. Tables live beside the events, on SQLite or PostgreSQL (`hub.kiosk_db`).

Register with `register(rpc)` (hub/cli.py `_plugins()`). For queued requests, `process_events(store,
events, signer=...)` answers newly stored `kiosk.request` events and returns the signed `kiosk.result`
commands to publish: one call in `HubService.process` after `store_events` (see its docstring).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import msgspec

from edge.wire import messages as wire
from edge.wire.commands import CommandSigner
from edge.wire.errors import INVALID_PARAMS, ApiError
from hub.kiosk_db import KioskDb
from hub.rpc import RpcContext, RpcRegistry
from hub.store import Store

__all__ = ["answer_request", "process_events", "register", "result_command"]

MAX_DAYS_AHEAD = 30
_PERIODS = {
    "am": ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30"),
    "pm": ("14:00", "14:30", "15:00", "15:30", "16:00", "16:30"),
}
_SLOT_CAPACITY = 1
_QUEUES = frozenset("ABCDEFGH")


def _refuse(zh: str, en: str) -> dict[str, Any]:
    return {"ok": False, "reason": {"zh": zh, "en": en}}


def _str(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value:
        raise ApiError(INVALID_PARAMS, f"{key} must be a non-empty string")
    return value


def _fields(params: dict[str, Any]) -> dict[str, str]:
    fields = params.get("fields") or {}
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise ApiError(INVALID_PARAMS, "fields must be an object of strings")
    return fields


# ---- the work, inside a transaction -----------------------------------------------------------------
def _person(fields: dict[str, str]) -> str:
    """Who books, for the quota: a hash of the ID number (never the number itself), "" when none given."""
    number = fields.get("id_number", "").strip().upper()
    return hashlib.sha256(f"pk-booking:{number}".encode()).hexdigest() if number else ""


def _book(db: KioskDb, station: str, request_id: str, params: dict[str, Any], today: date) -> dict[str, Any]:
    """A slot of the station's own counter (slots are per station: one station cannot take the city's),
    at most one open booking per person and service (a person cannot hold every slot either)."""
    fields = _fields(params)
    category = _str(params, "category")
    period = fields.get("period", "am")
    try:
        day = date.fromisoformat(fields.get("date", ""))
    except ValueError:
        raise ApiError(INVALID_PARAMS, "fields.date must be YYYY-MM-DD") from None
    if period not in _PERIODS:
        raise ApiError(INVALID_PARAMS, "fields.period must be am or pm")
    if not today < day <= today + timedelta(days=MAX_DAYS_AHEAD):
        return _refuse("该日期不能预约，请另选日期", "That day cannot be booked; please choose another")
    if day.weekday() >= 5:
        return _refuse("周末不办理该业务，请选择工作日", "Not open at weekends; please choose a weekday")
    iso = day.isoformat()
    person = _person(fields)
    if person:
        held = db.one(
            "SELECT day FROM kiosk_booking_holders WHERE category=? AND person=? AND day>=?",
            (category, person, today.isoformat()),
        )
        if held is not None:
            return _refuse(
                f"您已预约 {held[0]} 办理该业务，请先按时办理或取消", f"You already hold a booking for {held[0]}"
            )
    if (
        db.one(
            "SELECT COUNT(*) FROM kiosk_station_slots WHERE station=? AND category=? AND day=?",
            (station, category, iso),
        )[0]
        == 0
    ):
        for per, starts in _PERIODS.items():
            for start in starts:
                db.execute(
                    "INSERT INTO kiosk_station_slots VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING",
                    (station, category, iso, start, per, _SLOT_CAPACITY),
                )
    row = db.one(
        "SELECT start FROM kiosk_station_slots WHERE station=? AND category=? AND day=? AND period=?"
        " AND taken < capacity ORDER BY start LIMIT 1",
        (station, category, iso, period),
    )
    if row is None:
        return _refuse("该时段已约满，请选择其他日期或时段", "That time is fully booked; please choose another")
    start = str(row[0])
    db.execute(
        "UPDATE kiosk_station_slots SET taken = taken + 1 WHERE station=? AND category=? AND day=? AND start=?",
        (station, category, iso, start),
    )
    if person:
        db.execute(
            "INSERT INTO kiosk_booking_holders VALUES (?, ?, ?, ?, ?)", (category, person, iso, station, request_id)
        )
    ref = f"{category[:1].upper()}{iso[5:7]}{iso[8:10]}-{start.replace(':', '')}"
    db.execute(
        "INSERT INTO kiosk_bookings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (station, request_id, category, iso, start, ref, json.dumps(fields, ensure_ascii=False), wire.utc_now_iso()),
    )
    return {"ok": True, "slot": f"{iso} {start}", "ref": ref}


def _lookup(db: KioskDb, station: str, request_id: str, params: dict[str, Any], today: date) -> dict[str, Any]:
    plate = _fields(params).get("plate", "")
    if not plate:
        raise ApiError(INVALID_PARAMS, "fields.plate is required")
    rows = db.all(
        "SELECT day, place, what_zh, what_en, points, fine, handled FROM kiosk_traffic WHERE plate=? ORDER BY day",
        (plate,),
    )
    items = [
        {"date": d, "place": p, "what": {"zh": wz, "en": we}, "points": int(pt), "fine": int(f), "handled": bool(h)}
        for d, p, wz, we, pt, f, h in rows
    ]
    return {"ok": True, "items": items}


def _ticket(db: KioskDb, station: str, request_id: str, params: dict[str, Any], today: date) -> dict[str, Any]:
    queue = _fields(params).get("queue", "A")
    if queue not in _QUEUES:
        raise ApiError(INVALID_PARAMS, "fields.queue must be one letter A-H")
    day = today.isoformat()
    db.execute("INSERT INTO kiosk_tickets VALUES (?, ?, ?, 0) ON CONFLICT DO NOTHING", (station, day, queue))
    db.execute("UPDATE kiosk_tickets SET last = last + 1 WHERE station=? AND day=? AND queue=?", (station, day, queue))
    n = int(db.one("SELECT last FROM kiosk_tickets WHERE station=? AND day=? AND queue=?", (station, day, queue))[0])
    return {"ok": True, "number": f"{queue}{n:03d}", "waiting": n - 1}


_WORK: dict[str, Callable[[KioskDb, str, str, dict[str, Any], date], dict[str, Any]]] = {
    "appointment": _book,
    "lookup": _lookup,
    "ticket": _ticket,
}


def answer_request(
    store: Store, station: str, kind: str, params: dict[str, Any], *, today: date | None = None
) -> dict[str, Any]:
    """Answer one request exactly once per (station, request_id); the stored answer when asked again."""
    request_id = _str(params, "request_id")
    work = _WORK.get(kind)
    if work is None:
        raise ApiError(INVALID_PARAMS, f"unknown kiosk request kind {kind!r}")
    db = KioskDb(store)
    with db.transaction():
        row = db.one("SELECT answer FROM kiosk_answers WHERE station=? AND request_id=?", (station, request_id))
        if row is not None:
            answer: dict[str, Any] = json.loads(row[0])
            return answer
        answer = work(db, station, request_id, params, today or date.today())
        db.execute(
            "INSERT INTO kiosk_answers VALUES (?, ?, ?, ?, ?)",
            (station, request_id, kind, json.dumps(answer, ensure_ascii=False), wire.utc_now_iso()),
        )
    return answer


# ---- queued requests ------------------------------------------------------------------------------
def _stored_request(store: Store, station: str, seq: int) -> dict[str, Any] | None:
    db = KioskDb(store)
    with db.transaction():
        row = db.one("SELECT body FROM events WHERE station=? AND seq=? AND type='kiosk.request'", (station, seq))
    if row is None:
        return None
    data = msgspec.json.decode(str(row[0]))["data"]
    return data if isinstance(data, dict) else None


def _resolve(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    asks = params.get("requests")
    if not isinstance(asks, list) or len(asks) > 100:
        raise ApiError(INVALID_PARAMS, "requests must be a list of at most 100 {seq, request_id}")
    results = []
    for ask in asks:
        if not isinstance(ask, dict) or not isinstance(ask.get("seq"), int):
            raise ApiError(INVALID_PARAMS, "each request is {seq: int, request_id: str}")
        data = _stored_request(ctx.store, ctx.station, ask["seq"])
        if data is None or data.get("request_id") != ask.get("request_id"):
            results.append({"request_id": ask.get("request_id"), "state": "missing"})
            continue
        answer = answer_request(ctx.store, ctx.station, str(data.get("kind")), data)
        results.append({"request_id": data["request_id"], "state": "done", "answer": answer})
    return {"results": results}


#: How long a `kiosk.result` stays valid: a station offline longer asks with `kiosk.resolve` instead.
RESULT_LIFETIME_S = 24 * 3600.0


def result_command(station: str, request_id: str, answer: dict[str, Any], signer: CommandSigner) -> wire.Command:
    return signer.command(
        "kiosk.result", {"request_id": request_id, "answer": answer}, targets=[station], lifetime=RESULT_LIFETIME_S
    )


def process_events(store: Store, events: list[wire.Event], *, signer: CommandSigner | None) -> list[tuple[str, bytes]]:
    """Answer newly stored `kiosk.request` events; (topic, payload) of the `kiosk.result` commands to
    publish (QoS 1), each signed for its one station. Without a signing key no command is sent: the
    station then asks with `kiosk.resolve`."""
    out: list[tuple[str, bytes]] = []
    for ev in events:
        if ev.type != "kiosk.request":
            continue
        try:
            answer = answer_request(store, ev.station, str(ev.data.get("kind")), ev.data)
        except ApiError:
            continue
        if signer is not None:
            cmd = result_command(ev.station, str(ev.data["request_id"]), answer, signer)
            out.append((wire.topic(ev.station, "cmd", "kiosk.result"), wire.encode(cmd)))
    return out


def register(rpc: RpcRegistry) -> None:
    for name, kind in (
        ("kiosk.book", "appointment"),
        ("kiosk.traffic_lookup", "lookup"),
        ("kiosk.queue_ticket", "ticket"),
    ):
        rpc.register(name, _live(kind))
    rpc.register("kiosk.resolve", _resolve)


def _live(kind: str) -> Callable[[RpcContext, dict[str, Any]], dict[str, Any]]:
    def handler(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
        return answer_request(ctx.store, ctx.station, kind, params)

    return handler
