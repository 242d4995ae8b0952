"""Patrol check-in end to end: real Mosquitto, the real hub (central's signing key, `--http`), the real edge
daemon with the kiosk and a simulated ID card reader on a pty, and Debian's chromium.

Command staff register a volunteer in the console (the roster is pushed, signed, to the stations); the
volunteer's card on the kiosk's reader checks them in; the check-ins page shows the check-in and flags a
second station that had none. The station's files and outbox never hold the member's ID number."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.sim.broker import MosquittoProcess, free_port
from tests.support.browser import axe_violations, chromium
from tests.support.central import seed_station
from tests.support.procs import PYTHON, stored_events, wait_until
from tests.support.station import ID_NUMBER, Station, sample_card

pytestmark = [pytest.mark.slow]

PASSWORD = "boss-pass-1"
QUIET = "ST-QUIET"


@pytest.fixture
def world(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[tuple[Station, str]]:
    port = free_port()
    st = Station(tmp_path, mosquitto, station="ST-PATROL", signing=True, hub_extra=["--http", f"127.0.0.1:{port}"])
    try:
        st.start()
        done = subprocess.run(
            [*PYTHON, "hub", "user", "add", "boss", "--role", "command", "--db", st.db_url],
            input=(PASSWORD + "\n").encode(),
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr.decode()
        seed_station(st.db_url, QUIET, name="西城二号警务站", district="西城", incident=None)
        yield st, f"http://127.0.0.1:{port}"
    finally:
        st.close()


def id_hash_in(raw: bytes) -> bool:
    """The station does hold the member's hash (so the grep below looks at the right files)."""
    return b'"id_hash"' in raw


def station_bytes(st: Station) -> bytes:
    return b"".join(p.read_bytes() for p in st.edge.data_dir.rglob("*") if p.is_file())


def test_register_push_check_in_and_see_it_at_central(world: tuple[Station, str]) -> None:
    st, url = world
    with chromium() as browser:
        context = browser.new_context(bypass_csp=True)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{url}/lang/zh?next=/login")
        page.fill("#name", "boss")
        page.fill("#password", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_url(f"{url}/alarms")
        # register a volunteer: the roster goes to the stations at once
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
        wait_until(
            (st.edge.data_dir / "patrol-roster.json").exists, timeout=30, what="the roster pushed to the station"
        )
        # the volunteer's card on the kiosk's reader
        st.reader.place_card(sample_card())
        wait_until(lambda: st.notes_of("kiosk.card"), timeout=15, what="the card read")
        got: Any = st.call("kiosk.patrol.checkin", {"method": "card"})
        assert got["status"] == "checked_in" and got["message"]["zh"] == "打卡成功：老张"
        wait_until(
            lambda: any(e["type"] == "patrol.checkin" for e in stored_events(st.db_url)),
            timeout=30,
            what="the check-in at central",
        )
        page.goto(f"{url}/patrol")
        page.wait_for_selector("#per-member")
        assert page.inner_text("#total") == "1"
        assert "老张" in page.inner_text("#per-member")
        assert page.inner_text("#per-station-day tr[data-station='ST-PATROL'] td:last-child") == "1"
        flagged = page.inner_text("#unvisited")
        assert QUIET in flagged and "ST-PATROL" not in flagged
        assert axe_violations(page) == []
        # the same through the API, with the session
        api = page.request.get(f"{url}/api/v1/patrol/checkins").json()
        assert api["unvisited"] == [QUIET] and api["checkins"][0]["display_name"] == "老张"
        assert ID_NUMBER not in str(api)
        context.close()
    # privacy: nothing the station keeps (roster, outbox, databases) holds the member's ID number
    raw = station_bytes(st)
    assert id_hash_in(raw)
    for encoding in ("ascii", "utf-16-le"):
        assert ID_NUMBER.encode(encoding) not in raw
    assert ID_NUMBER not in st.edge.log()
