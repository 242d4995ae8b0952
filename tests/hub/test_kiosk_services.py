"""Central's kiosk reference services on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

import msgspec
import pytest

from edge.wire import messages as wire
from edge.wire.commands import CommandVerifier, Refusal, load_public_key
from edge.wire.errors import ApiError
from hub.kiosk_services import answer_request, process_events, register
from hub.rpc import RpcRegistry
from hub.store import Store
from tests.support.commands import central_keys

TODAY = date(2026, 5, 6)  # a Wednesday
FRIDAY = (TODAY + timedelta(days=2)).isoformat()
SATURDAY = (TODAY + timedelta(days=3)).isoformat()


def _rid() -> str:
    return secrets.token_hex(8)


def _book(
    store: Store,
    station: str,
    category: str,
    day: str,
    period: str = "am",
    rid: str | None = None,
    person: str | None = None,
) -> dict[str, Any]:
    """A booking by `person` (an ID number; a new person each time when None)."""
    return answer_request(
        store,
        station,
        "appointment",
        {
            "request_id": rid or _rid(),
            "category": category,
            "fields": {"name": "张三", "id_number": person or f"X{_rid()}", "date": day, "period": period},
        },
        today=TODAY,
    )


def test_bookings_take_slots_until_full_and_answer_once(store: Store) -> None:
    station, category = f"ST-{_rid()}", f"id_card_{_rid()}"
    first = _book(store, station, category, FRIDAY, rid="r-1", person="P1")
    assert first == {"ok": True, "slot": f"{FRIDAY} 09:00", "ref": first["ref"]}
    assert _book(store, station, category, FRIDAY, rid="r-1", person="P1") == first  # asked again: the same slot
    slots = [_book(store, station, category, FRIDAY)["slot"] for _ in range(5)]
    assert slots == [f"{FRIDAY} {t}" for t in ("09:30", "10:00", "10:30", "11:00", "11:30")]
    full = _book(store, station, category, FRIDAY)
    assert full["ok"] is False
    assert "约满" in full["reason"]["zh"]
    assert _book(store, station, category, FRIDAY, period="pm")["slot"] == f"{FRIDAY} 14:00"
    assert _book(store, station, category, SATURDAY)["ok"] is False
    assert _book(store, station, category, TODAY.isoformat())["ok"] is False
    with pytest.raises(ApiError):
        answer_request(
            store,
            station,
            "appointment",
            {"request_id": "x", "category": "c", "fields": {"date": "tomorrow"}},
            today=TODAY,
        )


def test_slots_are_per_station_and_one_person_holds_one_booking_per_service(store: Store) -> None:
    """Issue 12: one station could book every slot of the city, one person every slot of a station."""
    category = f"id_card_{_rid()}"
    a, b = f"ST-{_rid()}", f"ST-{_rid()}"
    assert [_book(store, a, category, FRIDAY)["ok"] for _ in range(7)] == [True] * 6 + [False]  # a's morning full
    assert _book(store, b, category, FRIDAY)["slot"] == f"{FRIDAY} 09:00"  # b's counter has its own slots

    person = "11010519491231002X"
    held = _book(store, a, category, FRIDAY, period="pm", person=person)
    assert held["ok"] is True
    again = _book(store, b, category, FRIDAY, period="pm", person=person.lower())  # another station, same person
    assert again["ok"] is False and f"{FRIDAY}" in again["reason"]["en"]
    assert _book(store, b, f"hukou_{_rid()}", FRIDAY, person=person)["ok"] is True  # another service: allowed
    # once the day has passed the person may book again
    later = answer_request(
        store,
        b,
        "appointment",
        {"request_id": _rid(), "category": category, "fields": {"id_number": person, "date": "2026-05-12"}},
        today=date(2026, 5, 9),
    )
    assert later["ok"] is True


def test_lookup_and_tickets(store: Store) -> None:
    station = f"ST-{_rid()}"
    found = answer_request(store, station, "lookup", {"request_id": _rid(), "fields": {"plate": "粤B12345"}})
    assert [i["what"]["en"] for i in found["items"]] == ["Ran a red light", "Speeding (under 20%)"]
    assert answer_request(store, station, "lookup", {"request_id": _rid(), "fields": {"plate": "京A00000"}}) == {
        "ok": True,
        "items": [],
    }
    numbers = [
        answer_request(store, station, "ticket", {"request_id": _rid(), "fields": {"queue": "B"}})["number"]
        for _ in range(3)
    ]
    assert numbers == ["B001", "B002", "B003"]
    assert (
        answer_request(store, f"{station}x", "ticket", {"request_id": _rid(), "fields": {"queue": "B"}})["number"]
        == "B001"
    )


def test_queued_request_is_answered_from_the_stored_event(store: Store) -> None:
    station = f"ST-{_rid()}"
    rid = _rid()
    day = (date.today() + timedelta(days=1 + (7 - date.today().weekday()) % 7)).isoformat()  # a Monday ahead
    data = {
        "request_id": rid,
        "service": "appt_id_card",
        "kind": "appointment",
        "category": f"c{_rid()}",
        "fields": {"name": "张三", "date": day, "period": "pm"},
        "lang": "zh",
        "from_card": False,
    }
    ev = wire.Event(
        id=wire.new_event_id(),
        station=station,
        seq=1,
        ts=wire.utc_now_iso(),
        type="kiosk.request",
        priority=wire.Priority.INFO,
        data=data,
    )
    rpc = RpcRegistry()
    register(rpc)
    req = wire.RpcRequest(
        id="q1",
        method="kiosk.resolve",
        params={"requests": [{"seq": 1, "request_id": rid}, {"seq": 2, "request_id": "nope"}]},
    )
    before = rpc.dispatch(station, req, lambda: store)
    assert before is not None
    assert before.result["results"][0]["state"] == "missing"  # not arrived yet
    store.store_events([ev], [wire.encode(ev)])
    res = rpc.dispatch(station, req, lambda: store)
    assert res is not None
    done, missing = res.result["results"]
    assert done["state"] == "done"
    assert done["answer"]["slot"] == f"{day} 14:00"
    assert missing["state"] == "missing"
    # the lead's ingest hook answers the same event with a signed kiosk.result command: the same answer
    central = central_keys()
    [(topic, payload)] = process_events(store, [ev], signer=central.signer)
    assert topic == f"police/v1/{station}/cmd/kiosk.result"
    cmd = wire.decode_command(payload)
    assert cmd.args["answer"] == done["answer"]
    assert cmd.targets == [station]  # for this station only
    ours = load_public_key(central.public_pem)
    assert CommandVerifier(station, ours).check(cmd) is None
    assert CommandVerifier("ST-OTHER", ours).check(cmd) is Refusal.WRONG_TARGET
    assert CommandVerifier(station, load_public_key(central_keys().public_pem)).check(cmd) is Refusal.UNKNOWN_KEY
    assert CommandVerifier(station, ours).check(msgspec.structs.replace(cmd, sig="")) is Refusal.UNSIGNED


def test_live_handlers_are_registered() -> None:
    rpc = RpcRegistry()
    register(rpc)
    assert {"kiosk.book", "kiosk.traffic_lookup", "kiosk.queue_ticket", "kiosk.resolve"} <= set(rpc.methods)
