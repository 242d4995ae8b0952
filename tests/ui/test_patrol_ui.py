"""The kiosk's patrol check-in screen, offscreen with pytest-qt, against the real daemon, hub and Mosquitto:
a signed roster from central, a card on the simulated reader (a pty), a code on the digit pad, a receipt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from edge.sim.broker import MosquittoProcess
from edge.wire.patrol import code_hash, id_hash
from tests.support.commands import signed
from tests.support.procs import stored_events, wait_until
from tests.support.station import CENTRAL, ID_NUMBER, Station, decode_escpos, publish_command, sample_card
from ui.kiosk.window import KioskWindow
from ui.link import DaemonLink

SALT = "3c" * 16
CODE = "48151623"


@pytest.fixture
def station(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[Station]:
    st = Station(tmp_path, mosquitto, station="ST-PT")
    try:
        yield st.start()
    finally:
        st.close()


def push_roster(st: Station) -> None:
    member = {
        "id_hash": id_hash(SALT, ID_NUMBER),
        "display_name": "老张",
        "role": "volunteer",
        "code_hash": code_hash(SALT, CODE),
    }
    args = {"version": 1, "issued_at": "2026-12-01T00:00:00Z", "salt": SALT, "members": [member]}
    publish_command(st.broker.url, "police/v1/all/cmd/patrol.roster", signed(CENTRAL, "patrol.roster", args))
    wait_until((st.edge.data_dir / "patrol-roster.json").exists, timeout=20, what="the roster taken")


def tap(qtbot: QtBot, widget: QWidget) -> None:
    assert widget.isVisible(), f"{widget} is not visible"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_check_in_by_card_and_by_code_with_receipts(station: Station, qtbot: QtBot) -> None:
    push_roster(station)
    link = DaemonLink(station.edge.socket, topics=["kiosk.*", "faults"], retry_max=0.5)
    w = KioskWindow(link)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    link.start()
    try:
        qtbot.waitUntil(lambda: w.stack.currentWidget() is w.attract, timeout=15000)
        tap(qtbot, w.attract)
        tap(qtbot, w.home.tiles["patrol_checkin"])
        assert w.stack.currentWidget() is w.patrol
        assert w.patrol.title.text() == "巡逻打卡"
        station.reader.place_card(sample_card())
        qtbot.waitUntil(lambda: w.stack.currentWidget() is w.result, timeout=15000)
        assert w.result.message.text() == "打卡成功：老张"
        assert w.session.card is None  # the member's card is not the session's
        qtbot.waitUntil(lambda: w.result._print_state == "printed", timeout=15000)
        assert station.printer is not None
        lines = decode_escpos(bytes(station.printer.received)).lines
        assert "打卡人：老张" in lines and "身份：巡防志愿者" in lines
        assert any(line.startswith("编号：ST-PT-") for line in lines)
        assert ID_NUMBER not in "\n".join(lines) and "张三丰" not in "\n".join(lines)
        # the code on the digit pad, in English; a wrong one first
        tap(qtbot, w.result.done_button)
        tap(qtbot, w.attract)
        tap(qtbot, w.home.lang_button)
        tap(qtbot, w.home.tiles["patrol_checkin"])
        assert w.patrol.send_button.text() == "Check in"
        for d in "11112222":
            tap(qtbot, w.patrol.digits[d])
        assert w.patrol.code_view.text() == "●" * 8  # never the digits
        tap(qtbot, w.patrol.send_button)
        qtbot.waitUntil(lambda: w.patrol.status.text() == "That check-in code is not right", timeout=10000)
        for d in CODE:
            tap(qtbot, w.patrol.digits[d])
        tap(qtbot, w.patrol.send_button)
        qtbot.waitUntil(lambda: w.stack.currentWidget() is w.result, timeout=15000)
        assert w.result.message.text() == "Checked in: 老张"
        texts = [x.text() for x in w.findChildren(QLabel)] + [x.text() for x in w.findChildren(QPushButton)]
        assert not any(CODE in t or ID_NUMBER in t for t in texts)
        wait_until(
            lambda: sum(e["type"] == "patrol.checkin" for e in stored_events(station.db_url)) == 2,
            timeout=20,
            what="both check-ins at the hub",
        )
        methods = [e["data"]["method"] for e in stored_events(station.db_url) if e["type"] == "patrol.checkin"]
        assert methods == ["card", "code"]
    finally:
        link.stop()
        w.close()
