""" "Call the officer on duty": the kiosk's location in config, the `kiosk.call_officer` event and the
`kiosk.officer_called` notification, with and without the alarm engine (then an `officer_call` incident)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.api.client import ApiError
from edge.config.kiosk import KioskSection
from edge.config.station import ConfigError, load_config
from edge.kiosk.component import KioskComponent
from edge.sim.broker import MosquittoProcess
from tests.support.context import FakeContext
from tests.support.procs import stored_events, wait_until
from tests.support.station import Station

HALL = ["--set", 'kiosk.location="一楼大厅"', "--set", 'kiosk.location_en="Ground-floor hall"']


def test_the_location_is_one_line_of_text_and_bad_values_are_named(tmp_path: Path) -> None:
    assert KioskSection(location="  一楼大厅 ", location_en="Ground-floor hall").location == "一楼大厅"
    good = '[station]\nid = "ST-9"\n\n[kiosk]\nenabled = true\nlocation = "一楼大厅"\n'
    path = tmp_path / "station.toml"
    for bad, message in (
        ('location = "一楼\\n大厅"', "kiosk.location = '一楼\\n大厅': Value error, must be one line of text"),
        (f'location = "{"大" * 65}"', "kiosk.location = "),
        ('location = ""\nlocation_en = "Hall"', "kiosk.location_en is set but kiosk.location is not"),
    ):
        path.write_text(good.replace('location = "一楼大厅"', bad), encoding="utf-8")
        with pytest.raises(ConfigError) as err:
            load_config(path)
        assert message in str(err.value), str(err.value)
        assert str(path) in str(err.value)
    path.write_text(good, encoding="utf-8")
    assert load_config(path).kiosk.location == "一楼大厅"


async def test_without_the_alarm_engine_the_call_is_an_event_and_a_notification_with_the_location(
    tmp_path: Path,
) -> None:
    ctx = FakeContext(tmp_path, station="ST-K", station_name="阳光街警务站")
    kiosk = KioskComponent(KioskSection(enabled=True, location="一楼大厅", location_en="Ground-floor hall"))
    await kiosk.start(ctx)
    try:
        result = await ctx.call("kiosk.call_officer", {"service": "call_officer"})
    finally:
        await kiosk.stop()
    assert result["status"] == "called"
    [event] = [d for t, d in ctx.events if t == "kiosk.call_officer"]
    assert event["incident"] == ""
    assert (event["location"], event["location_en"]) == ("一楼大厅", "Ground-floor hall")
    [called] = [p for t, p in ctx.published if t == "kiosk.officer_called"]
    assert called["incident"] == ""
    assert called["station"] == "ST-K" and called["station_name"] == "阳光街警务站"
    assert (called["location"], called["location_en"]) == ("一楼大厅", "Ground-floor hall")
    assert called["seq"] >= 1 and called["at"] > 0


@pytest.mark.slow
def test_the_call_is_an_officer_call_incident_and_the_durable_event_names_it(
    tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    st = Station(tmp_path, mosquitto, printer=False, extra=["--set", "alarms.enabled=true", *HALL])
    try:
        st.start()
        wait_until(lambda: "incidents.raise" in st.call("rpc.methods"), timeout=20, what="the alarm engine")
        assert st.call("kiosk.call_officer", {"service": "call_officer"})["status"] == "called"
        [inc] = st.call("incidents.list")["incidents"]
        assert inc["kind"] == "officer_call"
        assert (inc["source"]["kind"], inc["source"]["point"], inc["source"]["point_en"]) == (
            "kiosk",
            "一楼大厅",
            "Ground-floor hall",
        )
        wait_until(lambda: st.notes_of("kiosk.officer_called"), timeout=20, what="the notification")
        assert st.notes_of("kiosk.officer_called")[0]["incident"] == inc["id"]

        def call_event() -> dict[str, object] | None:
            found = [e for e in stored_events(st.db_url) if e["type"] == "kiosk.call_officer"]
            return found[0]["data"] if found else None

        wait_until(lambda: call_event() is not None, timeout=30, what="kiosk.call_officer at central")
        data = call_event()
        assert data is not None
        assert data["incident"] == inc["id"]
        assert data["location"] == "一楼大厅"
        # the emergency button's incident carries the location too
        assert st.call("kiosk.emergency", {"service": "emergency"})["status"] == "raised"
        emergency = [i for i in st.call("incidents.list")["incidents"] if i["kind"] == "emergency"]
        assert [i["source"]["point"] for i in emergency] == ["一楼大厅"]
        with pytest.raises(ApiError):
            st.call("kiosk.call_officer", {"service": "emergency"})  # the per-kind method checks the kind
    finally:
        st.close()
