"""The crew console's view-model: ordering, 1-3-5 timer states, alerting and re-alerting, focus, reloads,
school links and faults, all computed from incidents and a given `now` (no clock, no Qt)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.console import JPEG, T0, advanced, make_hit, make_incident
from ui.console.incident import parse_incident
from ui.console.model import ConsoleBoard
from ui.console.views import clock_text, duration_text
from ui.console.vision import CAMERA_POLL_S, CAMERA_POLL_STARTING_S, MAX_HITS


def board_with(*incidents: dict[str, Any], now: float = T0) -> ConsoleBoard:
    board = ConsoleBoard()
    board.set_connected(True, now)
    for inc in incidents:
        board.apply_incident("raised", inc)
    board.tick(now)
    return board


# ---- decoding ------------------------------------------------------------------------------------
def test_parse_incident_reads_the_contract_and_ignores_new_fields() -> None:
    inc = parse_incident({**make_incident(), "priority_hint": 3})
    assert inc.source.site == "阳光小学"
    assert inc.deadline("arrive") == T0 + 180
    assert inc.missed == ()


def test_parse_incident_rejects_a_wrong_type() -> None:
    with pytest.raises(ValueError, match="not an incident"):
        parse_incident({**make_incident(), "raised_at": "yesterday"})
    with pytest.raises(ValueError, match="not an incident"):
        parse_incident({"state": "raised"})


def test_missing_deadlines_fall_back_to_raised_plus_target() -> None:
    inc = parse_incident({**make_incident(), "deadlines": {}, "targets": {"respond_s": 30}})
    assert inc.deadline("respond") == T0 + 30
    assert inc.deadline("resolve") == T0 + 300


# ---- texts ---------------------------------------------------------------------------------------
def test_duration_text() -> None:
    assert duration_text(0) == "0:00"
    assert duration_text(65.9) == "1:05"
    assert duration_text(3725) == "1:02:05"
    assert duration_text(-5) == "0:00"


def test_clock_text_adds_the_date_only_for_another_day() -> None:
    assert len(clock_text(T0, T0 + 5)) == 8
    assert len(clock_text(T0, T0 + 3 * 86400)) == 14


# ---- one incident --------------------------------------------------------------------------------
def test_a_raised_incident_alerts_with_its_site_point_and_elapsed_time() -> None:
    board = board_with(make_incident())
    view = board.view(T0 + 83, "zh")
    assert view.alerting
    focus = view.focus
    assert focus is not None
    assert (focus.site, focus.site_other, focus.point, focus.point_other) == (
        "阳光小学",
        "Sunshine Primary School",
        "正门一键报警",
        "Main gate button",
    )
    assert focus.elapsed == "1:23"
    assert focus.raised_clock == clock_text(T0, T0 + 83)
    assert focus.alert_reasons == ("new",)
    assert focus.actions == ("ack", "dispatch", "close")
    en = board.view(T0 + 83, "en").focus
    assert en is not None
    assert (en.site, en.site_other) == ("Sunshine Primary School", "阳光小学")


def test_english_falls_back_to_the_chinese_name_when_there_is_no_english_one() -> None:
    inc = make_incident()
    inc["source"] = {**inc["source"], "site_en": ""}
    focus = board_with(inc).view(T0, "en").focus
    assert focus is not None
    assert (focus.site, focus.site_other) == ("阳光小学", "")


def timers(board: ConsoleBoard, now: float) -> dict[str, str]:
    focus = board.view(now).focus
    assert focus is not None
    return {t.name: t.status for t in focus.timers}


def test_timers_run_then_turn_amber_then_red() -> None:
    board = board_with(make_incident())
    assert timers(board, T0 + 10) == {"respond": "running", "arrive": "running", "resolve": "running"}
    assert timers(board, T0 + 45) == {"respond": "amber", "arrive": "running", "resolve": "running"}
    assert timers(board, T0 + 61) == {"respond": "red", "arrive": "running", "resolve": "running"}
    assert timers(board, T0 + 301)["resolve"] == "red"


def test_timers_met_in_time_are_green_and_met_late_stay_red() -> None:
    inc = advanced(make_incident(), "acknowledged", T0 + 20)
    inc = advanced(inc, "dispatched", T0 + 40)
    inc = advanced(inc, "on_scene", T0 + 200)
    board = board_with(inc, now=T0 + 210)
    focus = board.view(T0 + 210).focus
    assert focus is not None
    respond, arrive, resolve = focus.timers
    assert (respond.status, respond.used_s) == ("met", 40)  # respond: dispatched, as the engine counts it
    assert (arrive.status, arrive.remaining_s) == ("late", -20)
    assert resolve.status == "amber"
    assert focus.missed == ("arrive",)
    assert focus.actions == ("close",)


def test_the_daemons_missed_list_shows_red_even_before_the_local_clock_agrees() -> None:
    board = board_with(make_incident(missed=["respond"]))
    assert timers(board, T0 + 5)["respond"] == "red"


# ---- alerting ------------------------------------------------------------------------------------
def test_acknowledging_stops_the_alert() -> None:
    inc = make_incident()
    board = board_with(inc)
    board.apply_incident("acknowledged", advanced(inc, "acknowledged", T0 + 10))
    assert not board.tick(T0 + 11)
    view = board.view(T0 + 11)
    assert not view.alerting
    assert view.focus is not None
    assert view.focus.actions == ("dispatch", "arrive", "close")


def test_a_missed_target_re_alerts_once_until_silenced() -> None:
    inc = advanced(make_incident(), "acknowledged", T0 + 10)
    inc = advanced(inc, "dispatched", T0 + 30)
    board = board_with(inc, now=T0 + 31)
    assert not board.view(T0 + 31).alerting
    assert board.tick(T0 + 181) is True  # arrival overdue: the sound starts again
    view = board.view(T0 + 181)
    assert view.alerting
    assert view.focus is not None
    assert view.focus.alert_reasons == ("missed:arrive",)
    board.silence(inc["id"])
    assert board.tick(T0 + 182) is False
    assert not board.view(T0 + 182).alerting
    assert timers(board, T0 + 182)["arrive"] == "red"  # silenced, still shown as missed


def test_moving_the_incident_on_answers_its_re_alert() -> None:
    inc = advanced(make_incident(), "acknowledged", T0 + 10)
    inc = advanced(inc, "dispatched", T0 + 30)
    board = board_with(inc, now=T0 + 31)
    board.tick(T0 + 181)
    board.apply_incident("on_scene", advanced(inc, "on_scene", T0 + 190))
    board.tick(T0 + 191)
    assert not board.view(T0 + 191).alerting


def test_a_missed_response_while_raised_does_not_re_alert_after_the_acknowledgement() -> None:
    inc = make_incident()
    board = board_with(inc)
    board.tick(T0 + 70)
    board.apply_incident("acknowledged", advanced(inc, "acknowledged", T0 + 75))
    assert board.tick(T0 + 76) is False
    assert not board.view(T0 + 76).alerting


@pytest.mark.parametrize(("change", "reason"), [("escalated", "escalated"), ("merged", "pressed")])
def test_escalation_and_a_second_press_re_alert(change: str, reason: str) -> None:
    inc = advanced(make_incident(), "acknowledged", T0 + 10)
    board = board_with(inc, now=T0 + 11)
    board.apply_incident(change, {**inc, "presses": 2, "escalations": 1})
    assert board.tick(T0 + 12) is True
    focus = board.view(T0 + 12).focus
    assert focus is not None
    assert focus.alert_reasons == (reason,)


# ---- several incidents ---------------------------------------------------------------------------
def test_newest_alarm_on_top_and_a_new_alarm_takes_the_focus() -> None:
    old = advanced(make_incident("old", raised_at=T0), "acknowledged", T0 + 5)
    board = board_with(old, now=T0 + 6)
    board.select("old")
    board.apply_incident("raised", make_incident("new", raised_at=T0 + 100))
    assert board.tick(T0 + 101) is True
    view = board.view(T0 + 101)
    assert [v.id for v in view.incidents] == ["new", "old"]
    assert view.focus is not None
    assert view.focus.id == "new"


def test_the_crews_selection_stays_until_another_alarm_arrives() -> None:
    a, b = make_incident("a", raised_at=T0), make_incident("b", raised_at=T0 + 10)
    board = board_with(a, b, now=T0 + 11)
    assert board.view(T0 + 11).focus.id == "b"  # type: ignore[union-attr]
    board.select("a")
    board.tick(T0 + 12)
    assert board.view(T0 + 12).focus.id == "a"  # type: ignore[union-attr]
    board.apply_incident("raised", make_incident("c", raised_at=T0 + 20))
    board.tick(T0 + 21)
    assert board.view(T0 + 21).focus.id == "c"  # type: ignore[union-attr]


def test_a_closed_incident_leaves_the_board() -> None:
    inc = advanced(make_incident(), "acknowledged", T0 + 5)
    board = board_with(inc)
    board.apply_incident("closed", advanced(inc, "closed", T0 + 50, outcome="false_alarm"))
    board.tick(T0 + 51)
    view = board.view(T0 + 51)
    assert view.incidents == ()
    assert view.focus is None


def test_a_late_answer_does_not_undo_a_newer_notification() -> None:
    inc = make_incident()
    board = board_with(inc)
    board.apply_incident("dispatched", advanced(advanced(inc, "acknowledged", T0 + 5), "dispatched", T0 + 9))
    board.apply_incident("", advanced(inc, "acknowledged", T0 + 5))  # the ack call's answer, arriving late
    assert board.view(T0 + 10).focus.state == "dispatched"  # type: ignore[union-attr]


def test_reload_replaces_the_incidents_but_keeps_what_arrived_meanwhile() -> None:
    stale = make_incident("stale")
    board = board_with(stale)
    token = board.begin_reload()
    board.apply_incident("raised", make_incident("during", raised_at=T0 + 3))  # after the request went out
    board.load_incidents([make_incident("listed", raised_at=T0 + 1)], token)
    board.tick(T0 + 4)
    assert [v.id for v in board.view(T0 + 4).incidents] == ["during", "listed"]


def test_reload_does_not_resurrect_an_incident_closed_meanwhile() -> None:
    inc = advanced(make_incident("x"), "acknowledged", T0 + 1)
    board = board_with(inc)
    token = board.begin_reload()
    board.apply_incident("closed", advanced(inc, "closed", T0 + 2, outcome="test"))
    board.load_incidents([inc], token)
    assert board.view(T0 + 3).incidents == ()


def test_pending_call_disables_the_incidents_buttons() -> None:
    board = board_with(make_incident())
    board.pending.add("inc-1")
    assert board.view(T0).focus.pending  # type: ignore[union-attr]
    board.set_connected(False, T0 + 1)
    assert not board.view(T0 + 1).focus.pending  # type: ignore[union-attr]


# ---- links, faults, connection -------------------------------------------------------------------
def test_lost_links_are_listed_and_clear_when_restored() -> None:
    board = ConsoleBoard()
    board.load_links(
        [
            {"account": "1234", "site": "阳光小学", "state": "ok", "since": T0},
            {"account": "1235", "site": "实验中学", "state": "ok", "since": T0},
        ]
    )
    assert board.view(T0).lost_links == ()
    assert board.view(T0).links_total == 2
    board.apply_link({"topic": "alarm.links", "account": "1235", "site": "实验中学", "state": "lost"}, T0 + 60)
    lost = board.view(T0 + 61).lost_links
    assert [(v.site, v.since) for v in lost] == [("实验中学", T0 + 60)]
    board.apply_link({"account": "1235", "state": "ok"}, T0 + 90)
    assert board.view(T0 + 91).lost_links == ()


def test_faults_from_status_devices_and_notifications() -> None:
    board = ConsoleBoard()
    board.load_status(
        {
            "faults": [{"code": "outbox.disk_low", "message": "disk low", "severity": "warning"}],
            "devices": {"printer": "ok", "siren": "offline"},
        }
    )
    assert {f.code for f in board.view(T0).faults} == {"outbox.disk_low", "device.siren"}
    board.apply_fault({"topic": "faults", "code": "uplink.down", "active": True, "message": "hub unreachable"})
    board.apply_fault({"topic": "faults", "code": "outbox.disk_low", "active": False, "message": ""})
    faults = board.view(T0).faults
    assert [f.code for f in faults] == ["uplink.down", "device.siren"]  # errors before warnings


def test_disconnected_for_counts_from_the_first_loss() -> None:
    board = ConsoleBoard()
    board.set_connected(True, T0)
    board.set_connected(False, T0 + 10)
    board.set_connected(False, T0 + 20)
    view = board.view(T0 + 75)
    assert (view.connected, view.disconnected_for) == (False, "1:05")
    board.set_connected(True, T0 + 80)
    assert board.view(T0 + 81).disconnected_for == ""


# ---- watch-listed vehicles and cameras -------------------------------------------------------------
def test_a_hit_is_a_warning_with_its_plate_reason_camera_time_and_image() -> None:
    board = board_with()
    board.vision.apply_hit(make_hit())
    assert board.tick(T0 + 1) is True  # the tone starts
    view = board.view(T0 + 1)
    assert not view.alerting  # not the red alarm takeover
    alert = view.vision.alert
    assert alert is not None
    assert view.vision.alerting
    assert (alert.plate, alert.listed_plate, alert.near) == ("粤B8Z527", "粤B8Z527", False)
    assert alert.reason == "被盗车辆 stolen"
    assert (alert.camera, alert.camera_id, alert.clock, alert.priority) == (
        "东门 East gate",
        "gate-east",
        clock_text(T0, T0 + 1),
        1,
    )
    assert alert.image == JPEG
    assert [h.key for h in view.vision.hits] == [alert.key]
    assert board.tick(T0 + 2) is False  # the same hit does not restart the tone


def test_a_near_match_shows_both_plates() -> None:
    board = board_with()
    board.vision.apply_hit(make_hit("粤B8Z5Z7", listed="粤B8Z527"))
    alert = board.view(T0).vision.alert
    assert alert is not None
    assert (alert.plate, alert.listed_plate, alert.near) == ("粤B8Z5Z7", "粤B8Z527", True)


def test_noted_silences_the_hit_and_keeps_it_in_the_recent_list() -> None:
    board = board_with()
    key = board.vision.apply_hit(make_hit())
    board.tick(T0 + 1)
    board.vision.note(key)
    assert board.tick(T0 + 2) is False
    vision = board.view(T0 + 2).vision
    assert (vision.alert, vision.alerting, vision.unnoted) == (None, False, 0)
    assert [(h.key, h.noted) for h in vision.hits] == [(key, True)]
    assert board.view(T0 + 3601).vision.hits == ()  # a noted hit leaves the list after an hour


def test_the_same_hit_sent_twice_is_one_entry_and_stays_noted() -> None:
    board = board_with()
    key = board.vision.apply_hit(make_hit())
    board.vision.note(key)
    assert board.vision.apply_hit(make_hit()) == key
    vision = board.view(T0).vision
    assert len(vision.hits) == 1
    assert vision.alert is None


def test_priority_one_sorts_first_then_the_newest_and_noted_ones_last() -> None:
    board = board_with()
    p3_new = board.vision.apply_hit(make_hit("浙C67D90", at=T0 + 30, priority=3))
    p1_old = board.vision.apply_hit(make_hit("粤B8Z527", at=T0 + 10, priority=1))
    p1_new = board.vision.apply_hit(make_hit("京A0123警", at=T0 + 20, priority=1))
    noted = board.vision.apply_hit(make_hit("沪A12345", at=T0 + 40, priority=1))
    board.vision.note(noted)
    vision = board.view(T0 + 50).vision
    assert [h.key for h in vision.hits] == [p1_new, p1_old, p3_new, noted]
    assert vision.alert is not None
    assert (vision.alert.key, vision.unnoted) == (p1_new, 3)
    board.vision.note(p1_new)
    assert board.view(T0 + 50).vision.alert.key == p1_old  # type: ignore[union-attr]


def test_the_board_keeps_the_last_hits_dropping_noted_ones_first() -> None:
    board = board_with()
    first = board.vision.apply_hit(make_hit(camera="c0", at=T0))
    noted = board.vision.apply_hit(make_hit(camera="c1", at=T0 + 1))
    board.vision.note(noted)
    for i in range(2, MAX_HITS + 1):
        board.vision.apply_hit(make_hit(camera=f"c{i}", at=T0 + i))
    keys = {h.key for h in board.view(T0 + 100).vision.hits}
    assert len(keys) == MAX_HITS
    assert first in keys
    assert noted not in keys


def test_a_hit_without_a_valid_image_still_shows() -> None:
    board = board_with()
    board.vision.apply_hit(make_hit(plate_jpeg_b64=""))
    board.vision.apply_hit(make_hit(camera="other", plate_jpeg_b64="not base64!"))
    assert [h.image for h in board.view(T0).vision.hits] == [b"", b""]


def test_a_malformed_hit_is_refused() -> None:
    board = board_with()
    with pytest.raises(ValueError, match="not a vehicle hit"):
        board.vision.apply_hit({"camera": "gate-east"})
    with pytest.raises(ValueError, match="not a vehicle hit"):
        board.vision.apply_hit({**make_hit(), "seen_at": "now"})
    assert board.view(T0).vision.hits == ()


def cameras(*states: str) -> dict[str, Any]:
    return {
        "cameras": [
            {
                "id": f"cam-{i}",
                "name": f"摄像头{i}",
                "state": s,
                "detail": "",
                "hits": 0,
                "restarts_recent": 0,
                "telemetry": {},
            }
            for i, s in enumerate(states)
        ]
    }


def test_no_camera_line_until_the_daemon_answers_with_cameras() -> None:
    board = ConsoleBoard()
    assert board.view(T0).vision.cameras is None
    assert board.vision.camera_poll_s() is None
    board.vision.load_cameras(cameras("connected"))
    board.vision.forget_cameras()  # "method not found" after an upgrade the other way
    assert board.view(T0).vision.cameras is None


def test_camera_line_counts_online_and_names_the_down_ones() -> None:
    board = ConsoleBoard()
    board.vision.load_cameras(cameras("connected", "watch_list_installed", "ended", "failed", "starting"))
    line = board.view(T0).vision.cameras
    assert line is not None
    assert (line.total, line.online, line.starting, line.level) == (5, 2, 1, "warning")
    assert [(c.name, c.state) for c in line.down] == [("摄像头2", "ended"), ("摄像头3", "failed")]
    assert board.vision.camera_poll_s() == CAMERA_POLL_STARTING_S
    board.vision.load_cameras(cameras("connected", "connected"))
    line = board.view(T0).vision.cameras
    assert line is not None
    assert (line.online, line.down, line.level) == (2, (), "ok")
    assert board.vision.camera_poll_s() == CAMERA_POLL_S


def test_a_camera_fault_marks_the_camera_down_and_leaves_the_fault_list() -> None:
    board = ConsoleBoard()
    board.vision.load_cameras(cameras("connected", "connected"))
    board.load_status({"faults": [], "devices": {"camera.cam-1": "failed: no frames", "siren": "offline"}})
    board.apply_fault({"code": "camera.cam-1", "active": True, "message": "camera cam-1: disconnected: stalled"})
    board.apply_fault({"code": "camera.unknown", "active": True, "message": "not one of ours"})
    view = board.view(T0)
    assert view.vision.cameras is not None
    assert [(c.id, c.state) for c in view.vision.cameras.down] == [("cam-1", "fault")]
    assert [f.code for f in view.faults] == ["camera.unknown", "device.siren"]  # shown by name in the line instead
    board.apply_fault({"code": "camera.cam-1", "active": False, "message": ""})
    assert board.view(T0).vision.cameras.online == 2  # type: ignore[union-attr]


def test_a_malformed_camera_list_is_refused() -> None:
    board = ConsoleBoard()
    with pytest.raises(ValueError, match="not a camera list"):
        board.vision.load_cameras({"cameras": [{"name": "no id"}]})
    with pytest.raises(ValueError, match="not a camera list"):
        board.vision.load_cameras([])
    assert board.vision.cameras is None


# ---- the crew's controls: manual alarm, siren, history ------------------------------------------
def test_a_manual_alarm_needs_a_site_and_a_second_tap() -> None:
    board = board_with()
    manual = board.manual
    assert manual.confirm() is None  # nothing open: nothing to raise
    board.open_manual("阳光街警务站")
    assert board.view(T0).manual.site == "阳光街警务站"
    manual.set_kind("panic")
    manual.set_kind("holdup")  # not offered by hand: ignored
    assert manual.confirm() is None  # the first tap only reviews
    assert not manual.review("  ", "北侧")
    assert board.view(T0).manual.problem == "site_missing"
    assert not manual.review("x" * 65, "")
    assert manual.problem == "too_long"
    assert manual.review(" 阳光街警务站 ", " 北侧人行道 ")
    assert board.view(T0).manual.step == "confirm"
    manual.back()
    assert manual.step == "form" and manual.confirm() is None
    assert manual.review("阳光街警务站", "北侧人行道")
    params = manual.confirm("王警官")
    assert params == {
        "kind": "panic",
        "site": "阳光街警务站",
        "point": "北侧人行道",
        "source": "manual",
        "by": "王警官",
    }
    assert manual.confirm() is None  # never twice
    manual.cancel()
    assert manual.step == "sending"  # a call on its way cannot be cancelled
    manual.done("manual raise refused")
    assert (manual.step, manual.problem, manual.error) == ("form", "raise_failed", "manual raise refused")
    assert manual.review("阳光街警务站", "")
    manual.confirm()
    manual.done(None)
    assert board.view(T0).manual.step == "closed"


def test_a_new_alarm_closes_the_form_and_the_history() -> None:
    board = board_with()
    board.toggle_history()
    assert board.view(T0).history_open
    board.open_manual("站")  # one at a time
    assert not board.history_open and board.manual.step == "form"
    board.toggle_history()
    assert board.history_open and board.manual.step == "closed"
    board.open_manual("站")
    board.apply_incident("raised", make_incident())
    assert board.tick(T0)
    assert not board.history_open and board.manual.step == "closed"
    sending = board_with()
    sending.open_manual("站")
    sending.manual.review("站", "")
    sending.manual.confirm()
    sending.apply_incident("raised", make_incident())  # its own alarm, notified before the answer
    sending.tick(T0)
    assert sending.manual.step == "sending"
    sending.set_connected(False, T0)  # the answer will never come
    assert (sending.manual.step, sending.manual.problem) == ("form", "raise_failed")


def test_the_siren_switch_follows_the_daemons_answers() -> None:
    board = board_with()
    siren = board.siren
    assert board.view(T0).siren.on is None
    assert siren.request(True) == {"on": True}
    assert siren.request(False) is None  # one call at a time
    assert board.view(T0).siren.pending and not board.view(T0).siren.enabled
    siren.answered({"on": True})
    assert board.view(T0).siren == type(board.view(T0).siren)(True, False, False, "")
    siren.request(False)
    siren.answered({"on": False})
    board.apply_incident("acknowledged", advanced(make_incident(), "acknowledged", T0 + 5))
    assert siren.on is False  # a step of an incident leaves it
    board.apply_incident("raised", make_incident("inc-2"))
    assert siren.on is None  # a new alarm: the engine's policy decides again
    siren.request(True)
    siren.answered(None, -32000, "relay module offline")
    assert siren.error == "relay module offline" and siren.on is None and board.view(T0).siren.enabled
    siren.request(True)
    siren.answered(None, -32009, "manual siren control is disabled in this station's configuration")
    view = board.view(T0).siren
    assert view.refused and not view.enabled and view.error == ""
    assert siren.request(False) is None
    board.set_connected(False, T0)
    board.set_connected(True, T0)
    assert not siren.refused  # after a reconnection the daemon is asked again


def closed_incident(
    iid: str,
    *,
    raised_at: float = T0,
    outcome: str = "real",
    steps: dict[str, float | None],
    missed: tuple[str, ...] = (),
    **fields: Any,
) -> dict[str, Any]:
    inc = make_incident(iid, raised_at=raised_at, **fields)
    stamps = {"acked_at": steps.get("dispatched_at"), **steps}
    return {
        **inc,
        **{k: None if v is None else raised_at + v for k, v in stamps.items()},
        "state": "closed",
        "outcome": outcome,
        "missed": list(missed),
        "rev": 5,
    }


def test_the_history_shows_closed_incidents_with_outcome_and_response_times() -> None:
    board = board_with()
    board.toggle_history()
    assert board.history.want()
    assert not board.history.want()  # one request at a time: asked again when it answers
    on_time = closed_incident("a", steps={"dispatched_at": 41, "on_scene_at": 150, "closed_at": 280})
    late = closed_incident(
        "b",
        raised_at=T0 + 10,
        outcome="false_alarm",
        missed=("respond",),
        steps={"dispatched_at": 75, "on_scene_at": 170, "closed_at": 400},
    )
    skipped = closed_incident(
        "c", raised_at=T0 - 500, outcome="test", steps={"closed_at": 35}, source={"kind": "manual", "site": "站前广场"}
    )
    assert board.history.load([make_incident("open-1"), on_time, late, skipped])  # the second want()
    rows = board.view(T0 + 600, "en").history
    assert [r.id for r in rows] == ["b", "a", "c"]  # newest closed first; open incidents are not history
    b, a, c = rows
    assert (b.site, b.point, b.kind, b.outcome) == (
        "Sunshine Primary School",
        "Main gate button",
        "panic",
        "false_alarm",
    )
    assert [(x.name, x.used_s, x.status) for x in b.responses] == [
        ("dispatch", 75, "late"),
        ("arrive", 170, "met"),
        ("close", 400, "late"),
    ]
    assert [x.status for x in a.responses] == ["met", "met", "met"]
    assert a.raised_clock == clock_text(T0, T0 + 600)
    assert [(x.used_s, x.status) for x in c.responses] == [(None, "skipped"), (None, "skipped"), (35, "met")]
    assert (c.site, c.outcome, c.source_kind) == ("站前广场", "test", "manual")
    assert [x.target_s for x in a.responses] == [60, 180, 300]
    assert board.view(T0, "zh").history[0].site == "阳光小学"
    board.toggle_history()
    assert board.view(T0).history == ()  # computed only while on show


def test_a_closed_notification_reaches_the_history_at_once() -> None:
    board = board_with(make_incident("inc-1"))
    board.toggle_history()
    assert board.history.want()
    board.apply_incident("closed", closed_incident("inc-1", steps={"dispatched_at": 30, "closed_at": 90}))
    assert "inc-1" not in board.incidents
    assert [r.id for r in board.view(T0 + 100).history] == ["inc-1"]
    assert not board.history.load([])  # a list asked before the close: the notified one stays
    assert [r.id for r in board.view(T0 + 100).history] == ["inc-1"]
    assert board.history.want()
    assert not board.history.load([])  # a list asked after it that no longer has it (keep_closed)
    assert [r.id for r in board.view(T0 + 100).history] == []
    board.apply_incident("closed", closed_incident("inc-1", steps={"closed_at": 90}))
    assert board.history.want()
    assert not board.history.load(None)
    assert board.history.failed and [r.id for r in board.view(T0).history] == ["inc-1"]
    with pytest.raises(ValueError):
        board.history.load([{"state": "closed"}])
