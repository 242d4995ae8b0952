"""Patrol check-in end to end: real Mosquitto, the real hub (central's signing key, `--http`), the real edge
daemon with the kiosk and a simulated ID card reader on a pty, and Debian's chromium.

Command staff register a volunteer in the console (the roster is pushed, signed, to the stations); the
volunteer's card on the kiosk's reader checks them in; the check-ins page, open before, shows the check-in
without a reload and flags a second station that had none. A district officer of that second station's
district, with the page open too, gets neither the check-in nor its stream event, and sees their own
district's check-in (stored as a station would have sent it) arrive. The station's files and outbox never
hold the member's ID number."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.sim.broker import MosquittoProcess, free_port
from hub.web.patrol_demo import store_checkin
from tests.support.browser import axe_violations, chromium, signed_in
from tests.support.central import hub_cli, seed_station
from tests.support.procs import stored_events, wait_until
from tests.support.station import ID_NUMBER, Station, sample_card

pytestmark = [pytest.mark.slow]

PASSWORD = "boss-pass-1"
WEST_PASSWORD = "west-pass-1"
QUIET = "ST-QUIET"  # 西城, seeded: no edge of its own


@pytest.fixture
def world(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[tuple[Station, str]]:
    port = free_port()
    st = Station(
        tmp_path,
        mosquitto,
        station="ST-PATROL",
        signing=True,
        extra=["--set", 'station.district="东城"'],
        hub_extra=["--http", f"127.0.0.1:{port}"],
    )
    try:
        st.start()
        hub_cli("user", "add", "boss", "--role", "command", "--db", st.db_url, stdin=PASSWORD + "\n")
        hub_cli(
            "user",
            "add",
            "west",
            "--role",
            "district",
            "--district",
            "西城",
            "--db",
            st.db_url,
            stdin=WEST_PASSWORD + "\n",
        )
        seed_station(st.db_url, QUIET, name="西城二号警务站", district="西城", incident=None)
        yield st, f"http://127.0.0.1:{port}"
    finally:
        st.close()


def id_hash_in(raw: bytes) -> bool:
    """The station does hold the member's hash (so the grep below looks at the right files)."""
    return b'"id_hash"' in raw


def station_bytes(st: Station) -> bytes:
    return b"".join(p.read_bytes() for p in st.edge.data_dir.rglob("*") if p.is_file())


def open_live(page: Any, url: str) -> None:
    """Open the check-ins page and wait until its stream is connected (the stream's `hello` fetches the live
    part once); mark the window, so that a reload would show."""
    with page.expect_response(lambda r: "/patrol/table" in r.url):
        page.goto(f"{url}/patrol")
    page.evaluate("() => { window.stayed = true; }")


def listen_for_checkins(page: Any) -> None:
    """A second stream of the same session that records the stations of its `checkin` events."""
    page.evaluate(
        """() => { window.heard = []; const es = new EventSource('/api/v1/stream');
        es.addEventListener('hello', () => { window.listening = true; });
        es.addEventListener('checkin', e => window.heard.push(JSON.parse(e.data).station)); }"""
    )
    page.wait_for_function("() => window.listening === true")


def wait_total(page: Any, n: int) -> None:
    page.wait_for_function(f"() => document.querySelector('#total').textContent === '{n}'")


def register_volunteer(page: Any, st: Station) -> None:
    """Command staff register 老张 in the console: the roster goes to the stations at once."""
    page.click("nav >> text=巡逻打卡")
    page.click("text=巡逻人员名册")
    page.fill("#m-name", "老张")
    page.select_option("#m-role", "volunteer")
    page.fill("#m-id", ID_NUMBER)
    page.click("form[action='/patrol/roster'] button[type=submit]")
    page.wait_for_selector("#added")
    assert len(page.inner_text("#new-code")) == 8
    row = page.inner_text("#members tbody tr")
    assert "110***********002X" in row and ID_NUMBER not in page.content()
    wait_until((st.edge.data_dir / "patrol-roster.json").exists, timeout=30, what="the roster pushed to the station")


def check_in_by_card(st: Station) -> None:
    """The volunteer's card on the kiosk's reader, the check-in, until central stored it."""
    st.reader.place_card(sample_card())
    wait_until(lambda: st.notes_of("kiosk.card"), timeout=15, what="the card read")
    got: Any = st.call("kiosk.patrol.checkin", {"method": "card"})
    assert got["status"] == "checked_in" and got["message"]["zh"] == "打卡成功：老张"
    wait_until(
        lambda: any(e["type"] == "patrol.checkin" for e in stored_events(st.db_url)),
        timeout=30,
        what="the check-in at central",
    )


def test_register_push_check_in_and_see_it_live_at_central(world: tuple[Station, str]) -> None:
    st, url = world
    with (
        chromium() as browser,
        signed_in(browser, url, "boss", PASSWORD, bypass_csp=True) as page,
        signed_in(browser, url, "west", WEST_PASSWORD, bypass_csp=True) as west,
    ):
        register_volunteer(page, st)
        # the check-ins page open before the check-in: command staff's, and a 西城 district officer's
        open_live(page, url)
        assert page.inner_text("#total") == "0"
        open_live(west, url)
        listen_for_checkins(west)
        assert west.inner_text("#total") == "0" and west.inner_text("#unvisited").split()[-1] == QUIET
        check_in_by_card(st)
        # it appears on the open page, without a reload
        wait_total(page, 1)
        assert page.evaluate("() => window.stayed") is True
        assert "老张" in page.inner_text("#per-member")
        assert page.inner_text("#per-station-day tr[data-station='ST-PATROL'] td:last-child") == "1"
        flagged = page.inner_text("#unvisited")
        assert QUIET in flagged and "ST-PATROL" not in flagged
        assert axe_violations(page) == []
        # the same through the API, with the session
        api = page.request.get(f"{url}/api/v1/patrol/checkins").json()
        assert api["unvisited"] == [QUIET] and api["checkins"][0]["display_name"] == "老张"
        assert ID_NUMBER not in str(api)
        # the district officer: their district's check-in arrives; ST-PATROL's (东城), sent before, never did
        store_checkin(st.db_url, QUIET, 1, id_hash="f" * 64, name="巡警小李", role="officer", at=time.time())
        wait_total(west, 1)
        assert west.evaluate("() => window.stayed") is True
        assert "巡警小李" in west.inner_text("#per-member")
        assert "老张" not in west.content() and "ST-PATROL" not in west.content()
        west.wait_for_function("() => window.heard.length > 0")
        assert west.evaluate("() => window.heard") == [QUIET]  # the stream keeps its order: ST-PATROL's came first
        assert axe_violations(west) == []
        wait_total(page, 2)  # command staff see both
    # privacy: nothing the station keeps (roster, outbox, databases) holds the member's ID number
    raw = station_bytes(st)
    assert id_hash_in(raw)
    for encoding in ("ascii", "utf-16-le"):
        assert ID_NUMBER.encode(encoding) not in raw
    assert ID_NUMBER not in st.edge.log()
