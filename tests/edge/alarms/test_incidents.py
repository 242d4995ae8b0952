"""Unit tests of the incident engine with a fake clock: lifecycle, merge, restore, 1-3-5 escalation,
persistence, alarm signals from DC-09 and Modbus inputs, the siren policy and the [alarms] config."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

import msgspec
import pytest
from pydantic import ValidationError

from drivers.dc09.codec import Dc09Message, Dc09Token
from drivers.dc09.contact_id import EventQualifier, build_adm_cid_data
from drivers.dc09.sia_dcs import build_sia_dcs
from edge.alarms.component import AlarmComponent
from edge.alarms.events import IncidentChanged, pending_event
from edge.alarms.incidents import (
    IncidentBook,
    IncidentConflictError,
    IncidentNotFoundError,
    Source,
    Targets,
)
from edge.alarms.journal import IncidentStore, PendingEvent
from edge.alarms.links import LinkTable, RejectTally
from edge.alarms.outputs import OutputState, SirenPolicy
from edge.alarms.sources import SignalError, dc09_signals, modbus_signal
from edge.config.alarms import AlarmsSection, ModbusModuleSection, SirenSection
from edge.spine.records import StoredEvent
from edge.wire import payloads
from edge.wire.errors import ApiError
from edge.wire.messages import Priority
from tests.support.context import FakeContext

T0 = 1_800_000_000.0
GATE = Source(
    kind="dc09",
    site="阳光小学",
    site_en="Sunshine Primary School",
    point="正门一键报警",
    point_en="Main gate button",
    account="1234",
    zone=1,
)
BACK = Source(kind="dc09", site="阳光小学", account="1234", zone=2)


def book(**kw: float) -> IncidentBook:
    return IncidentBook(targets=Targets(respond_s=60, arrive_s=180, resolve_s=300, **kw))


# ---- lifecycle ------------------------------------------------------------------------------------
def test_full_lifecycle_records_times_and_timeline() -> None:
    b = book()
    raised = b.raise_alarm(kind="panic", source=GATE, now=T0, detail="CID 120")
    inc = raised.incident
    assert raised.change == "raised"
    assert raised.event_type == "alarm.raised"
    assert inc.state == "raised"
    assert inc.presses == 1
    assert (inc.deadlines.respond, inc.deadlines.arrive, inc.deadlines.resolve) == (T0 + 60, T0 + 180, T0 + 300)
    b.acknowledge(inc.id, now=T0 + 5, by="王警官")
    b.dispatch(inc.id, now=T0 + 20, by="王警官", unit="巡逻 3")
    b.arrive(inc.id, now=T0 + 150, by="巡逻 3")
    closed = b.close(inc.id, outcome="real", note="resolved", now=T0 + 240, by="王警官")
    done = closed.incident
    assert done.state == "closed"
    assert done.outcome == "real"
    assert not done.open
    assert (done.acked_at, done.dispatched_at, done.on_scene_at, done.closed_at) == (
        T0 + 5,
        T0 + 20,
        T0 + 150,
        T0 + 240,
    )
    assert [e.what for e in done.timeline] == ["raised", "acknowledged", "dispatched", "on_scene", "closed"]
    assert done.unit == "巡逻 3"
    assert done.rev == 5
    assert b.next_deadline() is None
    assert b.due(T0 + 10_000) == []
    assert b.listing() == []
    assert b.listing(include_closed=True) == [done]


def test_invalid_transitions_are_conflicts_with_clear_messages() -> None:
    b = book()
    inc = b.raise_alarm(kind="panic", source=GATE, now=T0).incident
    b.acknowledge(inc.id, now=T0 + 1)
    with pytest.raises(IncidentConflictError, match="already acknowledged"):
        b.acknowledge(inc.id, now=T0 + 2)
    b.close(inc.id, outcome="false_alarm", now=T0 + 3)
    with pytest.raises(IncidentConflictError, match="already closed"):
        b.close(inc.id, outcome="real", now=T0 + 4)
    with pytest.raises(IncidentConflictError, match="already closed"):
        b.acknowledge(inc.id, now=T0 + 4)
    with pytest.raises(IncidentNotFoundError):
        b.get("INC-nope")
    with pytest.raises(ValueError, match="outcome"):
        b.close(b.raise_alarm(kind="panic", source=BACK, now=T0).incident.id, outcome="maybe", now=T0)  # type: ignore[arg-type]


def test_skipped_steps_are_stamped_and_written_in_the_timeline() -> None:
    b = book()
    inc = b.raise_alarm(kind="holdup", source=GATE, now=T0).incident
    arrived = b.arrive(inc.id, now=T0 + 30, by="巡逻 1").incident
    assert arrived.acked_at == arrived.dispatched_at == arrived.on_scene_at == T0 + 30
    assert [e.what for e in arrived.timeline] == ["raised", "acknowledged", "dispatched", "on_scene"]
    assert arrived.timeline[1].detail == "implied by on_scene"
    # closing straight from raised (a test alarm) does not invent an acknowledgement
    other = b.raise_alarm(kind="panic", source=BACK, now=T0).incident
    closed = b.close(other.id, outcome="test", now=T0 + 1).incident
    assert closed.acked_at is None
    assert [e.what for e in closed.timeline] == ["raised", "closed"]


def test_repeated_presses_merge_into_the_open_incident_only() -> None:
    b = book()
    first = b.raise_alarm(kind="panic", source=GATE, now=T0).incident
    again = b.raise_alarm(kind="panic", source=GATE, now=T0 + 3)
    assert again.change == "merged"
    assert again.incident.id == first.id
    assert again.incident.presses == 2
    assert again.incident.deadlines == first.deadlines  # a repeat press does not move the targets
    other_button = b.raise_alarm(kind="panic", source=BACK, now=T0 + 4)
    assert other_button.change == "raised"
    assert other_button.incident.id != first.id
    b.close(first.id, outcome="real", now=T0 + 10)
    after_close = b.raise_alarm(kind="panic", source=GATE, now=T0 + 11)
    assert after_close.change == "raised"
    assert after_close.incident.id != first.id
    manual = Source(kind="manual", site="站前")
    m1 = b.raise_alarm(kind="emergency", source=manual, now=T0).incident
    m2 = b.raise_alarm(kind="emergency", source=manual, now=T0).incident
    assert m1.id != m2.id


def test_restore_marks_the_open_incident_once_and_a_new_press_clears_it() -> None:
    b = book()
    assert b.restore(source=GATE, now=T0) is None  # nothing open: nothing to restore
    inc = b.raise_alarm(kind="panic", source=GATE, now=T0).incident
    restored = b.restore(source=GATE, now=T0 + 2)
    assert restored is not None
    assert restored.change == "restored"
    assert restored.incident.restored
    assert restored.incident.state == "raised"  # still the crew's to close
    assert b.restore(source=GATE, now=T0 + 3) is None
    pressed = b.raise_alarm(kind="panic", source=GATE, now=T0 + 4).incident
    assert pressed.id == inc.id
    assert not pressed.restored


# ---- 1-3-5 timers ------------------------------------------------------------------------------------
def test_each_missed_target_escalates_once() -> None:
    b = book()
    inc = b.raise_alarm(kind="panic", source=GATE, now=T0).incident
    assert b.next_deadline() == T0 + 60
    assert b.due(T0 + 59.9) == []
    late = b.due(T0 + 60)
    assert [(c.change, c.target) for c in late] == [("escalated", "respond")]
    assert late[0].event_type == "alarm.escalated"
    assert b.due(T0 + 61) == []  # once per target
    assert b.next_deadline() == T0 + 180
    b.dispatch(inc.id, now=T0 + 100)
    b.arrive(inc.id, now=T0 + 170)  # arrive target met: no escalation for it
    assert b.next_deadline() == T0 + 300
    assert [c.target for c in b.due(T0 + 400)] == ["resolve"]
    got = b.get(inc.id)
    assert got.missed == ["respond", "resolve"]
    assert got.escalations == 2
    assert [e.what for e in got.timeline].count("escalated") == 2


def test_a_long_outage_escalates_every_passed_target_at_once() -> None:
    b = book()
    b.raise_alarm(kind="panic", source=GATE, now=T0)
    assert [c.target for c in b.due(T0 + 1000)] == ["respond", "arrive", "resolve"]
    assert b.next_deadline() is None


def test_acknowledge_alone_does_not_meet_the_respond_target() -> None:
    b = book()
    inc = b.raise_alarm(kind="panic", source=GATE, now=T0).incident
    b.acknowledge(inc.id, now=T0 + 10)
    assert [c.target for c in b.due(T0 + 60)] == ["respond"]


def test_targets_are_per_city_config_and_kept_by_old_incidents() -> None:
    b = IncidentBook(targets=Targets(respond_s=1, arrive_s=3, resolve_s=5))
    inc = b.raise_alarm(kind="panic", source=GATE, now=T0).incident
    assert inc.deadlines.resolve == T0 + 5
    reloaded = IncidentBook(targets=Targets(), incidents=[inc])
    assert reloaded.get(inc.id).deadlines.resolve == T0 + 5
    assert reloaded.next_deadline() == T0 + 1


def test_closed_incidents_beyond_keep_closed_are_forgotten() -> None:
    b = IncidentBook(targets=Targets(), keep_closed=2)
    ids = []
    for n in range(4):
        inc = b.raise_alarm(kind="panic", source=Source(kind="kiosk", site=f"s{n}"), now=T0 + n).incident
        b.close(inc.id, outcome="test", now=T0 + n + 0.5)
        ids.append(inc.id)
    assert [i.id for i in b.listing(include_closed=True)] == [ids[3], ids[2]]


# ---- persistence ---------------------------------------------------------------------------------------
def test_store_replays_the_journal_onto_the_snapshot_with_deadlines_and_unsent_events(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path, journal_bytes=64 << 10)
    assert store.open().incidents == []
    store.checkpoint([], [], now=T0)
    b = book()
    raised = b.raise_alarm(kind="panic", source=GATE, now=T0)
    pending = pending_event(raised)
    assert store.record(incidents=[raised.incident], unsent=[pending])
    acked = b.acknowledge(raised.incident.id, now=T0 + 2, by="7788")
    assert store.record(incidents=[acked.incident], unsent=[pending_event(acked)])
    assert store.record(sent=[pending.key], durable=False)
    store.close()  # as if killed: no checkpoint
    again = IncidentStore(tmp_path, journal_bytes=64 << 10)
    back = again.open()
    assert back.incidents == [acked.incident]
    assert [p.key for p in back.unsent] == [pending_event(acked).key]
    resumed = IncidentBook(targets=Targets(), incidents=back.incidents)
    assert resumed.get(raised.incident.id).deadlines == raised.incident.deadlines
    assert [c.target for c in resumed.due(T0 + 60)] == ["respond"]
    again.close()


def test_checkpoint_starts_a_new_epoch_and_old_records_are_never_replayed(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path, journal_bytes=64 << 10)
    store.open()
    b = book()
    first = b.raise_alarm(kind="panic", source=GATE, now=T0)
    second = b.raise_alarm(kind="panic", source=BACK, now=T0)
    assert store.record(incidents=[first.incident])
    assert store.record(incidents=[second.incident])
    store.checkpoint([first.incident], [], now=T0)  # the state says: only the first one
    store.close()
    reopened = IncidentStore(tmp_path, journal_bytes=64 << 10)
    assert reopened.open().incidents == [first.incident]
    reopened.close()


def test_a_torn_record_ends_the_replay_and_a_full_journal_asks_for_a_checkpoint(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path, journal_bytes=64 << 10)
    store.open()
    b = book()
    first = b.raise_alarm(kind="panic", source=GATE, now=T0)
    second = b.raise_alarm(kind="panic", source=BACK, now=T0)
    assert store.record(incidents=[first.incident])
    at = store._offset
    assert store.record(incidents=[second.incident])
    store.close()
    with (tmp_path / "incidents.journal").open("r+b") as f:  # a crash in the middle of the second write
        f.seek(at + 40)
        f.write(b"#")
    reopened = IncidentStore(tmp_path, journal_bytes=64 << 10)
    assert reopened.open().incidents == [first.incident]
    assert reopened._offset == at  # the next record overwrites the torn one
    big = [b.raise_alarm(kind="panic", source=Source(kind="kiosk", site=f"s{n}"), now=T0).incident for n in range(80)]
    while reopened.record(incidents=big):
        pass
    assert reopened.usage > 0.5
    reopened.checkpoint(big, [], now=T0)
    assert reopened.usage == 0
    assert reopened.record(incidents=big[:1])
    reopened.close()


def test_damaged_snapshot_is_moved_aside_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "incidents.json").write_bytes(b'{"v": 1, "incidents": [{"id": ')
    store = IncidentStore(tmp_path)
    assert store.open().incidents == []
    store.close()
    assert (tmp_path / "incidents.damaged").exists()


def test_failed_checkpoint_leaves_the_previous_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = IncidentStore(tmp_path, journal_bytes=64 << 10)
    store.open()
    b = book()
    b.raise_alarm(kind="panic", source=GATE, now=T0)
    store.checkpoint(list(b), [], now=T0)

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(os, "replace", refuse)  # the new snapshot cannot take the old one's place
        with pytest.raises(OSError):
            store.checkpoint([], [], now=T0)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temp file left behind
    store.close()
    again = IncidentStore(tmp_path, journal_bytes=64 << 10)
    assert len(again.open().incidents) == 1
    again.close()


def test_every_change_is_a_valid_alarm_event_payload() -> None:
    b = book()
    inc = b.raise_alarm(kind="panic", source=GATE, now=T0).incident
    changes = [
        b.raise_alarm(kind="panic", source=GATE, now=T0 + 1),
        b.restore(source=GATE, now=T0 + 2),
        b.acknowledge(inc.id, now=T0 + 3),
        *b.due(T0 + 60),
        b.dispatch(inc.id, now=T0 + 61, unit="P3"),
        b.arrive(inc.id, now=T0 + 90),
        b.close(inc.id, outcome="real", now=T0 + 120),
    ]
    types = []
    for change in changes:
        assert change is not None
        p = pending_event(change)
        data = payloads.validate(p.type, p.data)
        decoded = msgspec.convert(data, IncidentChanged)
        assert decoded.incident.rev == change.incident.rev
        assert p.key == f"{inc.id}:{change.incident.rev}"
        types.append(p.type)
    assert types == [
        "alarm.merged",
        "alarm.restored",
        "alarm.acknowledged",
        "alarm.escalated",
        "alarm.dispatched",
        "alarm.on_scene",
        "alarm.closed",
    ]
    assert all(PendingEvent(key="k", type=t, priority=3, data={}) for t in types)


# ---- inputs ------------------------------------------------------------------------------------------
CONFIG = AlarmsSection.model_validate(
    {
        "enabled": True,
        "schools": [
            {
                "account": "1234",
                "name": "阳光小学",
                "name_en": "Sunshine Primary School",
                "points": [{"zone": 1, "name": "正门一键报警", "name_en": "Main gate button"}],
            }
        ],
    }
)


def _msg(token: Dc09Token, data: str, account: str = "1234") -> Dc09Message:
    return Dc09Message(token, False, 1, None, "0", account, data)


def test_contact_id_panic_and_restore_become_signals_with_names() -> None:
    panic = build_adm_cid_data(account="1234", qualifier=EventQualifier.NEW, code=120, group=1, zone=1)
    [sig] = dc09_signals(CONFIG, _msg(Dc09Token.ADM_CID, panic))
    assert (sig.action, sig.kind, sig.source.site, sig.source.point, sig.source.zone) == (
        "raise",
        "panic",
        "阳光小学",
        "正门一键报警",
        1,
    )
    restore = build_adm_cid_data(account="1234", qualifier=EventQualifier.RESTORE, code=121, group=1, zone=1)
    [back] = dc09_signals(CONFIG, _msg(Dc09Token.ADM_CID, restore))
    assert (back.action, back.kind) == ("restore", "duress")
    burglary = build_adm_cid_data(account="1234", qualifier=EventQualifier.NEW, code=130, group=1, zone=4)
    assert dc09_signals(CONFIG, _msg(Dc09Token.ADM_CID, burglary)) == []
    assert dc09_signals(CONFIG, _msg(Dc09Token.NULL, "")) == []


def test_sia_holdup_from_an_unlisted_account_still_raises() -> None:
    data = build_sia_dcs(account="9F9", code="HA", zone="03", area="1")
    [sig] = dc09_signals(CONFIG, _msg(Dc09Token.SIA_DCS, data, account="9F9"))
    assert sig.kind == "holdup"
    assert sig.source.account == "9F9"
    assert "9F9" in sig.source.site_en
    assert sig.source.zone == 3
    assert sig.source.point_en == "Zone 3"
    with pytest.raises(SignalError):
        dc09_signals(CONFIG, _msg(Dc09Token.ADM_CID, "garbage"))


def test_modbus_press_raises_and_release_restores_only_locking_buttons() -> None:
    module = ModbusModuleSection.model_validate(
        {
            "name": "gate-io",
            "port": "socket://127.0.0.1:1",
            "buttons": [
                {"input": 0, "site": "阳光小学", "point": "东门"},
                {"input": 1, "site": "阳光小学", "point": "西门", "restore_on_release": True, "kind": "duress"},
            ],
        }
    )
    sig = modbus_signal(module, 0, True)
    assert sig is not None
    assert sig.action == "raise"
    assert sig.source.account == "gate-io"
    assert sig.source.zone == 0
    assert modbus_signal(module, 0, False) is None
    back = modbus_signal(module, 1, False)
    assert back is not None
    assert back.action == "restore"
    assert back.kind == "duress"
    assert modbus_signal(module, 5, True) is None


# ---- siren policy and links --------------------------------------------------------------------------
def test_siren_policy_raised_open_and_manual_switch() -> None:
    b = book()
    policy = SirenPolicy(SirenSection(siren="raised", strobe="open"))
    assert policy.wanted(b) == OutputState(False, False)
    inc = b.raise_alarm(kind="panic", source=GATE, now=T0).incident
    assert policy.wanted(b) == OutputState(True, True)
    b.acknowledge(inc.id, now=T0 + 1)
    assert policy.wanted(b) == OutputState(False, True)
    policy.manual = False  # the crew silences everything
    assert policy.wanted(b) == OutputState(False, False)
    policy.new_alarm()  # the next alarm sounds again
    assert policy.wanted(b) == OutputState(False, True)
    policy.manual = True
    policy.new_alarm()  # a manual "on" stays on
    assert policy.wanted(b) == OutputState(True, True)
    assert SirenPolicy(SirenSection(siren="off", strobe="off")).wanted(b) == OutputState(False, False)


def test_link_table_reports_each_transition_once() -> None:
    links = LinkTable()
    links.add("dc09", "1234", "阳光小学", now=T0)
    assert links.rows()[0].state == "unknown"
    assert links.set("dc09", "1234", "ok", now=T0 + 1) is not None
    assert links.set("dc09", "1234", "ok", now=T0 + 2) is None
    lost = links.set("dc09", "1234", "lost", now=T0 + 3)
    assert lost is not None
    assert lost.since == T0 + 3
    assert links.set("dc09", "1234", "lost", now=T0 + 4) is None


def test_reject_tally_reports_per_period_and_clears_quiet_accounts() -> None:
    tally = RejectTally()
    tally.add("1234", nak=True, reason="time-window", clock_error_s=-3600.0, panic=True, delivered=False)
    tally.add("1234", nak=False, reason="undecryptable", clock_error_s=None, panic=False, delivered=False)
    reports, cleared = tally.flush()
    assert reports == [
        {
            "account": "1234",
            "naks": 1,
            "duhs": 1,
            "reasons": {"time-window": 1, "undecryptable": 1},
            "clock_error_s": -3600.0,
            "panic_refused": True,
            "delivered_anyway": 0,
        }
    ]
    assert cleared == []
    assert tally.flush() == ([], ["1234"])


# ---- configuration -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"schools": [{"account": "12G4", "name": "x"}]}, "hex"),
        ({"schools": [{"account": "1234", "name": "x", "key": "00" * 15}]}, "32, 48 or 64"),
        ({"schools": [{"account": "1234", "name": "a"}, {"account": "1234", "name": "b"}]}, "listed twice"),
        ({"dc09": {"port_tcp": 70000}}, "less than or equal to 65535"),
        ({"dc09": {"port_tcp": None, "port_udp": None}}, "port_tcp or port_udp"),
        ({"targets": {"respond_s": 200, "arrive_s": 100}}, "respond_s <= arrive_s"),
        ({"modbus": [{"name": "m", "port": "p", "buttons": [{"input": 9, "site": "x"}]}]}, "beyond input_count"),
        ({"modbus": [{"name": "m", "port": "p", "siren_coil": 1, "strobe_coil": 1}]}, "different coils"),
        ({"schools": [{"account": "1234", "name": "x", "colour": "red"}]}, "Extra inputs"),
    ],
)
def test_config_refuses_bad_values(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AlarmsSection.model_validate({"enabled": True, **data})


def test_config_normalises_accounts_and_keys() -> None:
    cfg = AlarmsSection.model_validate({"schools": [{"account": "abc1", "name": "x", "key": "AB" * 16}]})
    school = cfg.school("ABC1")
    assert school is not None
    assert school.account == "ABC1"
    assert school.key == "ab" * 16


# ---- the component on a stub daemon: API errors, journal resume, timers ---------------------------------
def component(config: dict[str, Any] | None = None) -> AlarmComponent:
    return AlarmComponent(AlarmsSection.model_validate({"enabled": True, "dc09": None, **(config or {})}))


async def settle(predicate: Any, what: str) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


async def test_api_errors_are_json_rpc_errors_with_clear_codes(tmp_path: Path) -> None:
    daemon = FakeContext(tmp_path)
    comp = component({"siren": {"manual": False}})
    await comp.start(daemon)
    try:
        api = daemon
        inc = await api.call("incidents.raise", {"kind": "emergency", "site": "站前广场", "source": "kiosk"})
        assert inc["source"]["kind"] == "kiosk"
        assert inc["state"] == "raised"
        for method, params, code in [
            ("incidents.ack", {"id": inc["id"], "badge": "1"}, -32602),
            ("incidents.get", {"id": "INC-none"}, -32004),
            ("incidents.close", {"id": inc["id"], "outcome": "maybe"}, -32602),
            ("incidents.raise", {"kind": "fire", "site": "x"}, -32602),
            ("incidents.raise", {"site": "x", "source": "dc09"}, -32602),
            ("incidents.ack", {"id": inc["id"], "by": "x" * 65}, -32602),
            ("alarms.siren", {"on": True}, -32009),
        ]:
            with pytest.raises(ApiError) as err:
                await api.call(method, params)
            assert err.value.code == code, (method, params)
        await api.call("incidents.close", {"id": inc["id"], "outcome": "false_alarm"})
        with pytest.raises(ApiError) as err:
            await api.call("incidents.ack", {"id": inc["id"]})
        assert err.value.code == -32009
        assert "already closed" in err.value.message
        await settle(lambda: len(daemon.events) == 2, "both events")
        assert [t for t, _ in daemon.events] == ["alarm.raised", "alarm.closed"]
        assert [p["change"] for t, p in api.published if t == "incidents"] == ["raised", "closed"]
    finally:
        await comp.stop()


async def test_a_crashed_component_resumes_from_the_journal_and_resends_unsent_events(tmp_path: Path) -> None:
    daemon = FakeContext(tmp_path)
    comp = component()

    async def never(type_: str, priority: Priority, data: dict[str, Any]) -> StoredEvent:
        await asyncio.Event().wait()  # the outbox never answers: the event stays unsent
        raise AssertionError("unreachable")

    daemon.emit = never  # type: ignore[method-assign]
    await comp.start(daemon)
    inc = await daemon.call("incidents.raise", {"site": "站前广场", "by": "7703"})
    for task in list(comp._emits):  # "SIGKILL": no stop(), no checkpoint
        task.cancel()
    assert comp._writer is not None
    await comp._writer.close()  # closes the journal file, no checkpoint
    if comp._timer is not None:
        comp._timer.cancel()
    daemon2 = FakeContext(tmp_path)
    comp2 = component()
    await comp2.start(daemon2)
    try:
        assert comp2.book.get(inc["id"]).deadlines.respond == inc["deadlines"]["respond"]
        await settle(lambda: daemon2.events, "the unsent event submitted again")
        assert daemon2.events[0][0] == "alarm.raised"
        assert daemon2.events[0][1]["incident"]["id"] == inc["id"]
    finally:
        await comp2.stop()


async def test_the_timer_escalates_a_missed_target_and_re_alerts_the_crew(tmp_path: Path) -> None:
    daemon = FakeContext(tmp_path)
    comp = component({"targets": {"respond_s": 0.05, "arrive_s": 60, "resolve_s": 60}})
    await comp.start(daemon)
    try:
        inc = await daemon.call("incidents.raise", {"site": "站前广场"})
        await settle(lambda: [p for t, p in daemon.published if p.get("change") == "escalated"], "escalation")
        escalated = [p for t, p in daemon.published if p.get("change") == "escalated"]
        assert escalated[0]["incident"]["id"] == inc["id"]
        assert escalated[0]["target"] == "respond"
        await settle(lambda: any(t == "alarm.escalated" for t, _ in daemon.events), "the escalation event")
        assert comp.book.next_deadline() == inc["deadlines"]["arrive"]
    finally:
        await comp.stop()


async def test_the_flush_runs_off_the_loop_and_the_crew_is_told_once_it_is_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = FakeContext(tmp_path)
    comp = component()
    await comp.start(daemon)
    flushing, release = threading.Event(), threading.Event()
    real = os.fdatasync

    def slow_fdatasync(fd: int) -> None:  # a disk under contention: the flush takes until released
        flushing.set()
        release.wait(10)  # a safety limit only: a flush on the loop would hold the loop this long
        real(fd)

    monkeypatch.setattr(os, "fdatasync", slow_fdatasync)
    try:
        call = asyncio.create_task(daemon.call("incidents.raise", {"site": "站前广场"}))
        await asyncio.to_thread(flushing.wait, 10)
        ran = asyncio.Event()
        asyncio.get_running_loop().call_soon(ran.set)
        await ran.wait()  # the loop runs while the journal thread waits for the disk
        assert not release.is_set()
        assert [t for t, _ in daemon.published] == []  # not told before the change is durable
        assert not call.done()
        release.set()
        inc = await call
        assert [(t, p["incident"]["id"]) for t, p in daemon.published] == [("incidents", inc["id"])]
    finally:
        release.set()
        await comp.stop()


async def test_changes_made_in_one_loop_step_are_saved_and_told_in_their_order(tmp_path: Path) -> None:
    daemon = FakeContext(tmp_path)
    comp = component()
    await comp.start(daemon)
    try:
        inc = await daemon.call("incidents.raise", {"site": "站前广场"})
        calls = [
            daemon.call(method, {"id": inc["id"], **extra})
            for method, extra in [
                ("incidents.ack", {}),
                ("incidents.dispatch", {"unit": "P1"}),
                ("incidents.arrive", {}),
                ("incidents.close", {"outcome": "test"}),
            ]
        ]
        await asyncio.gather(*calls)  # four transitions of one incident, submitted back to back
        told = [(p["change"], p["incident"]["rev"]) for t, p in daemon.published if t == "incidents"]
        assert [c for c, _ in told] == ["raised", "acknowledged", "dispatched", "on_scene", "closed"]
        assert [r for _, r in told] == sorted(r for _, r in told)
        final = comp.book.get(inc["id"])
        await settle(lambda: not comp._emits, "the events")
    finally:
        await comp.stop()
    store = IncidentStore(tmp_path)
    try:
        replayed = {i.id: i for i in store.open().incidents}
    finally:
        store.close()
    assert replayed[inc["id"]] == final  # the last state written is the last state made


async def test_a_failed_save_is_a_fault_the_crew_is_told_and_the_input_hears_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = FakeContext(tmp_path)
    comp = component()
    await comp.start(daemon)

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdatasync", full_disk)
    try:
        signals = modbus_signal(
            ModbusModuleSection.model_validate(
                {"name": "io", "port": "/dev/null", "buttons": [{"input": 0, "site": "门口"}]}
            ),
            0,
            True,
        )
        assert signals is not None
        assert await comp.raise_signals([signals], comp.now()) is False
        assert "alarm.store" in {f.code for f in daemon.faults.active()}
        assert [p["change"] for t, p in daemon.published if t == "incidents"] == ["raised"]
    finally:
        monkeypatch.undo()
        await comp.stop()
