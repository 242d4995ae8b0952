"""The crew console on screen (pytest-qt, offscreen), talking to the real daemon.

Every console test runs `police-kiosk edge` as a process with the real alarm engine (a real Mosquitto
for its uplink): alarms come as DC-09 frames from a simulated school over a real socket, or through the
engine's `incidents.*` API from another client; the console reaches the daemon only through `DaemonLink`.
Waits are "until it shows"; no test asserts a duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
import time
import wave
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drivers.dc09.sender import Dc09Transmitter
from edge.api.client import ApiError, EdgeClient
from edge.sim.broker import MosquittoProcess, free_port
from edge.sim.school import PanelLink, SchoolPanel
from tests.support.procs import EdgeProc
from tests.support.require import require
from ui.console.sound import AlarmSound, write_tone
from ui.console.text import I18N_DIR, Language
from ui.console.views import clock_text
from ui.console.window import TOPICS, ConsoleWindow
from ui.link import DaemonLink

KEY = "000102030405060708090a0b0c0d0e0f"
WAIT_MS = 30000  # a give-up, not a duration under test: generous for a loaded 2-core machine


class Station:
    """A real edge daemon with the alarm engine, one school (account 1234, AES) and optional extras."""

    def __init__(
        self, tmp_path: Path, broker_url: str, *, targets: tuple[float, float, float] = (60, 180, 300), extra: str = ""
    ) -> None:
        self.port = free_port()
        config = tmp_path / "station.toml"
        config.write_text(
            f"""
[station]
name = "阳光街警务站"

[alarms]
enabled = true

[alarms.dc09]
host = "127.0.0.1"
port_tcp = {self.port}
port_udp = {self.port}

[alarms.targets]
respond_s = {targets[0]}
arrive_s = {targets[1]}
resolve_s = {targets[2]}

[[alarms.schools]]
account = "1234"
name = "阳光小学"
name_en = "Sunshine Primary School"
key = "{KEY}"
points = [{{ zone = 1, name = "正门一键报警", name_en = "Main gate button" }}]
{extra}
""",
            encoding="utf-8",
        )
        self.edge = EdgeProc(tmp_path, station="ST-CONSOLE", broker_url=broker_url, extra=["--config", str(config)])
        self.panels: dict[tuple[str, float], SchoolPanel] = {}  # one per school: its sequence numbers go on

    @property
    def socket(self) -> Path:
        return self.edge.socket

    def start(self) -> None:
        """Start the daemon and wait until the alarm engine listens (the API socket comes up first)."""
        self.edge.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.edge.alive:
            with contextlib.suppress(OSError, ApiError):
                if "dc09" in self.call("status.get").get("devices", {}):
                    return
            time.sleep(0.05)
        raise AssertionError(f"the alarm engine did not start:\n{self.edge.log()[-3000:]}")

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Another client of the daemon (e.g. a second console), one call on its own connection."""

        async def one() -> Any:
            async with EdgeClient(self.socket, timeout=10) as client:
                return await client.call(method, params)

        return asyncio.run(one())

    def press(
        self, action: str = "panic", *, account: str = "1234", key: str | None = KEY, clock_offset: float = 0.0
    ) -> str:
        """A school's panel sends one DC-09 frame over UDP; returns the receiver's answer (ACK, NAK...)."""

        async def send() -> str:
            keys = {account: bytes.fromhex(key)} if key else None
            link = PanelLink(host="127.0.0.1", port=self.port, udp=True, keys=keys)
            await link.open()
            try:
                panel = self.panels.get((account, clock_offset)) or self.panels.setdefault(
                    (account, clock_offset),
                    SchoolPanel(
                        Dc09Transmitter(account=account, key=bytes.fromhex(key) if key else None),
                        clock_offset=clock_offset,
                    ),
                )
                answer = await link.exchange(panel.frame(action)[1], timeout=10)  # type: ignore[arg-type]
                return answer.kind if answer is not None else "none"
            finally:
                await link.close()

        return asyncio.run(send())


@pytest.fixture
def station(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[Station]:
    st = Station(tmp_path, mosquitto.url)
    st.start()
    try:
        yield st
    finally:
        st.edge.stop()


class Clock:
    """The console's clock, moved by the test to show elapsed time and missed targets without waiting."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


Opener = Callable[..., ConsoleWindow]


@pytest.fixture
def open_console(qtbot: QtBot) -> Iterator[Opener]:
    """Opens consoles on a socket (offscreen, no audio: the "sound unavailable" note must show)."""
    opened: list[tuple[ConsoleWindow, DaemonLink, AlarmSound, Language]] = []

    def open_(socket: Path, clock: Callable[[], float] = time.time, lang: str = "zh") -> ConsoleWindow:
        link = DaemonLink(socket, topics=TOPICS, retry_min=0.05, retry_max=0.3)
        language = Language(lang)
        sound = AlarmSound(use_qt=False, players=())
        window = ConsoleWindow(link, language=language, sound=sound, officer="王警官", clock=clock, tick_ms=100)
        qtbot.addWidget(window)
        opened.append((window, link, sound, language))
        window.resize(1600, 900)
        window.show()
        link.start()
        return window

    yield open_
    for window, link, sound, language in opened:
        window.close()
        link.stop()
        sound.close()
        language.close()


@pytest.fixture
def console(qtbot: QtBot, open_console: Opener, station: Station) -> ConsoleWindow:
    window = open_console(station.socket)
    qtbot.waitUntil(lambda: window.station == "阳光街警务站" and bool(window.board.links), timeout=WAIT_MS)
    return window


def wait_focus(qtbot: QtBot, console: ConsoleWindow, site: str = "阳光小学") -> str:
    """Until the console shows an incident of `site` in focus; returns its id."""
    qtbot.waitUntil(
        lambda: (
            console.ui.stack.currentIndex() == 1
            and console.ui.focus.view is not None
            and console.ui.focus.site.text() == site
        ),
        timeout=WAIT_MS,
    )
    assert console.ui.focus.view is not None
    return console.ui.focus.view.id


def click(qtbot: QtBot, button: Any) -> None:
    assert button.isVisible(), button.text()
    # A step's notification can come before its call's answer; the buttons stay off until the answer is in.
    qtbot.waitUntil(button.isEnabled, timeout=WAIT_MS)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


# ---- tests ---------------------------------------------------------------------------------------
def test_a_dc09_panic_from_a_school_takes_over_the_screen(
    qtbot: QtBot, console: ConsoleWindow, station: Station
) -> None:
    assert console.ui.stack.currentIndex() == 0  # idle
    assert "1 所学校链路正常" in console.ui.strip.texts()
    qtbot.waitUntil(lambda: not console.cameras_pending, timeout=WAIT_MS)  # no vision here: "method not found"
    assert console.board.vision.cameras is None
    assert not any(t.startswith("摄像头") or t == "无法加载摄像头状态" for t in console.ui.strip.texts())
    assert not console.ui.hits.isVisible()
    assert station.press("panic") == "ACK"
    iid = wait_focus(qtbot, console)
    focus = console.ui.focus
    inc = station.call("incidents.get", {"id": iid})
    assert focus.point.text() == "正门一键报警"
    assert focus.site_other.text() == "Sunshine Primary School"
    assert focus.raised_at.text() == f"报警时间 {clock_text(inc['raised_at'], time.time())}"
    assert focus.kind.text() == "一键报警"
    assert focus.reason.text() == "新警情"
    assert focus.property("alert") in {"a", "b"}
    assert console.view is not None
    assert console.view.alerting
    assert focus.sound_note.isVisible()
    assert focus.sound_note.text() == "声音不可用"
    assert focus.buttons["ack"].isEnabled()
    assert "用户号 1234" in focus.point_other.text()
    assert station.press("panic") == "ACK"  # pressed again: merged into the same incident
    qtbot.waitUntil(lambda: focus.presses.text() == "已按 2 次" and focus.presses.isVisible(), timeout=WAIT_MS)
    assert [v.id for v in console.view.incidents] == [iid]


def test_the_elapsed_counter_and_a_missed_target_follow_the_consoles_clock(
    qtbot: QtBot, open_console: Opener, station: Station
) -> None:
    clock = Clock()
    console = open_console(station.socket, clock)
    inc = station.call(
        "incidents.raise", {"kind": "emergency", "site": "站前广场", "point": "自助终端", "source": "kiosk"}
    )
    wait_focus(qtbot, console, "站前广场")
    focus = console.ui.focus
    clock.now = inc["raised_at"] + 83
    console.refresh()
    assert focus.elapsed.text() == "1:23"
    assert [t.status for t in focus.timers] == ["red", "running", "running"]
    assert focus.timers[0].text.text() == "已超时 0:23"


def test_the_buttons_call_the_daemon_and_the_view_follows(
    qtbot: QtBot, console: ConsoleWindow, station: Station
) -> None:
    assert station.press("panic") == "ACK"
    iid = wait_focus(qtbot, console)
    focus = console.ui.focus
    click(qtbot, focus.buttons["ack"])
    qtbot.waitUntil(lambda: focus.state.text() == "已接警", timeout=WAIT_MS)
    assert focus.property("alert") == "off"
    focus.unit.setText("巡逻一组")
    click(qtbot, focus.buttons["dispatch"])
    qtbot.waitUntil(lambda: focus.state.text() == "已出警 · 巡逻一组", timeout=WAIT_MS)
    assert focus.timers[0].status == "met"
    click(qtbot, focus.buttons["arrive"])
    qtbot.waitUntil(lambda: focus.state.text().startswith("已到场"), timeout=WAIT_MS)
    assert [t.status for t in focus.timers] == ["met", "met", "running"]
    click(qtbot, focus.buttons["close"])
    assert focus.outcome_row.isVisible()
    click(qtbot, focus.outcomes["false_alarm"])
    qtbot.waitUntil(lambda: console.ui.stack.currentIndex() == 0, timeout=WAIT_MS)
    closed = station.call("incidents.get", {"id": iid})
    assert (closed["state"], closed["outcome"], closed["unit"]) == ("closed", "false_alarm", "巡逻一组")
    assert [(t["what"], t["by"]) for t in closed["timeline"]][1:] == [
        ("acknowledged", "王警官"),
        ("dispatched", "王警官"),
        ("on_scene", "王警官"),
        ("closed", "王警官"),
    ]


def test_notifications_move_the_view_and_a_refused_step_is_shown(
    qtbot: QtBot, console: ConsoleWindow, station: Station
) -> None:
    assert station.press("panic") == "ACK"
    iid = wait_focus(qtbot, console)
    focus = console.ui.focus
    station.call("incidents.ack", {"id": iid, "by": "另一台"})  # acknowledged at another console
    qtbot.waitUntil(lambda: focus.state.text() == "已接警", timeout=WAIT_MS)
    assert focus.property("alert") == "off"
    station.call("incidents.dispatch", {"id": iid, "by": "另一台"})
    qtbot.waitUntil(lambda: focus.state.text() == "已出警", timeout=WAIT_MS)
    station.call("incidents.close", {"id": iid, "outcome": "test", "by": "另一台"})
    focus.buttons["arrive"].click()  # clicked before the console heard of the close: the daemon refuses
    qtbot.waitUntil(lambda: console.ui.message.isVisible() and console.ui.stack.currentIndex() == 0, timeout=WAIT_MS)
    assert console.ui.message.text().startswith("到达现场失败：")
    assert "already closed" in console.ui.message.text()


def test_several_incidents_newest_on_top(qtbot: QtBot, console: ConsoleWindow, station: Station) -> None:
    assert station.press("panic") == "ACK"
    first = wait_focus(qtbot, console)
    click(qtbot, console.ui.focus.buttons["ack"])
    qtbot.waitUntil(lambda: console.ui.focus.state.text() == "已接警", timeout=WAIT_MS)
    second = station.call(
        "incidents.raise", {"kind": "emergency", "site": "站前广场", "point": "自助终端", "source": "kiosk"}
    )["id"]
    qtbot.waitUntil(lambda: console.ui.list.order() == [second, first], timeout=WAIT_MS)
    assert console.ui.list.isVisible()
    assert console.ui.focus.site.text() == "站前广场"  # the new alarm took over
    assert console.ui.focus.property("alert") in {"a", "b"}
    click(qtbot, console.ui.list.cards[first])
    assert console.ui.focus.site.text() == "阳光小学"


def test_the_language_toggle_switches_to_english(qtbot: QtBot, console: ConsoleWindow, station: Station) -> None:
    assert station.press("panic") == "ACK"
    wait_focus(qtbot, console)
    assert console.ui.focus.buttons["ack"].text() == "确认接警"
    click(qtbot, console.ui.lang_button)
    assert console.ui.focus.buttons["ack"].text() == "Acknowledge"
    assert console.ui.focus.site.text() == "Sunshine Primary School"
    assert console.ui.focus.point.text() == "Main gate button"
    click(qtbot, console.ui.lang_button)
    assert console.ui.focus.buttons["ack"].text() == "确认接警"


@pytest.mark.slow
def test_a_missed_target_turns_red_escalates_and_re_alerts(
    qtbot: QtBot, open_console: Opener, tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    station = Station(tmp_path, mosquitto.url, targets=(0.5, 1.5, 60))
    station.start()
    try:
        console = open_console(station.socket)
        assert station.press("panic") == "ACK"
        iid = wait_focus(qtbot, console)
        focus = console.ui.focus
        station.call("incidents.dispatch", {"id": iid, "by": "另一台"})  # respond met (or missed: either way)
        qtbot.waitUntil(lambda: focus.timers[1].status == "red", timeout=WAIT_MS)  # on scene not reached in time
        qtbot.waitUntil(
            lambda: "到场超时" in focus.reason.text() and focus.property("alert") in {"a", "b"}, timeout=WAIT_MS
        )
        # the engine escalated the missed arrival to central (its last escalation before resolve's, at 60 s)
        qtbot.waitUntil(lambda: "arrive" in console.board.incidents[iid].missed, timeout=WAIT_MS)
        assert focus.escalated.isVisible()
        assert focus.escalated.text().startswith("已上报指挥中心 ×")
        click(qtbot, focus.silence_button)
        assert focus.property("alert") == "off"
        assert focus.timers[1].status == "red"
    finally:
        station.edge.stop()


@pytest.mark.slow
def test_link_loss_and_faults_show_in_the_status_strip(
    qtbot: QtBot, open_console: Opener, tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    extra = """
[[alarms.schools]]
account = "2001"
name = "明德中学"
link_test_interval_s = 1
"""
    station = Station(tmp_path, mosquitto.url, extra=extra)
    station.start()
    try:
        console = open_console(station.socket)
        # listed with a 1 s link-test interval and never heard: the link is lost
        qtbot.waitUntil(
            lambda: any(t.startswith("链路中断：明德中学") for t in console.ui.strip.texts()), timeout=WAIT_MS
        )
        assert station.press("link", account="2001", key=None) == "ACK"
        qtbot.waitUntil(
            lambda: not any(t.startswith("链路中断：明德中学") for t in console.ui.strip.texts()), timeout=WAIT_MS
        )
        # a panel whose clock is an hour behind is refused (NAK): a fault the crew must see
        assert station.press("panic", clock_offset=-3600) == "NAK"
        qtbot.waitUntil(
            lambda: any(t.startswith("故障：") and "1234" in t for t in console.ui.strip.texts()), timeout=WAIT_MS
        )
    finally:
        station.edge.stop()


@pytest.mark.fault
def test_a_killed_daemon_shows_disconnected_and_recovers(
    qtbot: QtBot, console: ConsoleWindow, station: Station
) -> None:
    assert station.press("panic") == "ACK"
    iid = wait_focus(qtbot, console)
    assert not console.ui.overlay.isVisible()
    station.edge.kill()  # SIGKILL
    qtbot.waitUntil(console.ui.overlay.isVisible, timeout=WAIT_MS)
    assert console.ui.overlay.title.text() == "站务服务未连接"
    assert console.ui.conn.text() == "● 未连接"
    console.board.incidents.clear()  # forget what the console knew: it must come back from the daemon
    console.station = ""
    console.refresh()
    assert console.ui.stack.currentIndex() == 0
    station.start()
    qtbot.waitUntil(lambda: not console.ui.overlay.isVisible() and console.station == "阳光街警务站", timeout=WAIT_MS)
    assert console.ui.conn.text() == "● 已连接"
    assert wait_focus(qtbot, console) == iid  # the incident survived the restart and was reloaded
    assert console.ui.focus.property("alert") in {"a", "b"}  # still not acknowledged


# ---- the crew bar: manual alarm, siren, history ------------------------------------------------------
def test_a_manual_alarm_is_raised_only_after_the_confirmation(
    qtbot: QtBot, console: ConsoleWindow, station: Station
) -> None:
    bar, form = console.ui.crew, console.ui.manual
    assert bar.manual.text() == "手动报警"
    click(qtbot, bar.manual)
    assert console.ui.stack.currentWidget() is form
    assert form.site.text() == "阳光街警务站"  # the station itself, by default
    form.site.clear()
    click(qtbot, form.raise_button)
    assert form.problem.text() == "请填写地点"
    click(qtbot, form.kinds["panic"])
    form.site.setText("站前广场")
    form.point.setText("北侧人行道")
    click(qtbot, form.raise_button)
    assert form.question.text() == "立即发出“一键报警”报警：站前广场 · 北侧人行道？"
    assert not form.form_row.isVisible()
    assert station.call("incidents.list")["incidents"] == []  # the first tap raised nothing
    click(qtbot, form.confirm_button)
    wait_focus(qtbot, console, "站前广场")  # raised, notified, and it takes over like any other alarm
    assert console.ui.focus.kind.text() == "一键报警"
    assert console.ui.focus.point.text() == "北侧人行道"
    assert "值班人员录入" in console.ui.focus.point_other.text()
    assert console.board.manual.step == "closed"
    [inc] = station.call("incidents.list")["incidents"]
    assert (inc["kind"], inc["source"]["kind"], inc["source"]["site"]) == ("panic", "manual", "站前广场")
    assert inc["timeline"][0]["by"] == "王警官"


def test_the_siren_switch_shows_the_daemons_answer(qtbot: QtBot, console: ConsoleWindow, station: Station) -> None:
    bar = console.ui.crew
    assert bar.siren_state.text() == "警笛与警灯：未知"
    click(qtbot, bar.siren_on)
    qtbot.waitUntil(lambda: bar.siren_state.text() == "警笛与警灯：开启", timeout=WAIT_MS)
    assert bar.siren_on.property("current") == "true"
    click(qtbot, bar.siren_off)
    qtbot.waitUntil(lambda: bar.siren_state.text() == "警笛与警灯：关闭", timeout=WAIT_MS)
    assert station.press("panic") == "ACK"  # a new alarm: the engine's policy takes the relays back
    wait_focus(qtbot, console)
    assert bar.siren_state.text() == "警笛与警灯：未知"
    click(qtbot, console.ui.lang_button)
    assert bar.siren_on.text() == "Siren on"
    assert bar.siren_state.text() == "Siren and strobe: not known"


def test_a_refused_siren_switch_says_manual_control_is_disabled(
    qtbot: QtBot, open_console: Opener, tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    station = Station(tmp_path, mosquitto.url, extra="\n[alarms.siren]\nmanual = false\n")
    station.start()
    try:
        console = open_console(station.socket)
        bar = console.ui.crew
        qtbot.waitUntil(lambda: console.station == "阳光街警务站", timeout=WAIT_MS)
        click(qtbot, bar.siren_on)
        qtbot.waitUntil(lambda: bar.siren_state.text() == "本站已禁用手动警笛控制", timeout=WAIT_MS)
        assert not bar.siren_on.isEnabled() and not bar.siren_off.isEnabled()
        assert bar.siren_state.property("level") == "refused"
    finally:
        station.edge.stop()


def test_the_history_shows_closed_incidents_with_outcome_and_response_times(
    qtbot: QtBot, console: ConsoleWindow, station: Station
) -> None:
    where = {"kind": "emergency", "site": "站前广场", "point": "自助终端", "source": "kiosk"}
    first = station.call("incidents.raise", where)["id"]
    station.call("incidents.close", {"id": first, "outcome": "test", "by": "另一台"})  # before the history opens
    assert station.press("panic") == "ACK"
    second = wait_focus(qtbot, console)
    station.call("incidents.ack", {"id": second, "by": "另一台"})
    qtbot.waitUntil(lambda: console.view is not None and not console.view.alerting, timeout=WAIT_MS)
    click(qtbot, console.ui.crew.history)
    page = console.ui.history
    assert console.ui.stack.currentWidget() is page
    assert console.ui.crew.history.text() == "返回"
    qtbot.waitUntil(lambda: [r.id for r in page.rows] == [first], timeout=WAIT_MS)  # from incidents.list
    assert [page.cell(0, c) for c in (1, 2, 3, 4, 5)] == ["站前广场 · 自助终端", "紧急求助", "测试", "—", "—"]
    assert page.cell(0, 6).endswith(" / 5:00")
    station.call("incidents.dispatch", {"id": second, "unit": "巡逻一组", "by": "另一台"})
    station.call("incidents.close", {"id": second, "outcome": "real", "by": "另一台"})
    qtbot.waitUntil(lambda: [r.id for r in page.rows] == [second, first], timeout=WAIT_MS)  # on the "closed" change
    assert [page.cell(0, c) for c in (1, 2, 3, 5)] == ["阳光小学 · 正门一键报警", "一键报警", "真实警情", "—"]
    assert page.cell(0, 4).endswith(" / 1:00")
    assert page.table.item(0, 4).data(Qt.ItemDataRole.UserRole) == "met"  # type: ignore[union-attr]
    assert page.title.text() == "已结案警情：2"
    click(qtbot, console.ui.lang_button)
    assert page.cell(0, 3) == "Real incident"
    assert page.cell(0, 1) == "Sunshine Primary School · Main gate button"
    click(qtbot, console.ui.crew.history)
    assert console.ui.stack.currentIndex() == 0


# ---- sound and translations ------------------------------------------------------------------------
def test_the_alarm_tone_is_a_valid_wav(tmp_path: Path) -> None:
    path = write_tone(tmp_path / "t.wav", rate=8000, seconds=0.5)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 8000, 4000)
        frames = w.readframes(4000)
    assert max(frames) > 0


def test_a_failing_sound_player_is_reported(qtbot: QtBot) -> None:
    false = shutil.which("false")
    assert false is not None
    sound = AlarmSound(use_qt=False, players=[(false,)])
    try:
        assert sound.available
        assert sound.backend == "player:false"
        with qtbot.waitSignal(sound.availableChanged, timeout=5000):
            sound.set_active(True)
        assert not sound.available
        assert "exit code 1" in sound.reason
    finally:
        sound.close()


def test_no_sound_backend_is_reported() -> None:
    sound = AlarmSound(use_qt=False, players=[("no-such-player-here",)])
    try:
        assert not sound.available
        assert "no audio backend" in sound.reason
    finally:
        sound.close()


def test_translations_are_complete_and_compiled(tmp_path: Path) -> None:
    ts = I18N_DIR / "console_zh_CN.ts"
    lupdate, lrelease = shutil.which("pyside6-lupdate"), shutil.which("pyside6-lrelease")
    bindir = Path(sys.executable).parent  # the venv running the tests
    lupdate = lupdate or str(bindir / "pyside6-lupdate")
    lrelease = lrelease or str(bindir / "pyside6-lrelease")
    require(Path(lupdate).exists() and Path(lrelease).exists(), "pyside6-lupdate/lrelease (PySide6 wheel tools)")
    copy = tmp_path / "console_zh_CN.ts"
    shutil.copy(ts, copy)
    sources = sorted(str(p) for p in I18N_DIR.glob("*.py"))
    subprocess.run(
        [lupdate, *sources, "-ts", str(copy), "-no-obsolete", "-locations", "none"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    unfinished = [
        m.findtext("source")
        for m in ET.parse(copy).iter("message")
        if m.find("translation") is None or m.find("translation").get("type") == "unfinished"  # type: ignore[union-attr]
    ]
    assert unfinished == [], "untranslated console strings: run lupdate and translate them"
    qm = tmp_path / "console_zh_CN.qm"
    subprocess.run([lrelease, str(ts), "-qm", str(qm)], check=True, capture_output=True, timeout=60)
    assert qm.read_bytes() == (I18N_DIR / "console_zh_CN.qm").read_bytes(), "console_zh_CN.qm is stale: run lrelease"
