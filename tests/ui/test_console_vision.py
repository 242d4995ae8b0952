"""The crew console warns of a watch-listed vehicle (pytest-qt, offscreen).

Against the real daemon: central pushes a signed watch list (retained, before the station starts); the
station's camera plays a generated 6 s clip with a listed and an unlisted plate once, like a live stream;
the console, which reaches the daemon only through `DaemonLink`, shows the amber warning with the plate,
the reason and the plate crop, sounds the warning tone until "Noted", and its camera line follows
`vision.cameras`.
Waits are "until it shows"; no test asserts a duration. The layout with an alarm on screen at the same
time is checked without a daemon, by feeding the window's view-model.
"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from edge.api.client import EdgeClient
from edge.sim.broker import MosquittoProcess
from tests.support import central
from tests.support.commands import central_keys
from tests.support.console import T0, make_hit, make_incident
from tests.support.paths import ROOT
from tests.support.procs import EdgeProc
from ui.console.sound import AlarmSound
from ui.console.text import Language
from ui.console.views import clock_text
from ui.console.window import TOPICS, ConsoleWindow
from ui.link import DaemonLink

WANTED = "粤B8Z527"
OTHER = "浙C67D90"
REASON = "被盗车辆 stolen"
CENTRAL = central_keys()
CAMERA = "东门 East gate"
WAIT_MS = 180_000  # a give-up, not a duration under test: model loading on a loaded 2-core machine


def push_watch_list(broker: str, tmp: Path) -> None:
    key_file, _ = CENTRAL.write(tmp)
    entries = [{"plate": WANTED, "reason": REASON, "priority": 1}]
    done = central.push_watch_list(broker, key_file, version=1, entries=entries)
    assert done.returncode == 0, done.stderr


def camera_state(socket: Path) -> str:
    async def ask() -> str:
        async with EdgeClient(socket, timeout=10) as client:
            return str((await client.call("vision.cameras"))["cameras"][0]["state"])

    return asyncio.run(ask())


def jpeg_b64() -> str:
    """A real (small, grey) JPEG, base64, as the camera worker sends the plate crop."""
    image = QImage(120, 40, QImage.Format.Format_RGB32)
    image.fill(0x808080)
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buf, "JPG")  # type: ignore[call-overload]  # the stub says bytes, the binding wants str
    return base64.b64encode(bytes(data.data())).decode()


@pytest.fixture
def offline_console(qtbot: QtBot, tmp_path: Path) -> Iterator[tuple[ConsoleWindow, AlarmSound]]:
    """A console fed through its view-model: its link is never started, its clock stands still."""
    link = DaemonLink(tmp_path / "no-daemon.sock", topics=TOPICS)
    language = Language("zh")
    sound = AlarmSound(use_qt=False, players=())
    console = ConsoleWindow(link, language=language, sound=sound, clock=lambda: T0 + 30)
    qtbot.addWidget(console)
    console.board.set_connected(True, T0)
    console.resize(1600, 900)
    console.show()
    try:
        yield console, sound
    finally:
        console.close()
        sound.close()
        language.close()


def test_a_hit_during_an_alarm_waits_beside_it_and_the_alarm_tone_wins(
    qtbot: QtBot, offline_console: tuple[ConsoleWindow, AlarmSound]
) -> None:
    console, sound = offline_console
    console.board.vision.apply_hit(make_hit("粤B8Z5Z7", listed=WANTED, at=T0 + 20, plate_jpeg_b64=jpeg_b64()))
    console.refresh()
    assert console.ui.hits.card.isVisible()
    assert (sound.active, sound.tone) == (True, "warning")
    console.board.apply_incident("raised", make_incident(raised_at=T0 + 25))
    console.refresh()
    assert console.ui.stack.currentIndex() == 1  # the alarm takes over ...
    assert not console.ui.hits.isVisible()  # ... and the vehicle warning moves beside it
    side = console.ui.side_hit
    assert side.isVisible()
    assert (side.plate.text(), side.near.text(), side.reason.text()) == (
        "粤B8Z5Z7",
        f"近似匹配 · 布控号牌 {WANTED}",
        REASON,
    )
    assert side.has_image()
    assert (sound.active, sound.tone) == (True, "alarm")
    with_hit = console.minimumSizeHint().height()
    click(qtbot, side.noted_button)
    assert not side.isVisible()
    assert (sound.active, sound.tone) == (True, "alarm")  # the alarm still sounds
    assert console.minimumSizeHint().height() == with_hit  # the warning took no height from the alarm view
    console.board.apply_incident(
        "closed",
        {**make_incident(raised_at=T0 + 25), "state": "closed", "rev": 2, "closed_at": T0 + 29, "outcome": "test"},
    )
    console.refresh()
    assert console.ui.stack.currentIndex() == 0
    assert not sound.active
    assert console.ui.hits.isVisible()  # back on top: the recent list, the hit noted
    assert not console.ui.hits.card.isVisible()
    assert console.ui.hits.row_texts() == [f"{clock_text(T0 + 20, T0 + 30)}  粤B8Z5Z7  {REASON} · {CAMERA}  ✓ 已知悉"]


def test_the_warning_tone_is_a_second_sound() -> None:
    sound = AlarmSound(use_qt=False, players=())
    try:
        assert set(sound.wavs) == {"alarm", "warning"}
        assert sound.wavs["warning"].read_bytes() != sound.wavs["alarm"].read_bytes()
        sound.set_active(True, tone="warning")
        assert (sound.active, sound.tone) == (True, "warning")
        sound.set_active(True, tone="alarm")
        assert (sound.active, sound.tone) == (True, "alarm")
        with pytest.raises(ValueError, match="unknown tone"):
            sound.set_active(True, tone="siren")
    finally:
        sound.close()


@pytest.fixture
def vision_station(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[EdgeProc]:
    """A station with one camera playing the clip; not started (the console connects first)."""
    clip = tmp_path / "street.mp4"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "gen_plate_media.py"),
            "video",
            str(clip),
            "--seconds",
            "6",
            "--size",
            "small",
            "--seed",
            "21",
            "--plate",
            OTHER,
            "--plate",
            WANTED,
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    config = tmp_path / "station.toml"
    config.write_text(
        f'''
[station]
name = "阳光街警务站"
[commands]
public_key_file = "{CENTRAL.write(tmp_path)[1]}"
[vision]
enabled = true
[[vision.cameras]]
id = "gate-east"
name = "{CAMERA}"
source = "{clip}"
''',
        encoding="utf-8",
    )
    push_watch_list(mosquitto.url, tmp_path)  # retained: the station finds it when its uplink connects
    edge = EdgeProc(tmp_path, station="ST-CAM", broker_url=mosquitto.url, extra=["--config", str(config)])
    try:
        yield edge
    finally:
        edge.stop()


@pytest.mark.slow
def test_a_watch_listed_vehicle_is_warned_until_noted(qtbot: QtBot, vision_station: EdgeProc) -> None:
    link = DaemonLink(vision_station.socket, topics=TOPICS, retry_min=0.05, retry_max=0.3)
    language = Language("zh")
    sound = AlarmSound(use_qt=False, players=())  # offscreen: no audio; `active` and `tone` still tell
    console = ConsoleWindow(link, language=language, sound=sound, tick_ms=100)
    qtbot.addWidget(console)
    console.resize(1600, 900)
    console.show()
    link.start()  # before the station: subscribed before the camera can see anything
    try:
        vision_station.start()
        qtbot.waitUntil(lambda: console.station == "阳光街警务站", timeout=WAIT_MS)
        panel = console.ui.hits
        card = panel.card  # the full-size card: no incident on screen
        qtbot.waitUntil(card.isVisible, timeout=WAIT_MS)
        hit = panel.alert
        assert hit is not None
        assert hit.listed_plate == WANTED
        if hit.plate == WANTED:
            assert not card.near.isVisible()
        else:  # read with one OCR-confusable character: both plates are shown
            assert card.near.isVisible()
            assert card.near.text() == f"近似匹配 · 布控号牌 {WANTED}"
        assert card.plate.text() == hit.plate
        assert card.reason.text() == REASON
        assert card.where.text().startswith(f"{CAMERA} (gate-east) · {hit.clock} · 置信度 ")
        assert card.caption.text() == "布控车辆预警"
        assert card.priority.text() == "优先级 1"
        assert card.has_image()  # the plate crop the camera sent
        assert card.sound_note.text() == "声音不可用"
        assert console.ui.stack.currentIndex() == 0  # a warning, not the alarm takeover
        assert (sound.active, sound.tone) == (True, "warning")
        assert panel.row_texts()[0].startswith(f"{hit.clock}  {hit.plate}  {REASON} · {CAMERA}")

        click(qtbot, card.noted_button)
        assert not card.isVisible()
        assert not sound.active
        assert panel.isVisible()  # still listed, as noted
        assert panel.row_texts()[0].endswith("✓ 已知悉")

        click(qtbot, console.ui.lang_button)
        assert panel.row_texts()[0].endswith("✓ Noted")
        assert panel.list_title.text() == "Recent vehicle hits: 1"
        click(qtbot, console.ui.lang_button)

        # The clip plays once; when the daemon says the camera ended, a reload names it in the status strip.
        deadline = time.monotonic() + WAIT_MS / 1000
        while camera_state(vision_station.socket) != "ended":
            assert time.monotonic() < deadline, "the clip did not end"
            qtbot.wait(300)
        console.reload()
        gone = f"摄像头 0/1 在线 · 离线：{CAMERA}（已结束）"
        qtbot.waitUntil(lambda: gone in console.ui.strip.texts(), timeout=WAIT_MS)
        assert not any("camera.gate-east" in t for t in console.ui.strip.texts())  # not again as a raw fault
    finally:
        console.close()
        link.stop()
        sound.close()
        language.close()


def click(qtbot: QtBot, button: Any) -> None:
    assert button.isVisible(), button.text()
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
