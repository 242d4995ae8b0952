"""Stations (liveness without a reload, mass outage, map), a station's telemetry charts and the response
statistics, in a real browser (Debian's chromium, Playwright) against a real Mosquitto, the hub serving
`--http` and a real edge daemon. Another district's station and a year of incidents are seeded into the
hub's database as the hub would have stored them. Waits are "until it happened", never wall-clock.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import signal
import subprocess
import time
import urllib.error
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from edge.sim.broker import MosquittoProcess
from hub.web.console import prepare_database
from hub.web.db import Db
from hub.web.demo import seed_station
from hub.web.demo_history import seed_incidents, seed_telemetry
from tests.support.browser import axe_violations, chromium
from tests.support.browser import signed_in as sign_in
from tests.support.central import Central
from tests.support.procs import PYTHON, EdgeProc, wait_until

pytestmark = [pytest.mark.slow]

EAST, WEST = "ST-EAST-1", "ST-WEST-1"
PASSWORDS = {"boss": "boss-pass-1", "west": "west-pass-1"}
EAST_ALARMS, WEST_ALARMS = 7, 5


def cli(*args: str, stdin: str = "") -> str:
    done = subprocess.run([*PYTHON, "hub", *args], input=stdin.encode(), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


class World:
    def __init__(self, central: Central, edge: EdgeProc) -> None:
        self.central, self.edge = central, edge

    @property
    def url(self) -> str:
        return self.central.url

    def api(self, path: str, who: str) -> Any:
        return self.central.api(path, self.central.tokens[who])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workdir = tmp_path_factory.mktemp("stations")
    broker = MosquittoProcess(workdir / "mosquitto")
    broker.start()
    # silent after 4 s without a report (the edge reports every second), every report kept in the history
    central = Central(workdir, broker.url, extra=["--console-silent-after", "4", "--telemetry-history-every", "0"])
    db = central.db_url = f"sqlite:///{workdir / 'hub.db'}"
    cli("user", "add", "boss", "--role", "command", "--db", db, stdin=PASSWORDS["boss"] + "\n")
    cli("user", "add", "west", "--role", "district", "--district", "西城", "--db", db, stdin=PASSWORDS["west"] + "\n")
    for name, extra in (("boss", ["--role", "command"]), ("west", ["--role", "district", "--district", "西城"])):
        central.tokens[name] = cli("token", "add", f"{name}-script", *extra, "--db", db).strip().splitlines()[-1]
    seed_station(db, WEST, name="西城二号警务站", district="西城", incident=None, position=(39.91, 116.36))
    prepare_database(db)
    handle = Db(db)
    try:  # this year's incidents, in the week up to yesterday
        end = time.time() - 86400
        seed_incidents(handle, [EAST], start=end - 6 * 86400, end=end, count=EAST_ALARMS, seed=1)
        seed_incidents(handle, [WEST], start=end - 6 * 86400, end=end, count=WEST_ALARMS, seed=2)
    finally:
        handle.close()
    config = workdir / "station.toml"
    config.write_text(
        f'[station]\nid = "{EAST}"\nname = "东城一号警务站"\ndistrict = "东城"\nlatitude = 39.93\n'
        "longitude = 116.42\n\n[uplink]\ntelemetry_interval = 1\n",
        encoding="utf-8",
    )
    edge = EdgeProc(workdir, station=EAST, broker_url=broker.url, extra=["--config", str(config)])
    try:
        central.start()
        edge.start()
        wait_until(
            lambda: any(
                s["station"] == EAST and s["state"] == "online"
                for s in central.api("/api/v1/stations", central.tokens["boss"])["stations"]
            ),
            timeout=60,
            what="the edge online at the hub",
        )
        yield World(central, edge)
    finally:
        if edge.proc is not None:  # never leave it stopped
            with contextlib.suppress(ProcessLookupError):
                os.killpg(edge.proc.pid, signal.SIGCONT)
        edge.stop()
        rc = central.stop()
        broker.stop()
    assert rc == 0, central.hub.log()[-3000:] if central.hub else ""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@contextlib.contextmanager
def signed_in(browser: Any, world: World, name: str, *, lang: str = "zh", **ctx: Any) -> Iterator[Any]:
    with sign_in(browser, world.url, name, PASSWORDS[name], lang=lang, **ctx) as page:
        yield page


def test_a_stopped_daemon_turns_silent_on_the_open_page_and_comes_back(world: World, browser: Any) -> None:
    assert world.edge.proc is not None
    with signed_in(browser, world, "boss") as page:
        page.goto(f"{world.url}/stations")
        page.wait_for_selector(f"tr[data-station='{EAST}'][data-state='online']")
        page.wait_for_function("() => document.body.getAttribute('data-stream') === 'open'")
        page.evaluate("window.__noReload = true")
        os.killpg(world.edge.proc.pid, signal.SIGSTOP)  # frozen: no will, no report, the socket stays open
        try:
            page.wait_for_selector(f"tr[data-station='{EAST}'][data-state='silent']", timeout=60_000)
            assert page.evaluate("window.__noReload") is True  # the stream redrew it
            page.wait_for_selector(f"#station-map a[href='/stations/{EAST}'] circle.st-silent")
        finally:
            os.killpg(world.edge.proc.pid, signal.SIGCONT)
        page.wait_for_selector(f"tr[data-station='{EAST}'][data-state='online']", timeout=60_000)
        assert page.evaluate("window.__noReload") is True


def test_the_map_and_a_mass_outage_banner(world: World, browser: Any) -> None:
    with signed_in(browser, world, "boss", lang="en") as page:
        page.goto(f"{world.url}/stations")
        page.wait_for_selector("#station-map")
        shown = page.eval_on_selector_all("#station-map a", "links => links.map(a => a.getAttribute('href'))")
        assert sorted(shown) == [f"/stations/{EAST}", f"/stations/{WEST}"]
        assert page.query_selector("#mass-outage") is None
        db = Db(world.central.db_url)
        try:  # what the hub service writes when its liveness notifier calls a mass outage
            db.run("INSERT INTO hub_state VALUES ('mass_outage', ?, ?)", ('{"down": 40, "text": "x"}', time.time()))
            page.reload()
            banner = page.wait_for_selector("#mass-outage")
            assert banner is not None and "Mass outage" in banner.inner_text() and "40" in banner.inner_text()
        finally:
            db.run("DELETE FROM hub_state WHERE name='mass_outage'")
            db.close()
    with signed_in(browser, world, "west") as page:
        page.goto(f"{world.url}/stations")
        page.wait_for_selector("#station-map")
        shown = page.eval_on_selector_all("#station-map a", "links => links.map(a => a.getAttribute('href'))")
        assert shown == [f"/stations/{WEST}"]


def test_a_station_page_charts_its_telemetry_history(world: World, browser: Any) -> None:
    def samples() -> int:
        db = Db(world.central.db_url)
        try:
            row = db.one("SELECT COUNT(*) FROM telemetry_raw WHERE station=?", (EAST,))
        finally:
            db.close()
        return int(row[0]) if row else 0

    wait_until(lambda: samples() >= 3, timeout=30, what="three telemetry reports in the history")
    with signed_in(browser, world, "boss") as page:
        page.goto(f"{world.url}/stations/{EAST}?window=6h")
        charts = page.eval_on_selector_all("#station-charts figure", "fs => fs.map(f => f.dataset.chart)")
        assert charts[:4] == ["link", "outbox", "cpu", "disk"]
        assert page.query_selector("figure[data-chart='outbox'] svg[role='img'] :is(polyline, circle)") is not None
        assert page.query_selector("figure[data-chart='link'] rect.s-connected") is not None
        # A year's window is drawn from the per-minute aggregates: ten days of them, ending a month ago.
        db = Db(world.central.db_url)
        try:
            seed_telemetry(db, EAST, end=time.time() - 30 * 86400, hours=240, every_s=120)
        finally:
            db.close()
        page.goto(f"{world.url}/stations/{EAST}?window=365d")
        assert page.get_attribute("nav.filters a[aria-current='page']", "href") == "?window=365d"
        charts = page.eval_on_selector_all("#station-charts figure", "fs => fs.map(f => f.dataset.chart)")
        assert charts == ["link", "outbox", "cpu", "disk", "frames", "lag"]
        assert page.query_selector("figure[data-chart='frames'] svg[role='img'] polyline") is not None
        assert page.query_selector("figure[data-chart='link'] rect.s-disconnected") is not None  # its outage
    with signed_in(browser, world, "west") as page:
        assert page.goto(f"{world.url}/stations/{EAST}").status == 404  # another district's station


def test_response_statistics_page_csv_and_api_respect_rights(world: World, browser: Any) -> None:
    today = date.today()
    span = f"from={(today - timedelta(days=13)).isoformat()}&to={today.isoformat()}"
    with signed_in(browser, world, "boss") as page:
        page.goto(f"{world.url}/stats?{span}&group=district&period=week")
        assert page.inner_text("#kpi-alarms") == str(EAST_ALARMS + WEST_ALARMS)
        groups = page.eval_on_selector_all("#stats-groups tr[data-group]", "rows => rows.map(r => r.dataset.group)")
        assert groups == ["东城", "西城"]
        assert page.query_selector(".plots svg[role='img'] rect.c0") is not None
        download = page.request.get(f"{world.url}/stats/response.csv?{span}&group=station")
        assert download.status == 200 and download.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(download.text().lstrip("\ufeff"))))
        assert rows[0][:4] == ["station", "name", "district", "alarms"]
        assert {r[0]: int(r[3]) for r in rows[1:]} == {EAST: EAST_ALARMS, WEST: WEST_ALARMS, "*": 12}
        page.goto(f"{world.url}/stats?from=tomorrow")
        assert "from='tomorrow'" in page.inner_text("#stats-error")
    with signed_in(browser, world, "west", lang="en") as page:
        page.goto(f"{world.url}/stats?{span}")
        assert page.inner_text("#kpi-alarms") == str(WEST_ALARMS)
        shown = page.eval_on_selector_all("#stats-groups tr[data-group]", "rows => rows.map(r => r.dataset.group)")
        assert shown == [WEST]
    every = world.api(f"/api/v1/stats/response?{span}&group=station", "boss")
    assert every["total"]["alarms"] == 12 and {g["key"] for g in every["groups"]} == {EAST, WEST}
    assert set(every["total"]["within"]) == {"respond", "arrive", "resolve"}
    west = world.api(f"/api/v1/stats/response?{span}&group=district", "west")
    assert west["total"]["alarms"] == WEST_ALARMS and [g["key"] for g in west["groups"]] == ["西城"]
    with pytest.raises(urllib.error.HTTPError) as err:
        world.api("/api/v1/stats/response?group=school", "boss")
    assert err.value.code == 400


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_new_pages_pass_axe(world: World, browser: Any, lang: str) -> None:
    problems = {}
    with signed_in(browser, world, "boss", lang=lang, bypass_csp=True) as page:
        for path in ("/stations", f"/stations/{EAST}", "/stats", "/stats?group=district&period=month"):
            page.goto(f"{world.url}{path}")
            if path == "/stations":
                page.wait_for_selector("#station-map")
            problems[path] = axe_violations(page)
    assert not any(problems.values()), problems


def test_the_packaged_assets_only(world: World, browser: Any) -> None:
    with signed_in(browser, world, "boss") as page:
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        for path in ("/stats", f"/stations/{EAST}", "/stations"):
            page.goto(f"{world.url}{path}")
        assert requested and all(u.startswith(world.url) for u in requested)
