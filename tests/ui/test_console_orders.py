"""The crew console's "Reports" page (pytest-qt, offscreen) against the real daemon with the kiosk and work
orders (the uplink down: every change waits in the outbox, marked "not synced"), and the page's
view-model on its own (announcement without takeover, an alarm closing the page)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QTableWidget
from pytestqt.qtbot import QtBot

from edge.api.client import EdgeClient
from tests.support.procs import EdgeProc, wait_until
from ui.console.orders import OrdersBoard
from ui.console.sound import AlarmSound
from ui.console.text import Language
from ui.console.window import TOPICS, ConsoleWindow
from ui.link import DaemonLink

WAIT_MS = 30000
PHONE = "13812345678"
NO_BROKER = "mqtt://127.0.0.1:9"


def call(edge: EdgeProc, method: str, params: dict[str, Any] | None = None) -> Any:
    async def one() -> Any:
        async with EdgeClient(edge.socket, timeout=10) as client:
            return await client.call(method, params)

    return asyncio.run(one())


def report(edge: EdgeProc, place: str = "幸福路12号") -> str:
    fields = {"description": "楼上噪音", "location": place, "name": "张三", "phone": PHONE}
    return str(call(edge, "kiosk.submit", {"service": "report_dispute", "fields": fields})["ticket"])


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[EdgeProc]:
    proc = EdgeProc(tmp_path, station="ST-CON", broker_url=NO_BROKER, extra=["--set", "kiosk.enabled=true"])
    proc.start()
    wait_until(lambda: "orders.list" in call(proc, "rpc.methods"), timeout=20, what="the orders component")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def console(qtbot: QtBot, edge: EdgeProc) -> Iterator[ConsoleWindow]:
    link = DaemonLink(edge.socket, topics=TOPICS, badge="A7", retry_min=0.05, retry_max=0.3)
    language = Language("zh")
    sound = AlarmSound(use_qt=False, players=())
    window = ConsoleWindow(link, language=language, sound=sound, officer="A7", tick_ms=100)
    qtbot.addWidget(window)
    window.resize(1600, 900)
    window.show()
    link.start()
    qtbot.waitUntil(lambda: window.orders.board.loaded, timeout=WAIT_MS)
    yield window
    window.close()
    link.stop()
    sound.close()
    language.close()


def click(qtbot: QtBot, button: QPushButton) -> None:
    assert button.isVisible(), button.text()
    qtbot.waitUntil(button.isEnabled, timeout=WAIT_MS)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def state_cell(table: QTableWidget) -> str:
    item = table.item(0, 5)
    return item.text() if item is not None else ""


def test_a_report_is_announced_then_worked_on_the_reports_page(
    qtbot: QtBot, console: ConsoleWindow, edge: EdgeProc
) -> None:
    page, button = console.orders.page, console.orders.button
    assert console.ui.stack.currentIndex() == 0  # idle: no alarm
    ticket = report(edge)
    number = ticket[-6:]
    # announced: a count on the button and a note; the screen stays where it was
    qtbot.waitUntil(lambda: button.text() == "报案工单 (1)", timeout=WAIT_MS)
    assert console.ui.message.isVisible() and f"新报案 {number}：纠纷" in console.ui.message.text()
    assert console.ui.stack.currentIndex() == 0

    click(qtbot, button)
    assert console.ui.stack.currentIndex() == console.orders.index and button.text() == "返回"
    table = page.table
    assert [table.item(0, c).text() for c in range(5)][:4] == [number, "纠纷", "幸福路12号", "138****5678"]  # type: ignore[union-attr]
    shown = "\n".join(w.text() for w in page.findChildren(QLabel))
    assert PHONE not in shown and "张三" not in shown

    click(qtbot, page.triage_buttons["on_spot"])
    qtbot.waitUntil(lambda: state_cell(table) == "已分流 · 未同步", timeout=WAIT_MS)  # the link is down
    page.officer.setText("李警官")
    click(qtbot, page.step_buttons["assign"])
    qtbot.waitUntil(lambda: state_cell(table).startswith("已指派"), timeout=WAIT_MS)
    click(qtbot, page.step_buttons["start"])
    qtbot.waitUntil(lambda: state_cell(table).startswith("处理中"), timeout=WAIT_MS)
    page.outcome.setText("双方已调解")
    click(qtbot, page.step_buttons["resolve"])
    qtbot.waitUntil(lambda: state_cell(table).startswith("已办结"), timeout=WAIT_MS)
    assert "结果：双方已调解" in page.lines.text() and "(4)" in page.lines.text()
    assert not any(b.isEnabled() for b in page.step_buttons.values())
    view = call(edge, "orders.get", {"ticket": ticket})
    assert [s["by"] for s in view["order"]["history"]] == ["A7"] * 4  # signed by the console's login

    # a step that needs a detail says so and sends nothing
    other = report(edge, place="福华三路")
    qtbot.waitUntil(lambda: len(console.orders.board.orders) == 2, timeout=WAIT_MS)
    console.orders.select(other)
    click(qtbot, page.triage_buttons["follow_up"])
    qtbot.waitUntil(page.step_buttons["assign"].isEnabled, timeout=WAIT_MS)
    page.officer.clear()
    click(qtbot, page.step_buttons["assign"])
    assert page.problem.text() == "请填写民警姓名"
    # another client's change moves the page too
    call(edge, "orders.change", {"ticket": other, "action": "refer", "outcome": "转交物业", "by": "值班长"})
    qtbot.waitUntil(lambda: page.ticket.text().endswith("已转办"), timeout=WAIT_MS)


def test_the_board_announces_without_taking_over_and_an_alarm_closes_the_page() -> None:
    order = {"ticket": "ST-1-000001", "station": "ST-1", "category": "hazard", "created_at": "2026-12-03T08:00:00Z"}
    board = OrdersBoard()
    board.load({"orders": []})
    assert board.apply("orders.new", {"order": order}) is not None
    view = board.view(0.0)
    assert (view.unseen, view.new_count, view.page_open) == (1, 1, False)
    assert board.apply("orders.changed", {"order": {**order, "state": "triaged"}, "pending": 1}) is None
    board.open_page()
    view = board.view(0.0)
    assert (
        view.unseen == 0
        and view.rows[0].pending == 1
        and view.rows[0].actions
        == (
            "triage",
            "assign",
            "resolve",
            "refer",
        )
    )
    with pytest.raises(ValueError):
        board.apply("orders.new", {"order": {"ticket": 5}})
    board.load(None)
    assert board.failed and board.orders  # a failed reload keeps what was shown


def test_a_station_without_work_orders_shows_no_reports_button(qtbot: QtBot, tmp_path: Path) -> None:
    proc = EdgeProc(tmp_path, station="ST-NOORD", broker_url=NO_BROKER)  # no kiosk: no work orders
    proc.start()
    link = DaemonLink(proc.socket, topics=TOPICS, retry_min=0.05, retry_max=0.3)
    language = Language("en")
    sound = AlarmSound(use_qt=False, players=())
    window = ConsoleWindow(link, language=language, sound=sound, tick_ms=100)
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.orders.button.isVisible()  # until the daemon says otherwise
        link.start()
        qtbot.waitUntil(lambda: not window.orders.button.isVisible(), timeout=WAIT_MS)
    finally:
        window.close()
        link.stop()
        sound.close()
        language.close()
        proc.stop()
