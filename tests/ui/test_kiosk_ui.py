"""The touchscreen, offscreen with pytest-qt, against the real daemon, hub and Mosquitto, with the simulated
ID card reader and receipt printer on ptys. Also: WCAG contrast of the palette, targets, translations."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from edge.sim.broker import MosquittoProcess
from tests.support.clock import FakeClock
from tests.support.keyboard import dictionary_holds, type_keys, type_pinyin
from tests.support.paths import ROOT
from tests.support.procs import stored_events, wait_until
from tests.support.station import ID_NUMBER, Station, decode_escpos, sample_card
from ui.kiosk.i18n import QM_FILE, TS_FILE
from ui.kiosk.ime import dictionary_dir
from ui.kiosk.theme import COLORS, MIN_TARGET, TEXT_PAIRS, contrast_ratio
from ui.kiosk.window import KioskWindow
from ui.link import DaemonLink

# No Python Qt message handler (pytest-qt's log capture): with it, loading Qt Virtual Keyboard's QML hangs
# (PySide6 6.12: the main thread holds the GIL in setSource while a loader thread's log line waits for it).

PHONE = "13800138000"
SECRETS = ("张三丰", ID_NUMBER, PHONE, "景山前街")


@pytest.fixture
def station(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[Station]:
    st = Station(tmp_path, mosquitto)
    try:
        yield st.start()
    finally:
        st.close()


class Kiosk:
    def __init__(self, qtbot: QtBot, socket: Path) -> None:
        self.qtbot = qtbot
        self.clock = FakeClock()
        self.link = DaemonLink(socket, topics=["kiosk.*", "faults"], retry_max=0.5)
        self.w = KioskWindow(self.link, clock=self.clock)
        qtbot.addWidget(self.w)
        self.w.resize(1920, 1080)
        self.w.show()
        self.link.start()
        qtbot.waitUntil(lambda: self.w.stack.currentWidget() is self.w.attract, timeout=15000)

    def tap(self, widget: QWidget) -> None:
        assert widget.isVisible(), f"{widget} is not visible"
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)

    def start(self) -> None:
        self.tap(self.w.attract)
        assert self.w.stack.currentWidget() is self.w.home

    def service(self, sid: str) -> None:
        self.tap(self.w.home.tiles[sid])

    def type_keys(self, keys: str) -> None:
        assert self.w.keyboard.isVisible()
        type_keys(self.w.keyboard, keys)

    def type_pinyin(self, letters: str, word: str) -> None:
        assert self.w.keyboard.isVisible()
        type_pinyin(self.w.keyboard, letters, word)

    def field(self, name: str) -> None:
        assert self.w.form is not None
        edit = self.w.form.edits[name]
        self.tap(edit)
        self.qtbot.waitUntil(lambda: QApplication.focusWidget() is edit and self.w.isActiveWindow())

    def choice(self, name: str, index: int = 0) -> None:
        assert self.w.form is not None
        self.tap(self.w.form.choice_buttons[name][index])

    def submit_and_wait_result(self) -> dict[str, Any]:
        assert self.w.form is not None
        self.tap(self.w.form.send_button)
        self.qtbot.waitUntil(lambda: self.w.stack.currentWidget() is self.w.result, timeout=20000)
        return self.w.result.result

    def all_text(self) -> str:
        parts = []
        parts += [w.text() for w in self.w.findChildren(QLineEdit)]
        parts += [w.text() for w in self.w.findChildren(QLabel)]
        parts += [w.text() for w in self.w.findChildren(QPushButton)]
        parts += [w.toPlainText() for w in self.w.findChildren(QPlainTextEdit)]
        return "\n".join(parts)

    def close(self) -> None:
        self.link.stop()
        self.w.close()


@pytest.fixture
def kiosk_for(qtbot: QtBot) -> Iterator[Any]:
    made: list[Kiosk] = []

    def make(socket: Path) -> Kiosk:
        k = Kiosk(qtbot, socket)
        made.append(k)
        return k

    yield make
    for k in made:
        k.close()


def printed(st: Station, qtbot: QtBot, kiosk: Kiosk) -> list[str]:
    qtbot.waitUntil(lambda: kiosk.w.result._print_state == "printed", timeout=15000)
    assert st.printer is not None
    return decode_escpos(bytes(st.printer.received)).lines


# ---- flows ------------------------------------------------------------------------------------------
def test_report_with_card_tap_pinyin_and_receipt(station: Station, qtbot: QtBot, kiosk_for: Any) -> None:
    k = kiosk_for(station.edge.socket)
    k.start()
    k.service("report_dispute")
    form = k.w.form
    assert form is not None
    k.field("description")
    k.type_pinyin("jiufen", "纠纷")
    assert form.edits["description"].toPlainText() == "纠纷"
    k.field("location")
    k.type_pinyin("shennan", "深南")
    station.reader.place_card(sample_card())  # a card tap fills the form
    qtbot.waitUntil(lambda: form.values().get("name") == "张三丰", timeout=10000)
    assert form.edits["name"].text() == "张**"  # masked on screen
    k.field("phone")
    k.type_keys(PHONE)
    k.field("location")  # leaving the phone field masks it
    assert form.edits["phone"].text() == "138****8000"
    res = k.submit_and_wait_result()
    assert res["status"] == "submitted"
    assert k.w.result.ticket.text() == res["ticket"]
    assert res["ticket"].startswith("ST-K1-")
    lines = printed(station, qtbot, k)
    assert f"受理号：{res['ticket']}" in lines
    assert "姓名：张**" in lines
    assert "手机号码：138****8000" in lines
    assert PHONE not in "\n".join(lines)
    wait_until(
        lambda: any(e["type"] == "kiosk.report" for e in stored_events(station.db_url)),
        timeout=20,
        what="the report at the hub",
    )
    report = next(e for e in stored_events(station.db_url) if e["type"] == "kiosk.report")
    assert report["data"]["fields"]["description"] == "纠纷"
    assert report["data"]["fields"]["name"] == "张三丰"
    assert report["data"]["from_card"] is True
    # "finish" wipes the session
    k.tap(k.w.result.done_button)
    assert k.w.stack.currentWidget() is k.w.attract
    assert dictionary_holds(dictionary_dir(), ["纠纷", "深南"]) == []


def test_booking_takes_a_slot_and_other_services(station: Station, qtbot: QtBot, kiosk_for: Any) -> None:
    station.wait_linked()
    k = kiosk_for(station.edge.socket)
    k.start()
    k.tap(k.w.home.lang_button)  # English one tap away
    assert k.w.home.tiles["appt_id_card"].accessibleName() == "ID card appointment"
    k.service("appt_id_card")
    station.reader.place_card(sample_card())
    form = k.w.form
    assert form is not None
    qtbot.waitUntil(lambda: form.values().get("id_number") == ID_NUMBER, timeout=10000)
    assert form.edits["id_number"].text() == "110105********002X"
    k.field("phone")
    k.type_keys(PHONE)
    k.choice("date", 0)
    k.choice("period", 0)
    res = k.submit_and_wait_result()
    assert res["status"] == "booked"
    day = form.values()["date"] if k.w.form else None
    assert day is None  # the form is gone with its data
    assert "Appointment:" in k.w.result.slot.text()
    con = sqlite3.connect(str(station.tmp / "hub.db"))
    try:
        taken = con.execute("SELECT day, start, taken FROM kiosk_station_slots WHERE taken > 0").fetchall()
    finally:
        con.close()
    assert len(taken) == 1
    assert res["slot"] == f"{taken[0][0]} {taken[0][1]}"
    lines = printed(station, qtbot, k)
    assert f"Appointment: {res['slot']}" in lines
    k.tap(k.w.result.done_button)

    # traffic lookup (the plate's province through pinyin, then English capitals and digits)
    k.start()
    k.service("traffic_lookup")
    k.field("plate")
    k.type_pinyin("yue", "粤")
    k.w.keyboard.set_language("en_US")  # the globe key: capitals and digits
    k.type_keys("B12345")
    assert k.w.form.values()["plate"] == "粤B12345"
    res = k.submit_and_wait_result()
    assert res["status"] == "found"
    assert len(res["items"]) == 2
    assert "闯红灯" in k.all_text()
    k.tap(k.w.result.done_button)

    # queue ticket
    k.start()
    k.service("queue_ticket")
    k.choice("queue", 1)
    res = k.submit_and_wait_result()
    assert res["ticket"] == "B001"
    assert k.w.result.ticket.text() == "B001"
    k.tap(k.w.result.done_button)

    # call the officer on duty
    k.start()
    k.service("call_officer")
    qtbot.waitUntil(lambda: k.w.stack.currentWidget() is k.w.result, timeout=10000)
    assert k.w.result.result["status"] == "called"
    k.tap(k.w.result.done_button)

    # emergency: confirm first
    k.start()
    k.service("emergency")
    assert k.w.stack.currentWidget() is k.w.confirm
    k.tap(k.w.confirm.ok)
    qtbot.waitUntil(lambda: k.w.stack.currentWidget() is k.w.result, timeout=10000)
    assert k.w.result.result["status"] == "raised"
    wait_until(
        lambda: any(e["type"] == "kiosk.emergency" and e["priority"] == 3 for e in stored_events(station.db_url)),
        timeout=20,
        what="the emergency at the hub",
    )


def test_elder_mode_and_notices(station: Station, qtbot: QtBot, kiosk_for: Any) -> None:
    from tests.support.station import notice, notice_command, publish_command

    station.wait_linked()
    k = kiosk_for(station.edge.socket)
    publish_command(station.broker.url, "police/v1/all/cmd/kiosk.notices", notice_command("all", [notice("f1")]))
    qtbot.waitUntil(lambda: bool(k.w.notices), timeout=10000)
    qtbot.waitUntil(lambda: k.w.attract.title.text() == "警惕冒充公检法诈骗", timeout=5000)  # the attract loop
    k.start()
    k.tap(k.w.home.elder_button)
    assert set(k.w.home.tiles) == {
        "report_dispute",
        "queue_ticket",
        "notices",
        "call_officer",
        "emergency",
        "report_status",
    }
    small = k.w.home.lang_button.height()
    assert small >= MIN_TARGET * 1.3 - 1
    k.service("notices")
    assert "警惕冒充公检法诈骗" in k.all_text()
    k.tap(k.w.notices_screen.back_button)
    for tile in k.w.home.tiles.values():
        assert tile.height() >= MIN_TARGET
        assert tile.width() >= MIN_TARGET


def test_idle_timeout_wipes_everything(station: Station, qtbot: QtBot, kiosk_for: Any) -> None:
    k = kiosk_for(station.edge.socket)
    k.start()
    k.tap(k.w.home.lang_button)
    k.service("appt_household")
    station.reader.place_card(sample_card())
    form = k.w.form
    assert form is not None
    qtbot.waitUntil(lambda: form.values().get("name") == "张三丰", timeout=10000)
    k.field("phone")
    k.type_keys(PHONE)
    k.field("name")  # the card's name is shown while it is edited
    assert form.edits["name"].text() == "张三丰"
    k.w.keyboard.set_target(form.edits["name"], "pinyin")
    k.type_pinyin("zhang", "张")
    assert form.edits["name"].text() == "张三丰张"
    assert k.w.session.holds_resident_data
    warning = float(k.w.settings["idle_warning"])
    assert warning >= 20
    k.clock.t += float(k.w.settings["idle_timeout"]) - warning + 0.5
    k.w.tick()
    assert k.w.overlay.isVisible()
    assert "seconds" in k.w.overlay.body.text()
    k.tap(k.w.overlay.keep_button)  # "continue": the data stays
    assert not k.w.overlay.isVisible()
    assert k.w.session.holds_resident_data
    k.clock.t += float(k.w.settings["idle_timeout"]) - warning + 0.5
    k.w.tick()
    assert k.w.overlay.isVisible()
    k.clock.t += warning
    k.w.tick()
    qtbot.wait(50)
    assert k.w.stack.currentWidget() is k.w.attract
    assert k.w.form is None
    assert not k.w.session.holds_resident_data
    assert k.w.session.values == {}
    assert k.w.session.card is None
    assert dictionary_holds(dictionary_dir(), ["张三丰", "张"]) == []
    assert k.w.keyboard.composition == ""
    assert k.w.session.lang == "zh"
    text = k.all_text()
    for secret in (*SECRETS, "张**", "138****8000", "110105********002X"):
        assert secret not in text
    assert "请点击屏幕开始" in text  # back in Chinese


def test_offline_booking_is_queued_then_reaches_the_hub(
    tmp_path: Path, mosquitto: MosquittoProcess, qtbot: QtBot, kiosk_for: Any
) -> None:
    mosquitto.kill()
    st = Station(tmp_path, mosquitto)
    try:
        st.start(hub=False)
        k = kiosk_for(st.edge.socket)
        k.start()
        k.service("appt_id_card")
        st.reader.place_card(sample_card())
        form = k.w.form
        assert form is not None
        qtbot.waitUntil(lambda: form.values().get("name") == "张三丰", timeout=10000)
        k.field("phone")
        k.type_keys(PHONE)
        k.choice("date", 1)
        k.choice("period", 1)
        res = k.submit_and_wait_result()
        assert res["status"] == "queued"
        assert "恢复后自动提交" in k.w.result.message.text()
        lines = printed(st, qtbot, k)
        assert any("网络恢复后自动提交" in line for line in lines)
        assert f"受理号：{res['ticket']}" in lines
        mosquitto.start()
        st.hub.start()
        wait_until(
            lambda: any(
                e["type"] == "kiosk.request" and e["data"]["request_id"] == res["request_id"]
                for e in stored_events(st.db_url)
            ),
            timeout=30,
            what="the queued request at the hub",
        )
        wait_until(lambda: st.call("kiosk.pending")["pending"] == [], timeout=30, what="central's answer")
        resolved = st.call("kiosk.pending")["resolved"]
        assert resolved[0]["status"] == "booked"
    finally:
        st.close()


def test_out_of_service_screen_while_the_daemon_is_away(station: Station, qtbot: QtBot, kiosk_for: Any) -> None:
    k = kiosk_for(station.edge.socket)
    k.start()
    k.service("report_hazard")
    k.field("location")
    k.type_pinyin("lukou", "路口")
    station.edge.stop()
    qtbot.waitUntil(lambda: k.w.stack.currentWidget() is k.w.out_of_service, timeout=15000)
    assert "Out of service" in k.w.out_of_service.title.text()
    assert k.w.form is None  # what was entered is gone
    station.edge.start()
    qtbot.waitUntil(lambda: k.w.stack.currentWidget() is k.w.attract, timeout=20000)


# ---- palette, targets, translations -----------------------------------------------------------------
def test_palette_contrast_meets_wcag_aa() -> None:
    assert contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # the classic near miss
    for fg, bg in TEXT_PAIRS:
        ratio = contrast_ratio(COLORS[fg], COLORS[bg])
        assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f}"


def test_translation_file_covers_every_string_and_qm_is_current(tmp_path: Path) -> None:
    bindir = Path(sys.executable).parent
    ts = tmp_path / "fresh.ts"
    sources = sorted(str(p) for p in (ROOT / "ui" / "kiosk").glob("*.py"))
    subprocess.run(
        [str(bindir / "pyside6-lupdate"), *sources, "-no-obsolete", "-locations", "none", "-ts", str(ts)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    import xml.etree.ElementTree as ET

    def messages(path: Path) -> dict[str, str]:
        out = {}
        for m in ET.parse(path).getroot().iter("message"):
            tr = m.find("translation")
            assert tr is not None
            out[str(m.findtext("source"))] = "" if tr.get("type") == "unfinished" else (tr.text or "")
        return out

    fresh, committed = messages(ts), messages(TS_FILE)
    assert set(fresh) == set(committed), "run pyside6-lupdate and translate the new strings"
    assert all(committed.values()), "untranslated strings in kiosk_zh_CN.ts"
    qm = tmp_path / "fresh.qm"
    subprocess.run(
        [str(bindir / "pyside6-lrelease"), str(TS_FILE), "-qm", str(qm)], check=True, capture_output=True, timeout=120
    )
    assert qm.read_bytes() == QM_FILE.read_bytes(), "run pyside6-lrelease: the .qm is stale"


def test_screenshot_script_renders_every_screen_in_both_languages(qtbot: QtBot, tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("screenshots_kiosk", ROOT / "scripts" / "screenshots_kiosk.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([str(tmp_path), "--size", "1280x800"]) == 0
    shots = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(shots) == 34  # 17 screens
    assert {s.rsplit("_", 1)[1] for s in shots} == {"zh.png", "en.png"}
    assert all((tmp_path / s).stat().st_size > 5000 for s in shots)


def test_check_my_report_shows_progress_and_outcome_without_personal_data(
    station: Station, qtbot: QtBot, kiosk_for: Any
) -> None:
    fields = {"description": "楼道堆放杂物", "location": "景山前街4号", "name": "张三丰", "phone": PHONE}
    ticket = station.call("kiosk.submit", {"service": "report_dispute", "fields": fields})["ticket"]
    k = kiosk_for(station.edge.socket)
    k.start()
    k.service("report_status")
    screen = k.w.check_screen
    assert k.w.stack.currentWidget() is screen and k.w.keyboard.isVisible()

    def check(digits: str) -> None:
        screen.entry.clear()
        k.type_keys(digits)
        k.tap(screen.check_button)

    check(ticket[-6:])  # this station's report: the number alone
    qtbot.waitUntil(lambda: screen.headline.isVisible() and screen.headline.text() == "已受理", timeout=15000)
    for step in (
        {"action": "triage", "triage": "on_spot"},
        {"action": "resolve", "outcome": "已清理楼道"},
    ):
        station.call("orders.change", {"ticket": ticket, "by": "王警官", **step})
    check(ticket[-6:])
    qtbot.waitUntil(lambda: "已清理楼道" in screen.detail.text(), timeout=15000)
    assert screen.headline.text() == "已办结" and ticket in screen.reference.text()
    k.w.toggle_lang()
    assert screen.headline.text() == "Resolved" and "Outcome: 已清理楼道" in screen.detail.text()
    assert not any(s in k.all_text() for s in SECRETS)
    check("999999")  # not here: central is asked (it says unknown, or cannot answer yet)
    qtbot.waitUntil(lambda: screen.problem is not None and screen.check_button.isEnabled(), timeout=15000)
    assert screen.message.text() == screen.problem[1] and not screen.panel.isVisible()
    # the idle wipe leaves nothing of the check behind
    k.clock.t += 10_000
    k.w.tick()
    assert k.w.stack.currentWidget() is k.w.attract
    assert screen.entry.text() == "" and screen.status is None
