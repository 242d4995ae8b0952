"""Officer calls in the crew console's view-model (no clock, no Qt): an `officer_call` incident alerts with
its own reason and the softer tone and never takes the focus from an alerting alarm; a call no incident
stands for (no alarm engine) is kept until noted."""

from __future__ import annotations

from typing import Any

import pytest

from edge.alarms.model import KINDS
from tests.support.console import T0, make_incident
from ui.console.model import ConsoleBoard
from ui.console.text import kind_label

KIOSK = {
    "kind": "kiosk",
    "site": "阳光街警务站",
    "site_en": "",
    "point": "一楼大厅",
    "point_en": "Ground-floor hall",
    "account": "",
    "zone": None,
}


def officer_call(iid: str, raised_at: float) -> dict[str, Any]:
    return make_incident(iid, raised_at=raised_at, kind="officer_call", source=KIOSK)


def called(seq: int, *, incident: str = "", at: float = T0, **fields: Any) -> dict[str, Any]:
    """A `kiosk.officer_called` notification as the kiosk component sends it."""
    return {
        "seq": seq,
        "station": "ST-1",
        "station_name": "阳光街警务站",
        "location": "一楼大厅",
        "location_en": "Ground-floor hall",
        "incident": incident,
        "at": at,
        **fields,
    }


def test_an_officer_call_incident_alerts_with_its_own_reason_and_the_softer_tone() -> None:
    board = ConsoleBoard()
    board.apply_incident("raised", officer_call("call", T0))
    assert board.tick(T0 + 1) is True
    view = board.view(T0 + 1, "en")
    assert view.focus is not None and view.focus.id == "call"
    assert view.focus.alert_reasons == ("new_call",)
    assert (view.focus.site, view.focus.point, view.focus.point_other) == (
        "阳光街警务站",
        "Ground-floor hall",
        "一楼大厅",
    )
    assert view.alerting and not view.alarm_alerting


def test_an_officer_call_never_takes_the_focus_from_an_alerting_alarm() -> None:
    board = ConsoleBoard()
    board.apply_incident("raised", make_incident("alarm", raised_at=T0))
    board.tick(T0 + 1)
    board.apply_incident("raised", officer_call("call", T0 + 10))
    assert board.tick(T0 + 11) is True  # it still sounds
    view = board.view(T0 + 11)
    assert view.focus is not None and view.focus.id == "alarm"
    assert [v.id for v in view.incidents] == ["call", "alarm"]  # listed beside it, newest first
    assert view.alarm_alerting
    board.apply_incident("raised", make_incident("alarm2", raised_at=T0 + 20))
    board.tick(T0 + 21)
    assert board.view(T0 + 21).focus.id == "alarm2"  # type: ignore[union-attr]


def test_a_call_no_incident_stands_for_is_kept_until_noted() -> None:
    board = ConsoleBoard()
    key = board.calls.apply(called(7))
    assert key == "ST-1:7"
    assert board.tick(T0 + 1) is True  # the tone starts
    assert board.tick(T0 + 2) is False
    view = board.view(T0 + 2)
    [call] = view.calls
    assert (call.station, call.location, call.location_other) == ("阳光街警务站", "一楼大厅", "Ground-floor hall")
    assert view.focus is None and not view.alerting  # no takeover
    board.calls.apply(called(8, at=T0 + 5, location="", location_en=""))
    assert [c.key for c in board.view(T0 + 6).calls] == ["ST-1:8", "ST-1:7"]
    assert board.view(T0 + 6).calls[0].location == ""
    board.calls.note(key)
    assert [c.key for c in board.view(T0 + 7).calls] == ["ST-1:8"]


def test_a_call_the_engine_took_is_left_to_its_incident_and_a_malformed_one_is_refused() -> None:
    board = ConsoleBoard()
    assert board.calls.apply(called(9, incident="INC-1")) is None
    assert board.view(T0).calls == ()
    assert board.calls.apply({**called(10), "future_field": 1}) == "ST-1:10"  # lenient: fields are added
    with pytest.raises(ValueError, match="not an officer call"):
        board.calls.apply({"seq": "ten"})


def test_every_incident_kind_has_a_console_label() -> None:
    for kind in KINDS:
        assert kind_label(kind) != kind, f"ui/console/text.py has no label for the incident kind {kind!r}"
