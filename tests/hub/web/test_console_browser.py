"""The command console in a real browser (Debian's chromium, Playwright) against a real Mosquitto, the hub
serving `--http`, and an edge daemon with the alarms component receiving a DC-09 panic from the school
panel simulator. Other stations are seeded into the hub's database as a station would have sent them.
No assertion is about wall-clock time: waits are "until it happened" with a generous give-up; the
event-to-screen delay is measured and printed, not asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from drivers.dc09.sender import Dc09Transmitter
from edge.api.client import EdgeClient
from edge.sim.broker import MosquittoProcess, free_port
from edge.sim.school import PanelLink, SchoolPanel
from edge.wire.errors import ApiError
from tests.support.browser import axe_violations, chromium
from tests.support.central import Central, hub_cli, incident_dict, seed_station
from tests.support.central import signed_in as console_signed_in
from tests.support.procs import EdgeProc, stored_events, wait_until

pytestmark = [pytest.mark.slow]

KEY = "000102030405060708090a0b0c0d0e0f"
EAST, WEST, NORTH = "ST-EAST", "ST-WEST", "ST-NORTH"
PASSWORDS = {
    "boss": "boss-pass-1",
    "west": "west-pass-1",
    "east": "east-pass-1",
    "lockme": "lock-pass-1",
    "wall": "wall-pass-1",
}
T = TypeVar("T")


def arun(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine in its own thread and loop (Playwright's sync API owns this thread's loop)."""

    async def main() -> T:
        return await factory()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result(timeout=120)


def edge_config(path: Path, dc09_port: int) -> Path:
    path.write_text(
        f"""
[station]
id = "{EAST}"
name = "东城一号警务站"
district = "东城"
latitude = 39.91
longitude = 116.41

[uplink]
telemetry_interval = 1

[alarms]
enabled = true

[alarms.dc09]
host = "127.0.0.1"
port_tcp = {dc09_port}
port_udp = {dc09_port}

[[alarms.schools]]
account = "1234"
name = "阳光小学"
name_en = "Sunshine Primary School"
key = "{KEY}"
points = [{{ zone = 1, name = "正门一键报警", name_en = "Main gate button" }}]
""",
        encoding="utf-8",
    )
    return path


cli = hub_cli


class World:
    def __init__(self, central: Central, edge: EdgeProc, dc09_port: int, seeded: dict[str, str]) -> None:
        self.central, self.edge, self.dc09_port, self.seeded = central, edge, dc09_port, seeded

    @property
    def url(self) -> str:
        return self.central.url


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workdir = tmp_path_factory.mktemp("central")
    broker = MosquittoProcess(workdir / "mosquitto")
    broker.start()
    central = Central(workdir, broker.url)
    db = f"sqlite:///{workdir / 'hub.db'}"
    central.db_url = db
    # accounts and tokens through the command line, as an operator makes them
    cli("user", "add", "boss", "--role", "command", "--db", db, stdin=PASSWORDS["boss"] + "\n")
    cli("user", "add", "west", "--role", "district", "--district", "西城", "--db", db, stdin=PASSWORDS["west"] + "\n")
    cli("user", "add", "east", "--role", "district", "--district", "东城", "--db", db, stdin=PASSWORDS["east"] + "\n")
    cli("user", "add", "lockme", "--role", "viewer", "--db", db, stdin=PASSWORDS["lockme"] + "\n")
    cli("user", "add", "wall", "--role", "viewer", "--db", db, stdin=PASSWORDS["wall"] + "\n")
    for name, role, district in (("boss", "command", ""), ("west", "district", "西城"), ("east", "district", "东城")):
        extra = ["--district", district] if district else []
        central.tokens[name] = (
            cli("token", "add", f"{name}-script", "--role", role, *extra, "--db", db).strip().splitlines()[-1]
        )
    now = time.time()
    seeded = {WEST: "INC-20261203-080000-west", NORTH: "INC-20261203-080000-nort"}
    seed_station(
        db,
        WEST,
        name="西城二号警务站",
        district="西城",
        incident=incident_dict(seeded[WEST], now - 30, site="育才中学", site_en="Yucai Middle School"),
    )
    seed_station(
        db,
        NORTH,
        name="东城三号警务站",
        district="东城",
        incident=incident_dict(seeded[NORTH], now - 20, site="北湖小学", site_en="Beihu Primary School"),
    )
    dc09_port = free_port()
    edge = EdgeProc(
        workdir,
        station=EAST,
        broker_url=broker.url,
        extra=["--config", str(edge_config(workdir / "station.toml", dc09_port))],
    )
    try:
        central.start()
        edge.start()
        wait_until(
            lambda: any(
                s["station"] == EAST and s["district"] == "东城"
                for s in central.api("/api/v1/stations", central.tokens["boss"])["stations"]
            ),
            timeout=60,
            what="the edge's telemetry (with its district) at the hub",
        )
        wait_for_alarms_component(edge)
        yield World(central, edge, dc09_port, seeded)
    finally:
        edge.stop()
        rc = central.stop()
        broker.stop()
    assert rc == 0, central.hub.log()[-3000:] if central.hub else ""


def wait_for_alarms_component(edge: EdgeProc) -> None:
    async def ready() -> bool:
        with contextlib.suppress(OSError, ApiError):
            async with EdgeClient(edge.socket, timeout=5) as client:
                return "dc09" in (await client.status()).devices
        return False

    wait_until(lambda: arun(ready), timeout=60, interval=0.3, what="the alarms component")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def signed_in(browser: Any, world: World, name: str, *, lang: str = "zh", **ctx: Any) -> Any:
    return console_signed_in(browser, world.url, name, PASSWORDS[name], lang=lang, **ctx)


def press_panic(world: World) -> None:
    async def send() -> None:
        panel = SchoolPanel(Dc09Transmitter(account="1234", key=bytes.fromhex(KEY)))
        link = PanelLink(host="127.0.0.1", port=world.dc09_port, keys={"1234": bytes.fromhex(KEY)})
        await link.open()
        try:
            _, frame = panel.frame("panic")
            answer = await link.exchange(frame, timeout=10)
            assert answer is not None and answer.kind == "ACK"
        finally:
            await link.close()

    arun(send)


def crew(world: World, method: str, params: dict[str, Any]) -> dict[str, Any]:
    async def call() -> dict[str, Any]:
        async with EdgeClient(world.edge.socket, timeout=10) as client:
            result: dict[str, Any] = await client.call(method, params)
            return result

    return arun(call)


def test_a_panic_appears_live_with_a_cue_and_its_timeline_follows_the_crew(world: World, browser: Any) -> None:
    with signed_in(browser, world, "boss") as page:
        page.wait_for_selector(f"tr[data-incident='{world.seeded[WEST]}']")
        page.wait_for_function("() => document.body.getAttribute('data-stream') === 'open'")
        page.evaluate("""() => { window.__noReload = true; window.__drawnAt = {};
            new MutationObserver(() => document.querySelectorAll('#board tr[data-incident]').forEach(tr => {
              const id = tr.getAttribute('data-incident');
              if (!(id in window.__drawnAt)) { window.__drawnAt[id] = Date.now() / 1000; } }))
              .observe(document.getElementById('board'), {childList: true, subtree: true}); }""")
        sounds_before = page.evaluate("window.pkConsole.sounds")
        press_panic(world)
        row = page.wait_for_selector("#board tr.unseen:has-text('阳光小学')")
        iid = row.get_attribute("data-incident")
        assert iid and page.evaluate("window.__noReload") is True  # drawn without a reload
        assert page.is_visible("#cue.on")
        page.wait_for_function(f"() => window.pkConsole.sounds > {sounds_before}")
        # how long from stored at the hub to drawn in the browser (measured, printed, not asserted)
        raised = next(
            e
            for e in stored_events(world.central.db_url)
            if e["type"] == "alarm.raised" and e["data"]["incident_id"] == iid
        )
        stored_at = _received_at(world.central.db_url, EAST, int(raised["seq"]))
        drawn_at = page.evaluate(f"window.__drawnAt['{iid}']")
        print(f"\nevent stored -> drawn in the browser: {drawn_at - stored_at:.3f} s")

        # the cue stays until someone marks it seen (an audited POST)
        page.click(f"tr[data-incident='{iid}'] .seen-btn")
        page.wait_for_selector(f"tr[data-incident='{iid}']:not(.unseen)")

        page.goto(f"{world.url}/incidents/{EAST}/{iid}")
        page.wait_for_function("() => document.body.getAttribute('data-stream') === 'open'")
        page.evaluate("window.__noReload = true")
        crew(world, "incidents.ack", {"id": iid, "by": "7701"})
        crew(world, "incidents.dispatch", {"id": iid, "unit": "巡逻 3", "by": "7701"})
        crew(world, "incidents.arrive", {"id": iid, "by": "巡逻 3"})
        crew(world, "incidents.close", {"id": iid, "outcome": "real", "note": "", "by": "7701"})
        page.wait_for_selector("#timeline tr[data-what='closed']")
        assert page.evaluate("window.__noReload") is True
        steps = page.eval_on_selector_all("#timeline tr[data-what]", "rows => rows.map(r => r.dataset.what)")
        assert steps == ["raised", "acknowledged", "dispatched", "on_scene", "closed"]
        assert "7701" in page.inner_text("#timeline")
        assert page.inner_text("#incident-state") == "已结案"

        page.goto(f"{world.url}/audit")
        audit = page.inner_text("#audit")
        assert "incident.seen" in audit and f"{EAST}/{iid}" in audit and "boss" in audit


def _received_at(db_url: str, station: str, seq: int) -> float:
    import sqlite3

    from hub.store import sqlite_path

    con = sqlite3.connect(sqlite_path(db_url))
    try:
        row = con.execute("SELECT received_at FROM events WHERE station=? AND seq=?", (station, seq)).fetchone()
    finally:
        con.close()
    return float(row[0])


def test_a_district_officer_sees_and_acts_only_on_their_district(world: World, browser: Any) -> None:
    west, north = world.seeded[WEST], world.seeded[NORTH]
    with signed_in(browser, world, "west") as page:
        page.wait_for_selector(f"tr[data-incident='{west}']")
        assert page.query_selector(f"tr[data-incident='{north}']") is None
        page.goto(f"{world.url}/stations")
        shown = page.eval_on_selector_all("#stations tr[data-station]", "rows => rows.map(r => r.dataset.station)")
        assert shown == [WEST]
        response = page.goto(f"{world.url}/incidents/{NORTH}/{north}")
        assert response is not None and response.status == 404
        csrf = page.get_attribute("input[name=csrf]", "value")
        refused = page.request.post(f"{world.url}/incidents/{NORTH}/{north}/seen", form={"csrf": csrf or ""})
        assert refused.status == 404
    tokens = world.central.tokens
    api_west = world.central.api("/api/v1/stations", tokens["west"])["stations"]
    assert [s["station"] for s in api_west] == [WEST]
    incidents = world.central.api("/api/v1/incidents?open=0", tokens["west"])["incidents"]
    assert {i["station"] for i in incidents} == {WEST}
    east_view = {i["station"] for i in world.central.api("/api/v1/incidents?open=0", tokens["east"])["incidents"]}
    assert WEST not in east_view and NORTH in east_view
    every = {s["station"] for s in world.central.api("/api/v1/stations", tokens["boss"])["stations"]}
    assert every == {EAST, WEST, NORTH}


def test_a_viewer_sees_every_station_but_changes_nothing(world: World, browser: Any) -> None:
    west = world.seeded[WEST]
    with signed_in(browser, world, "wall") as page:
        row = page.wait_for_selector(f"tr[data-incident='{west}']")
        assert row is not None and row.query_selector(".seen-btn") is None
        csrf = page.get_attribute("input[name=csrf]", "value")
        assert page.request.post(f"{world.url}/incidents/{WEST}/{west}/seen", form={"csrf": csrf or ""}).status == 403
        assert page.goto(f"{world.url}/audit").status == 403
        page.goto(f"{world.url}/stations")
        shown = page.eval_on_selector_all("#stations tr[data-station]", "rows => rows.map(r => r.dataset.station)")
        assert set(shown) == {EAST, WEST, NORTH}


def test_the_stations_page_shows_state_and_filters_by_district_and_state(world: World, browser: Any) -> None:
    with signed_in(browser, world, "boss", lang="en") as page:
        page.goto(f"{world.url}/stations")
        east = page.wait_for_selector(f"tr[data-station='{EAST}']")
        assert east is not None and east.get_attribute("data-state") == "online"
        assert "东城一号警务站" in east.inner_text()
        page.select_option("#f-district", "西城")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**/stations?district=*")
        shown = page.eval_on_selector_all("#stations tr[data-station]", "rows => rows.map(r => r.dataset.station)")
        assert shown == [WEST]
        page.goto(f"{world.url}/stations?state=offline")
        assert page.query_selector("#stations") is None


def test_repeated_wrong_passwords_lock_the_account(world: World, browser: Any) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{world.url}/lang/en?next=/login")
        messages = []
        for _ in range(5):
            page.fill("#name", "lockme")
            page.fill("#password", "not-the-password")
            page.click("form.login button[type=submit]")
            messages.append(page.inner_text("#login-error"))
        assert messages[0] == "Wrong name or password."
        assert "locked" in messages[-1]
        page.fill("#name", "lockme")
        page.fill("#password", PASSWORDS["lockme"])
        page.click("form.login button[type=submit]")
        assert "locked" in page.inner_text("#login-error")  # even the right password, while locked
        assert page.url.endswith("/login")
    finally:
        context.close()
    with signed_in(browser, world, "boss") as page:
        page.goto(f"{world.url}/audit")
        assert page.query_selector("#audit tr[data-action='login.locked']:has-text('lockme')") is not None


def test_posts_without_the_sessions_csrf_token_are_refused(world: World, browser: Any) -> None:
    north = world.seeded[NORTH]
    with signed_in(browser, world, "east") as page:
        seen = f"{world.url}/incidents/{NORTH}/{north}/seen"
        assert page.request.post(seen, form={"csrf": "forged"}).status == 403
        assert page.request.post(seen, form={}).status == 403
        assert page.request.post(f"{world.url}/logout", form={}).status == 403
        page.goto(f"{world.url}/alarms")
        assert page.query_selector(f"tr.unseen[data-incident='{north}']") is not None  # nothing changed
        page.click(f"tr[data-incident='{north}'] .seen-btn")  # the form with the token works
        page.wait_for_selector(f"tr[data-incident='{north}']:not(.unseen)")
    fresh = browser.new_context()
    try:  # a sign-in posted from elsewhere (no double-submit cookie) is refused too
        answer = fresh.request.post(
            f"{world.url}/login", form={"name": "boss", "password": PASSWORDS["boss"], "csrf": "x"}
        )
        assert answer.status == 403
    finally:
        fresh.close()


def test_the_event_stream_resumes_after_the_last_event_id(world: World) -> None:
    def read_events(last_id: str = "", want: int = 1) -> list[dict[str, str]]:
        headers = {"Authorization": f"Bearer {world.central.tokens['boss']}", "Accept": "text/event-stream"}
        if last_id:
            headers["Last-Event-ID"] = last_id
        events: list[dict[str, str]] = []
        current: dict[str, str] = {}
        with urllib.request.urlopen(
            urllib.request.Request(f"{world.url}/api/v1/stream", headers=headers), timeout=10
        ) as r:
            while len([e for e in events if e.get("event") == "alarm"]) < want:
                line = r.readline().decode().rstrip("\n")
                if not line:
                    if current:
                        events.append(current)
                    current = {}
                    continue
                field, _, value = line.partition(": ")
                current[field] = value
        return events

    first = [e for e in read_events("0~x~0", want=2) if e.get("event") == "alarm"]
    assert len(first) == 2 and all(e["id"] for e in first)
    after = [e for e in read_events(first[0]["id"], want=1) if e.get("event") == "alarm"]
    assert after[0]["id"] == first[1]["id"]  # resumes exactly after the event it names
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{world.url}/api/v1/stream", timeout=5)
    assert err.value.code == 401


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_passes_axe(world: World, browser: Any, lang: str) -> None:
    west = world.seeded[WEST]
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(f"{world.url}/lang/{lang}?next=/login")
        problems = {"/login": axe_violations(page)}
    finally:
        context.close()
    with signed_in(browser, world, "boss", lang=lang, bypass_csp=True) as page:
        for path in ("/alarms", f"/incidents/{WEST}/{west}", "/stations", "/audit"):
            page.goto(f"{world.url}{path}")
            problems[path] = axe_violations(page)
    assert not any(problems.values()), problems
