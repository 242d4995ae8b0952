"""Pushes from the command console in a real browser (Debian's chromium, Playwright), against a real Mosquitto,
the hub holding central's signing key and serving `--http`, a kiosk station (东城) and a vision station (西城)
whose camera plays a generated clip: a notice written and pushed in the console reaches the kiosk; a
watch-list entry added in the console reaches the vision station, whose camera then sees the vehicle, and
the hit shows on the vehicle-warnings page with its snapshot; a district officer cannot push to another
district (page and API); the new pages pass axe. Waits are "until it happened", never wall-clock asserts."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge.api.client import EdgeClient
from edge.sim.broker import MosquittoProcess, free_port
from tests.support.browser import axe_violations, chromium
from tests.support.central import hub_cli, seed_station, signed_in, wait_for_console
from tests.support.media import make_plate_video
from tests.support.procs import EdgeProc, stored_events, wait_until
from tests.support.station import CENTRAL, Station

pytestmark = [pytest.mark.slow]

KIOSK, VISION = "ST-PK1", "ST-PV1"
WANTED, OTHER = "粤B8Z527", "浙C67D90"
PASSWORDS = {"boss": "boss-pass-1", "east": "east-pass-1", "wall": "wall-pass-1"}


@dataclass
class World:
    tmp: Path
    broker: MosquittoProcess
    kiosk: Station
    url: str
    tokens: dict[str, str]
    video: Path

    @property
    def db_url(self) -> str:
        return self.kiosk.db_url


def vision_config(world: World) -> Path:
    _, public_key = CENTRAL.write(world.tmp / "vision-keys")
    cfg = world.tmp / "vision.toml"
    cfg.write_text(
        f"""
[station]
id = "{VISION}"
name = "西城视频警务站"
district = "西城"
[uplink]
url = "{world.broker.url}"
telemetry_interval = 1
[commands]
public_key_file = "{public_key}"
[vision]
enabled = true
[[vision.cameras]]
id = "gate-east"
name = "东门 East gate"
source = "{world.video}"
""",
        encoding="utf-8",
    )
    return cfg


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("push")
    video = make_plate_video(tmp / "clip.mp4", [OTHER, WANTED])
    broker = MosquittoProcess(tmp / "mosquitto")
    broker.start()
    port = free_port()
    kiosk = Station(
        tmp,
        broker,
        station=KIOSK,
        printer=False,
        signing=True,
        hub_extra=["--http", f"127.0.0.1:{port}"],
        extra=[
            "--set",
            'station.district="东城"',
            "--set",
            'station.name="东城自助警务站"',
            "--set",
            "uplink.telemetry_interval=1",
        ],
    )
    db = kiosk.db_url
    hub_cli("user", "add", "boss", "--role", "command", "--db", db, stdin=PASSWORDS["boss"] + "\n")
    hub_cli("user", "add", "east", "--role", "district", "--district", "东城", "--db", db, stdin="east-pass-1\n")
    hub_cli("user", "add", "wall", "--role", "viewer", "--db", db, stdin=PASSWORDS["wall"] + "\n")
    tokens = {
        name: hub_cli("token", "add", f"{name}-script", "--role", role, *extra, "--db", db).strip().splitlines()[-1]
        for name, role, extra in (("boss", "command", []), ("east", "district", ["--district", "东城"]))
    }
    # the vision station was heard from before (the console knows its district); it starts in its test
    seed_station(db, VISION, name="西城视频警务站", district="西城", incident=None)
    try:
        kiosk.start()
        url = f"http://127.0.0.1:{port}"
        wait_for_console(url, kiosk.hub)
        world = World(tmp, broker, kiosk, url, tokens, video)
        wait_until(
            lambda: {KIOSK: "东城", VISION: "西城"}.items() <= districts(world).items(),
            timeout=60,
            what="the kiosk station's telemetry (with its district) at the hub",
        )
        yield world
    finally:
        kiosk.close()
        broker.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def api(world: World, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(
        world.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def districts(world: World) -> dict[str, str]:
    _, got = api(world, "GET", "/api/v1/stations", world.tokens["boss"])
    return {s["station"]: s["district"] for s in got["stations"]}


def vision_call(socket: Path, method: str) -> dict[str, Any]:
    async def q() -> dict[str, Any]:
        async with EdgeClient(socket, timeout=10) as c:
            res: dict[str, Any] = await c.call(method)
            return res

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        return pool.submit(asyncio.run, q()).result(timeout=30)


def test_a_notice_pushed_from_the_console_reaches_the_kiosk(world: World, browser: Any) -> None:
    with signed_in(browser, world.url, "boss", PASSWORDS["boss"]) as page:
        page.goto(f"{world.url}/notices")
        page.fill("#n-title-zh", "警惕冒充客服退款诈骗")
        page.fill("#n-title-en", "Beware of fake refund calls")
        page.fill("#n-body-zh", "客服不会要求您开通屏幕共享或转账。")
        page.fill("#n-body-en", "Customer service never asks you to share your screen or transfer money.")
        page.check("input[name=scope_kind][value=district]")
        page.select_option("#n-district", "东城")
        # the preview follows the form as the kiosk will show it (htmx, no reload)
        page.wait_for_selector(".kiosk-previews .k-title:has-text('警惕冒充客服退款诈骗')")
        assert "【Anti-fraud】Beware of fake refund calls" in page.inner_text(".kiosk-previews")
        page.click("#notice-form button:not([formaction])")
        page.wait_for_url(f"{world.url}/notices")
        row = page.wait_for_selector("#notices tr[data-notice]:has-text('警惕冒充客服退款诈骗')")
        assert row is not None and "东城" in row.inner_text()
        notice_id = row.get_attribute("data-notice")

        def shown() -> list[dict[str, Any]]:
            return list(world.kiosk.call("kiosk.notices")["notices"])

        wait_until(lambda: any(n["title"]["zh"] == "警惕冒充客服退款诈骗" for n in shown()), timeout=30, what="kiosk")
        (notice,) = shown()
        assert notice["kind"] == "anti_fraud" and notice["title"]["en"] == "Beware of fake refund calls"
        # the push's state, from central's outbox
        wait_until(lambda: _reloaded_state(page, f"{world.url}/notices") == "published", timeout=30, what="published")
        # withdrawn in the console: the kiosk's set for this station is replaced by one without it
        page.click(f"#notices tr[data-notice='{notice_id}'] button")
        wait_until(lambda: shown() == [], timeout=30, what="the withdrawn notice to leave the kiosk")
        page.goto(f"{world.url}/audit")
        assert "notice.push" in page.inner_text("#audit") and "notice.withdraw" in page.inner_text("#audit")


def _reloaded_state(page: Any, url: str) -> str:
    page.goto(url)
    return str(page.get_attribute("#pushes tr[data-push]", "data-state"))


def test_a_watch_list_entry_reaches_the_station_and_its_hit_shows_on_the_warnings_page(
    world: World, browser: Any
) -> None:
    with signed_in(browser, world.url, "boss", PASSWORDS["boss"], lang="en") as page:
        page.goto(f"{world.url}/watchlist")
        page.fill("#w-plate", "粤B 8Z527")
        page.fill("#w-reason", "被盗车辆 stolen")
        page.select_option("#w-priority", "1")
        page.check("input[name=scope_kind][value=district]")
        page.select_option("#w-district", "西城")
        page.click("#watch-form button[type=submit]")
        page.wait_for_selector(f"#watch-entries tr[data-plate='{WANTED}']")
        wait_until(lambda: _reloaded_state(page, f"{world.url}/watchlist") == "published", timeout=30, what="pushed")
        _, listed = api(world, "GET", "/api/v1/watchlist", world.tokens["boss"])
        version = int(listed["pushes"][0]["detail"])  # the version the stations were sent
        assert f"version {version}" in page.inner_text("#pushes tr[data-push]")

        # the station comes up and takes the retained list, then its camera sees the vehicle
        edge = EdgeProc(
            world.tmp, station=VISION, broker_url=world.broker.url, extra=["--config", str(vision_config(world))]
        )
        edge.start()
        try:
            wait_until(
                lambda: vision_call(edge.socket, "vision.watchlist")["version"] == version,
                timeout=60,
                what="the console's watch list installed at the station",
            )
            wait_until(
                lambda: any(e["type"] == "vision.plate_hit" for e in stored_events(world.db_url)),
                timeout=180,
                interval=1.0,
                what="the camera's hit to reach the hub",
            )
        finally:
            edge.stop()
        installed = [e for e in stored_events(world.db_url) if e["type"] == "vision.watchlist_installed"]
        assert installed and installed[-1]["data"]["version"] == version
        page.goto(f"{world.url}/warnings")
        row = page.wait_for_selector(f"#hits tr[data-plate='{WANTED}'][data-station='{VISION}']")
        assert row is not None and "stolen" in row.inner_text()
        page.wait_for_function(
            "() => { const i = document.querySelector('#hits img.snap');"
            " return i && i.complete && i.naturalWidth > 0; }"
        )
        page.goto(f"{world.url}/warnings?plate=8z52")
        assert page.query_selector(f"#hits tr[data-plate='{WANTED}']") is not None
        page.goto(f"{world.url}/warnings?station={KIOSK}")
        assert page.query_selector("#hits") is None
    _, hits = api(world, "GET", "/api/v1/warnings", world.tokens["boss"])
    assert [h["listed_plate"] for h in hits["hits"]] == [WANTED]
    with signed_in(browser, world.url, "east", PASSWORDS["east"]) as page:  # 东城: not this 西城 hit
        page.goto(f"{world.url}/warnings")
        assert page.query_selector("#hits") is None
        snap = hits["hits"][0]["snapshot"]
        assert page.request.get(world.url + snap).status == 404
    _, east_hits = api(world, "GET", "/api/v1/warnings", world.tokens["east"])
    assert east_hits["hits"] == []


def test_a_district_officer_cannot_push_to_another_district(world: World, browser: Any) -> None:
    with signed_in(browser, world.url, "east", PASSWORDS["east"]) as page:
        page.goto(f"{world.url}/watchlist")
        options = page.eval_on_selector_all("#w-district option", "os => os.map(o => o.value)")
        assert options == ["东城"] and page.query_selector("input[name=scope_kind][value=all]") is None
        csrf = page.get_attribute("input[name=csrf]", "value") or ""
        entry = {"csrf": csrf, "plate": "京A12345", "reason": "x", "priority": "2", "scope_kind": "district"}
        refused = page.request.post(f"{world.url}/watchlist", form={**entry, "district": "西城"})
        assert refused.status == 403
        everywhere = page.request.post(f"{world.url}/watchlist", form={**entry, "scope_kind": "all"})
        assert everywhere.status == 403
        by_station = page.request.post(
            f"{world.url}/notices",
            form={
                "csrf": csrf,
                "title_zh": "提醒",
                "title_en": "Tip",
                "body_zh": "正文",
                "body_en": "Text",
                "scope_kind": "stations",
                "stations": VISION,
            },
        )
        assert by_station.status == 403
    east = world.tokens["east"]
    notice = {"title_zh": "提醒", "title_en": "Tip", "body_zh": "正文", "body_en": "Text"}
    for scope in ("district:西城", "all", f"stations:{VISION},{KIOSK}"):
        assert api(world, "POST", "/api/v1/notices", east, {**notice, "scope": scope}) == (403, {"error": "forbidden"})
        got = api(world, "POST", "/api/v1/watchlist", east, {"plate": "京A12345", "reason": "x", "scope": scope})
        assert got == (403, {"error": "forbidden"})
    _, listed = api(world, "GET", "/api/v1/watchlist", world.tokens["boss"])
    assert "京A12345" not in {e["plate"] for e in listed["entries"]}  # nothing was stored
    # their own district is theirs to push to
    status, made = api(
        world, "POST", "/api/v1/watchlist", east, {"plate": "京A12345", "reason": "x", "scope": "district:东城"}
    )
    assert status == 201 and made["entry"]["added_by"] == "token:east-script"
    assert api(world, "DELETE", f"/api/v1/watchlist/{made['entry']['id']}", east)[0] == 200
    # and a viewer changes nothing
    with signed_in(browser, world.url, "wall", PASSWORDS["wall"]) as page:
        page.goto(f"{world.url}/watchlist")
        assert page.query_selector("#watch-form") is None
        assert page.request.post(f"{world.url}/watchlist", form={"csrf": "x"}).status == 403


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_new_pages_pass_axe(world: World, browser: Any, lang: str) -> None:
    problems = {}
    with signed_in(browser, world.url, "boss", PASSWORDS["boss"], lang=lang, bypass_csp=True) as page:
        for path in ("/warnings", "/watchlist", "/notices"):
            page.goto(f"{world.url}{path}")
            problems[path] = axe_violations(page)
        page.fill("#n-title-zh", "预览")
        page.fill("#n-title-en", "Preview")
        page.fill("#n-body-zh", "正文")
        page.fill("#n-body-en", "Text")
        page.wait_for_selector(".kiosk-previews")
        problems["/notices (preview)"] = axe_violations(page)
    assert not any(problems.values()), problems
