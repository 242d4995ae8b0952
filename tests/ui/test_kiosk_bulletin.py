"""The weekly bulletin on the touchscreen's notices tile, offscreen, from a signed `kiosk.bulletin` that went
through the real Mosquitto and daemon: its table in Chinese and English, larger in elder mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from edge.sim.broker import MosquittoProcess
from hub.web.bulletin_demo import sample_bulletin
from tests.support.commands import signed
from tests.support.station import CENTRAL, Station, publish_command
from ui.kiosk.window import KioskWindow
from ui.link import DaemonLink

pytestmark = pytest.mark.slow

BULLETIN = sample_bulletin()


@pytest.fixture
def station(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[Station]:
    st = Station(tmp_path, mosquitto, printer=False)
    try:
        yield st.start()
    finally:
        st.close()


def test_bulletin_tile_in_both_languages_and_elder_mode(station: Station, qtbot: QtBot) -> None:
    station.wait_linked()
    args = msgspec.to_builtins(BULLETIN)
    publish_command(
        station.broker.url,
        "police/v1/ST-K1/cmd/kiosk.bulletin",
        signed(CENTRAL, "kiosk.bulletin", args, targets=["ST-K1"]),
    )
    link = DaemonLink(station.edge.socket, topics=["kiosk.*", "faults"], retry_max=0.5)
    w = KioskWindow(link)
    qtbot.addWidget(w)
    w.resize(1280, 1024)
    w.show()
    link.start()
    try:
        qtbot.waitUntil(lambda: w.bulletin is not None, timeout=15000)

        def tap(widget: QWidget) -> None:
            qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)

        tap(w.attract)
        tap(w.home.tiles["notices"])
        panel = w.notices_screen.bulletin_panel
        assert panel is not None and panel.isVisible()
        assert [panel.cell(0, c) for c in range(4)] == ["类别", "本周", "上周", "变化"]
        assert [panel.cell(2, c) for c in range(4)] == ["纠纷求助", "3", "5", "↓ 2"]
        assert [panel.cell(3, c) for c in range(4)] == ["安全隐患", "0", "1", "↓ 1"]
        texts = panel.texts()
        assert "1 分钟内响应: 100% (2/2)" in texts and "3 分钟内到场: 50% (1/2)" in texts
        assert f"安全提示: {BULLETIN.tip_zh}" in texts
        normal = panel.cells[2, 1].fontInfo().pixelSize()
        tap(w.notices_screen.back_button)
        tap(w.home.lang_button)
        tap(w.home.elder_button)
        tap(w.home.tiles["notices"])
        panel = w.notices_screen.bulletin_panel
        assert panel is not None
        assert [panel.cell(0, c) for c in range(4)] == ["Category", "This week", "Last week", "Change"]
        assert [panel.cell(1, c) for c in range(4)] == ["Panic alarms", "2", "1", "↑ 1"]
        texts = panel.texts()
        assert f"Safety tip: {BULLETIN.tip_en}" in texts and BULLETIN.summary_en in texts
        elder = panel.cells[2, 1].fontInfo().pixelSize()
        assert elder >= normal * 1.25, (normal, elder)
    finally:
        link.stop()
        w.close()
