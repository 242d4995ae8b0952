"""The weekly bulletin end to end: real Mosquitto, the hub with its signing key and `--http`, the edge daemon
with the kiosk. A week of reports and incidents is stored for a second station of the same district; the
console (Debian's chromium) previews, edits and sends the district's bulletin, and `hub bulletin --push`
sends another week; both reach the kiosk's `kiosk.bulletin` signed. A viewer cannot edit or send."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from edge.sim.broker import MosquittoProcess, free_port
from hub.web.bulletin_demo import incident_at, report, store_at
from hub.web.db import Db
from hub.web.demo import seed_station
from tests.support.browser import axe_violations, chromium
from tests.support.procs import PYTHON, wait_until
from tests.support.station import Station

pytestmark = pytest.mark.slow

SH = ZoneInfo("Asia/Shanghai")
PASSWORDS = {"boss": "boss-pass-1", "wall": "wall-pass-1"}


def local(y: int, m: int, d: int, hh: int = 12) -> float:
    return dt.datetime(y, m, d, hh, tzinfo=SH).timestamp()


def cli(*args: str, stdin: str = "") -> str:
    done = subprocess.run([*PYTHON, "hub", *args], input=stdin.encode(), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


@pytest.fixture
def world(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[tuple[Station, str]]:
    port = free_port()
    st = Station(
        tmp_path,
        mosquitto,
        printer=False,
        signing=True,
        hub_extra=["--http", f"127.0.0.1:{port}", "--bulletin-at", "off"],
        extra=["--set", 'station.district="东城"', "--set", "uplink.telemetry_interval=1"],
    )
    db = st.db_url
    for name, role in (("boss", "command"), ("wall", "viewer")):
        cli("user", "add", name, "--role", role, "--db", db, stdin=PASSWORDS[name] + "\n")
    seed_station(db, "ST-K2", name="东城二号警务站", district="东城", incident=None)
    # W40 (2026-09-28 .. 10-04) and the week before, at ST-K2
    t = local(2026, 9, 30)
    store_at(
        db,
        "ST-K2",
        [
            (1, "kiosk.report", local(2026, 9, 22), report("dispute")),
            (2, "kiosk.report", local(2026, 9, 23), report("hazard")),
            (3, "kiosk.report", t, report("dispute")),
            (4, "kiosk.report", t + 60, report("dispute")),
            (
                5,
                "alarm.closed",
                t + 400,
                {"incident": incident_at("I1", t, dispatched=t + 40, on_scene=t + 150, closed=t + 280)},
            ),
        ],
    )
    try:
        yield st.start(), f"http://127.0.0.1:{port}"
    finally:
        st.close()


def signed_in(browser: Any, url: str, name: str, lang: str = "zh") -> Any:
    page = browser.new_context(bypass_csp=True).new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{url}/lang/{lang}?next=/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORDS[name])
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{url}/alarms")
    return page


def test_preview_edit_push_reaches_the_kiosk(world: tuple[Station, str]) -> None:
    st, url = world
    st.wait_linked()
    # the station's own telemetry names its district at central
    wait_until(lambda: "东城" in cli("stations", "--db", st.db_url), timeout=20, what="the station's district")
    with chromium() as browser:
        page = signed_in(browser, url, "boss")
        page.goto(f"{url}/bulletins?week=2026-W40")
        row = page.locator("#bulletins tr[data-area='东城']")
        assert "ST-K1, ST-K2" in row.inner_text()
        row.locator("a").click()
        page.wait_for_url(f"{url}/bulletins/2026-W40/*")
        assert page.locator("tr[data-category='report:dispute'] td").all_inner_texts() == ["2", "1", "+1"]
        assert page.locator("tr[data-category='report:hazard'] td").all_inner_texts() == ["0", "1", "-1"]
        assert "100%" in page.locator("li[data-target='respond']").inner_text()
        assert axe_violations(page) == []
        page.fill("#tip_zh", "天干物燥，小心火烛。")
        page.fill("#tip_en", "Dry weather: mind fire.")
        page.click("#preview-btn")  # htmx: the preview shows the draft, nothing is kept yet
        page.wait_for_selector("#bulletin-preview[data-draft='1']")
        assert "天干物燥" in page.locator("#bulletin-preview").inner_text()
        assert "天干物燥" not in cli("bulletin", "--db", st.db_url, "--week", "2026-W40", "--area", "东城")
        page.click("#save-btn")
        page.wait_for_selector("#bulletin-preview:not([data-draft])")
        assert "天干物燥" in page.locator("#bulletin-preview").inner_text()
        page.click("#push-btn")
        page.wait_for_selector("#sent")
        assert "2" in page.locator("#sent").inner_text()
        # a viewer sees it but has no edit or send controls, and its POST is refused
        viewer = signed_in(browser, url, "wall", lang="en")
        viewer.goto(f"{url}/bulletins/2026-W40/%E4%B8%9C%E5%9F%8E")
        assert viewer.locator("#push-btn").count() == 0
        assert "Dispute reports" in viewer.locator("#bulletin-categories").inner_text()
        token = viewer.locator("form[action='/logout'] input[name=csrf]").get_attribute("value")
        refused = viewer.request.post(f"{url}/bulletins/2026-W40/%E4%B8%9C%E5%9F%8E/push", form={"csrf": token})
        assert refused.status == 403
    wait_until(
        lambda: (st.call("kiosk.bulletin")["bulletin"] or {}).get("week") == "2026-W40",
        timeout=30,
        what="W40 at the kiosk",
    )
    got = st.call("kiosk.bulletin")["bulletin"]
    assert (got["area"], got["tip_zh"], got["edited"]) == ("东城", "天干物燥，小心火烛。", True)
    assert {(c["category"], c["this_week"], c["last_week"]) for c in got["categories"]} == {
        ("dispute", 2, 1),
        ("hazard", 0, 1),
        ("panic", 1, 0),
    }
    db = Db(st.db_url)
    try:
        actions = [r[0] for r in db.rows("SELECT action FROM console_audit WHERE action LIKE 'bulletin.%' ORDER BY at")]
    finally:
        db.close()
    assert actions == ["bulletin.edit", "bulletin.push"]
    # the command line sends the next week (no events: an empty bulletin, last week's counts as the drop)
    out = cli("bulletin", "--db", st.db_url, "--week", "2026-W41", "--area", "东城", "--push")
    printed = json.loads(out.splitlines()[0])
    assert printed["week"] == "2026-W41" and printed["incidents"] == 0
    wait_until(lambda: st.call("kiosk.bulletin")["bulletin"]["week"] == "2026-W41", timeout=30, what="W41 at the kiosk")
    dispute = [c for c in st.call("kiosk.bulletin")["bulletin"]["categories"] if c["category"] == "dispute"]
    assert dispute == [{**dispute[0], "this_week": 0, "last_week": 2}]
