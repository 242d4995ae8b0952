"""Officer calls in the incident engine (fake clock): an `officer_call` incident is held to the same 1-3-5
targets and escalated like an alarm, merges repeated calls from one kiosk, and never sounds the siren."""

from __future__ import annotations

from pathlib import Path

from edge.alarms.component import AlarmComponent
from edge.alarms.incidents import CALL_KINDS, KINDS, IncidentBook, Source, Targets
from edge.alarms.outputs import OutputState, SirenPolicy
from edge.config.alarms import AlarmsSection, SirenSection
from edge.wire.api import incidents as wire_incidents
from tests.support.context import FakeContext
from tests.support.modbus import wait_until

T0 = 1_800_000_000.0
KIOSK = Source(kind="kiosk", site="阳光街警务站", point="一楼大厅", point_en="Ground-floor hall")
GATE = Source(kind="dc09", site="阳光小学", account="1234", zone=1)


def book() -> IncidentBook:
    return IncidentBook(targets=Targets(respond_s=60, arrive_s=180, resolve_s=300))


def test_an_officer_call_escalates_each_missed_target_once_like_an_alarm() -> None:
    b = book()
    raised = b.raise_alarm(kind="officer_call", source=KIOSK, now=T0, detail="kiosk officer call")
    inc = raised.incident
    assert (raised.change, raised.event_type) == ("raised", "alarm.raised")
    assert inc.kind == "officer_call" and not inc.alarm
    assert inc.source.point == "一楼大厅"
    assert b.due(T0 + 59) == []
    late = b.due(T0 + 60)
    assert [(c.change, c.target, c.event_type) for c in late] == [("escalated", "respond", "alarm.escalated")]
    assert b.due(T0 + 61) == []
    assert [c.target for c in b.due(T0 + 300)] == ["arrive", "resolve"]
    got = b.get(inc.id)
    assert got.missed == ["respond", "arrive", "resolve"]
    assert got.escalations == 3
    assert got.state == "raised"  # nobody answered


def test_an_answered_call_is_not_escalated_and_repeated_calls_merge() -> None:
    b = book()
    inc = b.raise_alarm(kind="officer_call", source=KIOSK, now=T0).incident
    again = b.raise_alarm(kind="officer_call", source=KIOSK, now=T0 + 5)
    assert (again.change, again.incident.id, again.incident.presses) == ("merged", inc.id, 2)
    b.dispatch(inc.id, now=T0 + 30, by="王警官")
    b.arrive(inc.id, now=T0 + 90)
    b.close(inc.id, outcome="real", now=T0 + 120)
    assert b.due(T0 + 1000) == []


def test_an_emergency_at_the_kiosk_of_an_open_call_is_an_incident_of_its_own() -> None:
    b = book()
    call = b.raise_alarm(kind="officer_call", source=KIOSK, now=T0).incident
    emergency = b.raise_alarm(kind="emergency", source=KIOSK, now=T0 + 1)
    assert emergency.change == "raised" and emergency.incident.id != call.id
    assert emergency.incident.alarm
    assert b.raise_alarm(kind="officer_call", source=KIOSK, now=T0 + 2).incident.id == call.id
    assert b.raise_alarm(kind="emergency", source=KIOSK, now=T0 + 3).incident.id == emergency.incident.id


def test_an_officer_call_never_sounds_the_siren_an_alarm_beside_it_does() -> None:
    b = book()
    policy = SirenPolicy(SirenSection(siren="raised", strobe="open"))
    call = b.raise_alarm(kind="officer_call", source=KIOSK, now=T0).incident
    assert policy.wanted(b) == OutputState(False, False)
    alarm = b.raise_alarm(kind="panic", source=GATE, now=T0 + 1).incident
    assert policy.wanted(b) == OutputState(True, True)
    b.acknowledge(alarm.id, now=T0 + 2)
    assert policy.wanted(b) == OutputState(False, True)
    b.close(alarm.id, outcome="test", now=T0 + 3)
    assert b.get(call.id).open
    assert policy.wanted(b) == OutputState(False, False)


def test_the_kinds_are_one_contract() -> None:
    assert "officer_call" in KINDS
    assert set(CALL_KINDS) == wire_incidents.CALL_KINDS
    assert wire_incidents.IncidentRaise(site="站", kind="officer_call").kind == "officer_call"


async def test_the_engine_raises_and_escalates_a_kiosk_call_without_taking_back_a_silenced_siren(
    tmp_path: Path,
) -> None:
    daemon = FakeContext(tmp_path)
    section = {"enabled": True, "dc09": None, "targets": {"respond_s": 0.05, "arrive_s": 60, "resolve_s": 60}}
    comp = AlarmComponent(AlarmsSection.model_validate(section))
    await comp.start(daemon)
    try:
        comp.policy.manual = False  # the crew switched the siren off: a call must not switch it back on
        inc = await daemon.call(
            "incidents.raise",
            {"kind": "officer_call", "source": "kiosk", "site": "阳光街警务站", "point": "一楼大厅"},
        )
        assert inc["kind"] == "officer_call"
        assert inc["timeline"][0]["detail"] == "kiosk officer call"
        await wait_until(lambda: any(t == "alarm.escalated" for t, _ in daemon.events), "the escalation event")
        escalated = [p for t, p in daemon.published if t == "incidents" and p["change"] == "escalated"]
        assert escalated[0]["incident"]["id"] == inc["id"]
        assert escalated[0]["target"] == "respond"
        assert comp.policy.manual is False
        await daemon.call("incidents.raise", {"kind": "panic", "site": "阳光小学"})
        assert comp.policy.manual is None  # an alarm does
    finally:
        await comp.stop()
