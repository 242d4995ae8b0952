"""The kiosk's weekly bulletin in the real daemon (real Mosquitto and hub): a signed `kiosk.bulletin` is kept
and served by `kiosk.bulletin`, survives a restart; forged, unsigned, malformed and older ones are refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from edge.sim.broker import MosquittoProcess
from hub.web.bulletin_demo import sample_bulletin
from tests.support.commands import signed
from tests.support.procs import wait_until
from tests.support.station import CENTRAL, FORGER, Station, publish_command

pytestmark = pytest.mark.slow


def bulletin(
    week: str = "2026-W49", *, tip: str = "电动车请在室外充电。", generated_at: str = "2026-12-07T00:00:00.000Z"
) -> dict[str, Any]:
    b = msgspec.structs.replace(sample_bulletin(week), tip_zh=tip, generated_at=generated_at)
    out = msgspec.to_builtins(b)
    assert isinstance(out, dict)
    return out


@pytest.fixture
def station(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[Station]:
    st = Station(tmp_path, mosquitto, printer=False)
    try:
        yield st.start()
    finally:
        st.close()


def test_signed_bulletins_only(station: Station) -> None:
    st = station
    st.wait_linked()
    own = "police/v1/ST-K1/cmd/kiosk.bulletin"
    assert st.call("kiosk.bulletin") == {"bulletin": None}
    publish_command(st.broker.url, own, signed(FORGER, "kiosk.bulletin", bulletin(tip="forged"), targets=["ST-K1"]))
    publish_command(st.broker.url, own, signed(None, "kiosk.bulletin", bulletin(tip="unsigned"), targets=["ST-K1"]))
    for why in ("unknown_key", "unsigned"):
        wait_until(lambda why=why: f": {why}" in st.edge.log(), timeout=15, what=f"refused as {why}")
    assert st.call("kiosk.bulletin") == {"bulletin": None}
    publish_command(st.broker.url, own, signed(CENTRAL, "kiosk.bulletin", {"week": "49"}, targets=["ST-K1"]))
    wait_until(lambda: "malformed bulletin" in st.edge.log(), timeout=15, what="a malformed bulletin refused")
    publish_command(st.broker.url, own, signed(CENTRAL, "kiosk.bulletin", bulletin(), targets=["ST-K1"]))
    wait_until(lambda: st.call("kiosk.bulletin")["bulletin"], timeout=15, what="the signed bulletin")
    got = st.call("kiosk.bulletin")["bulletin"]
    assert (got["week"], got["tip_zh"], got["categories"][1]["last_week"]) == ("2026-W49", "电动车请在室外充电。", 5)
    assert [n["week"] for n in st.notes_of("kiosk.bulletin")] == ["2026-W49"]
    # an older week never replaces the current one; an edited re-send of the same week does
    older = bulletin("2026-W48", tip="older", generated_at="2026-12-08T00:00:00.000Z")
    publish_command(st.broker.url, own, signed(CENTRAL, "kiosk.bulletin", older, targets=["ST-K1"]))
    edited = bulletin(tip="注意防火。", generated_at="2026-12-07T01:00:00.000Z")
    publish_command(st.broker.url, own, signed(CENTRAL, "kiosk.bulletin", edited, targets=["ST-K1"]))
    wait_until(lambda: st.call("kiosk.bulletin")["bulletin"]["tip_zh"] == "注意防火。", timeout=15, what="the edit")
    assert "bulletin 2026-W48" not in st.edge.log()
    st.edge.stop()
    st.edge.start()
    st.connect()
    assert st.call("kiosk.bulletin")["bulletin"]["tip_zh"] == "注意防火。"
