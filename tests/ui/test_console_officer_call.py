"""An officer call from the kiosk reaches the crew console (pytest-qt, offscreen) through the real daemon.

`police-kiosk edge` runs as a process with the kiosk component (its location configured) and, in the
first tests, the alarm engine with short 1-3-5 targets. The resident's "call the officer on duty" comes
from a client in the kiosk role (another uid, as the touchscreen is on a station) through
`edge.api.client`; the console reaches the daemon only through `DaemonLink`. Waits are "until it shows";
no test asserts a duration.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from edge.api.client import EdgeClient
from edge.sim.broker import MosquittoProcess, free_port
from tests.support.kiosk_role import KIOSK_UID, KioskCallError, call_as_kiosk, share_with_kiosk
from tests.support.procs import EdgeProc
from ui.console.sound import AlarmSound
from ui.console.text import Language
from ui.console.window import TOPICS, ConsoleWindow
from ui.link import DaemonLink

pytestmark = pytest.mark.slow

WAIT_MS = 30000  # a give-up, not a duration under test
STATION = "阳光街警务站"


class Daemon:
    """The edge daemon with the kiosk (at 一楼大厅) and, when `alarms`, the alarm engine."""

    def __init__(self, broker_url: str, *, alarms: bool) -> None:
        self.dir = share_with_kiosk(Path(tempfile.mkdtemp(prefix="officer-call-")))  # the kiosk user reaches it
        config = self.dir / "station.toml"
        port = free_port()
        config.write_text(
            f"""
[station]
name = "{STATION}"

[api]
kiosk_users = [{KIOSK_UID}]

[alarms]
enabled = {"true" if alarms else "false"}

[alarms.dc09]
host = "127.0.0.1"
port_tcp = {port}
port_udp = {port}

[alarms.targets]
respond_s = 0.5
arrive_s = 1.0
resolve_s = 600

[kiosk]
enabled = true
location = "一楼大厅"
location_en = "Ground-floor hall"
""",
            encoding="utf-8",
        )
        self.edge = EdgeProc(self.dir, station="ST-CALL", broker_url=broker_url, extra=["--config", str(config)])

    @property
    def socket(self) -> Path:
        return self.edge.socket

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """An admin tool's call (the test's own uid)."""

        async def one() -> Any:
            async with EdgeClient(self.socket, timeout=10) as client:
                return await client.call(method, params)

        return asyncio.run(one())

    def close(self) -> None:
        self.edge.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def open_console(qtbot: QtBot) -> Iterator[Callable[[Daemon], ConsoleWindow]]:
    opened: list[tuple[ConsoleWindow, DaemonLink, AlarmSound, Language]] = []

    def open_(daemon: Daemon) -> ConsoleWindow:
        link = DaemonLink(daemon.socket, topics=TOPICS, retry_min=0.05, retry_max=0.3)
        language, sound = Language("zh"), AlarmSound(use_qt=False, players=())
        window = ConsoleWindow(link, language=language, sound=sound, officer="王警官", tick_ms=100)
        qtbot.addWidget(window)
        opened.append((window, link, sound, language))
        window.resize(1600, 900)
        window.show()
        link.start()
        qtbot.waitUntil(lambda: window.station == STATION, timeout=WAIT_MS)
        return window

    yield open_
    for window, link, sound, language in opened:
        window.close()
        link.stop()
        sound.close()
        language.close()


def started(broker: MosquittoProcess, *, alarms: bool) -> Daemon:
    daemon = Daemon(broker.url, alarms=alarms)
    daemon.edge.start()
    return daemon


def wait_methods(qtbot: QtBot, daemon: Daemon, *names: str) -> None:
    """The daemon opens its socket before its components start."""
    qtbot.waitUntil(lambda: set(names) <= set(daemon.call("rpc.methods")), timeout=WAIT_MS)


def test_an_officer_call_is_announced_with_the_kiosk_location_and_escalates_unanswered(
    qtbot: QtBot, open_console: Callable[[Daemon], ConsoleWindow], mosquitto: MosquittoProcess
) -> None:
    daemon = started(mosquitto, alarms=True)
    try:
        wait_methods(qtbot, daemon, "kiosk.call_officer", "incidents.raise")
        console = open_console(daemon)
        with pytest.raises(KioskCallError) as refused:  # the kiosk client really is the kiosk role
            call_as_kiosk(daemon.socket, "incidents.list")
        assert refused.value.code == -32003
        answer = call_as_kiosk(daemon.socket, "kiosk.call_officer", {"service": "call_officer"})
        assert answer["status"] == "called"
        focus = console.ui.focus
        qtbot.waitUntil(lambda: console.ui.stack.currentIndex() == 1 and focus.view is not None, timeout=WAIT_MS)
        assert focus.view is not None
        iid = focus.view.id
        assert focus.kind.text() == "呼叫值班民警"  # not a school's "一键报警"
        assert focus.kind.property("call") == "true"
        assert focus.site.text() == STATION
        assert focus.point.text() == "一楼大厅"
        assert "Ground-floor hall" in focus.point_other.text()
        assert "警务站终端" in focus.point_other.text()  # the source: the station kiosk
        assert "群众在自助终端呼叫民警" in focus.reason.text()
        assert not console.ui.calls.isVisible()  # the incident stands for the call: no second announcement
        # nobody acknowledges: the engine escalates the missed targets, as for an alarm
        qtbot.waitUntil(lambda: {"respond", "arrive"} <= set(console.board.incidents[iid].missed), timeout=WAIT_MS)
        qtbot.waitUntil(focus.escalated.isVisible, timeout=WAIT_MS)
        assert focus.escalated.text().startswith("已上报指挥中心 ×")
        inc = daemon.call("incidents.get", {"id": iid})
        assert inc["kind"] == "officer_call"
        assert inc["state"] == "raised"
        assert inc["escalations"] >= 2
        assert [s["what"] for s in inc["timeline"]].count("escalated") >= 2
        assert inc["source"] == {
            "kind": "kiosk",
            "site": STATION,
            "site_en": "",
            "point": "一楼大厅",
            "point_en": "Ground-floor hall",
            "account": "",
            "zone": None,
        }
        qtbot.mouseClick(focus.buttons["ack"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: daemon.call("incidents.get", {"id": iid})["state"] == "acknowledged", timeout=WAIT_MS)
    finally:
        daemon.close()


def test_without_the_alarm_engine_the_call_is_a_banner_until_noted(
    qtbot: QtBot, open_console: Callable[[Daemon], ConsoleWindow], mosquitto: MosquittoProcess
) -> None:
    daemon = started(mosquitto, alarms=False)
    try:
        wait_methods(qtbot, daemon, "kiosk.call_officer")
        console = open_console(daemon)
        banner = console.ui.calls
        assert not banner.isVisible()
        assert call_as_kiosk(daemon.socket, "kiosk.call_officer", {"service": "call_officer"})["status"] == "called"
        qtbot.waitUntil(banner.isVisible, timeout=WAIT_MS)
        row = banner.rows[0]
        assert row.caption.text() == "呼叫值班民警"
        assert row.where.text().startswith(f"{STATION} · 一楼大厅 · Ground-floor hall · ")
        assert console.ui.stack.currentIndex() == 0  # no takeover: the screen stays as it was
        assert console.view is not None
        assert not console.view.alerting and not console.view.alarm_alerting  # the softer tone, not the alarm
        qtbot.wait(300)  # a few redraws: it stays until someone notes it
        assert banner.isVisible()
        console.toggle_language()
        assert row.caption.text() == "Officer call"
        assert row.where.text().startswith(f"{STATION} · Ground-floor hall · 一楼大厅 · ")
        qtbot.mouseClick(row.noted, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not banner.isVisible(), timeout=WAIT_MS)
        assert not console.board.calls.calls
    finally:
        daemon.close()
