"""The work-order pages in a real browser (Debian's chromium, Playwright) against the hub serving `--http`
with a real Mosquitto. Reports are stored as a station's outbox sends them; a person at central sees
them, triages, assigns and resolves one; a station's change shows up live; rights and languages hold.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from edge.sim.broker import MosquittoProcess
from edge.wire.messages import Priority
from hub.web.accounts import Accounts
from hub.web.console import prepare_database
from hub.web.db import Db
from hub.web.demo import seed_station, store_event
from tests.support.browser import axe_violations, chromium
from tests.support.central import Central
from tests.support.central import signed_in as console_signed_in
from tests.support.procs import wait_until

pytestmark = [pytest.mark.slow]

FT, LH = "SZ-FT-0042", "SZ-LH-0007"
PASSWORDS = {"boss": "boss-pass-1", "lh": "lh-pass-12", "wall": "wall-pass-1"}


def report(place: str, description: str, category: str = "dispute") -> dict[str, Any]:
    return {
        "request_id": uuid.uuid4().hex,
        "service": f"report_{category}",
        "category": category,
        "fields": {"location": place, "description": description, "phone": "13812345678"},
    }


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    workdir = tmp_path_factory.mktemp("orders")
    broker = MosquittoProcess(workdir / "mosquitto")
    broker.start()
    hub = Central(workdir, broker.url)
    hub.db_url = f"sqlite:///{workdir / 'hub.db'}"
    prepare_database(hub.db_url)
    db = Db(hub.db_url)
    try:
        accounts = Accounts(db)
        accounts.add_user("boss", "command", PASSWORDS["boss"])
        accounts.add_user("lh", "district", PASSWORDS["lh"], district="罗湖")
        accounts.add_user("wall", "viewer", PASSWORDS["wall"])
        hub.tokens["api"] = accounts.add_token("channel", "viewer")
    finally:
        db.close()
    seed_station(hub.db_url, FT, name="福田深南路警务站", district="福田", incident=None)
    seed_station(hub.db_url, LH, name="罗湖东门警务站", district="罗湖", incident=None)
    store_event(hub.db_url, FT, 1, "kiosk.report", report("幸福路12号", "楼上噪音扰民"), priority=Priority.WARNING)
    store_event(hub.db_url, LH, 1, "kiosk.report", report("东门天桥", "井盖缺失", "hazard"), priority=Priority.WARNING)
    store_event(hub.db_url, FT, 2, "kiosk.report", report("深南大道", "停车纠纷"), priority=Priority.WARNING)
    try:
        hub.start()
        yield hub
    finally:
        rc = hub.stop()
        broker.stop()
    assert rc == 0, hub.hub.log()[-3000:] if hub.hub else ""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@contextlib.contextmanager
def signed_in(browser: Any, central: Central, name: str, *, lang: str = "zh", **ctx: Any) -> Iterator[Any]:
    with console_signed_in(browser, central.url, name, PASSWORDS[name], lang=lang, **ctx) as page:
        yield page


def test_a_report_is_seen_triaged_assigned_and_resolved_at_central(central: Central, browser: Any) -> None:
    ticket = f"{FT}-000001"
    with signed_in(browser, central, "boss") as page:
        page.click("nav >> text=报案工单")
        page.wait_for_selector(f"tr[data-ticket='{ticket}']")
        assert page.locator("#orders tbody tr").count() == 3
        assert page.locator("#order-counts tr[data-station]").count() == 2
        page.click(f"a:text('{ticket}')")
        assert page.inner_text("#contact").startswith("138****5678")
        page.select_option("#triage", "follow_up")
        page.click("#do-triage button")
        page.wait_for_selector("#order-state[data-state='triaged']")
        page.fill("#officer", "王警官")
        page.click("#do-assign button")
        page.wait_for_selector("#order-state[data-state='assigned']")
        assert page.inner_text("#order-officer") == "王警官"
        page.fill("#officer", "李警官")  # reassign
        page.click("#do-assign button")
        expect(page.locator("#order-officer")).to_have_text("李警官")
        page.fill("#outcome-resolve", "双方已调解，签订协议")
        page.click("#do-resolve button")
        page.wait_for_selector("#order-state[data-state='resolved']")
        assert page.locator("#do-triage, #do-assign, #do-resolve").count() == 0  # closed: no more actions
        history = page.locator("#history tbody tr[data-action]")
        assert [history.nth(i).get_attribute("data-action") for i in range(history.count())] == [
            "triage",
            "assign",
            "assign",
            "resolve",
        ]
        page.click("#reveal")  # the full number, for a role that acts on it (audited)
        expect(page.locator("#contact")).to_contain_text("13812345678")  # (no eval: the CSP forbids it)
        page.goto(f"{central.url}/audit")
        assert page.locator("tr[data-action='order.contact']").count() == 1
        page.goto(f"{central.url}/orders?state=resolved")
        assert page.locator(f"#orders tr[data-ticket='{ticket}']").count() == 1
    public = central.api(f"/api/v1/orders/{ticket}", central.tokens["api"])
    assert public["state"] == "resolved" and public["outcome"] == "双方已调解，签订协议"
    assert "李警官" not in json.dumps(public, ensure_ascii=False) and "contact" not in public


def test_a_stations_change_appears_live_and_a_stale_action_is_refused(central: Central, browser: Any) -> None:
    ticket = f"{FT}-000002"
    with signed_in(browser, central, "boss", lang="en") as page:
        page.goto(f"{central.url}/orders/{ticket}")
        page.wait_for_selector("#order-state[data-state='new']")
        change = {
            "change_id": uuid.uuid4().hex,
            "ticket": ticket,
            "action": "triage",
            "by": "crew-7",
            "at": "2026-12-03T08:05:00Z",
            "origin": "station",
            "triage": "to_station",
        }
        store_event(central.db_url, FT, 3, "workorder.change", {"change": change}, priority=Priority.WARNING)
        page.wait_for_selector("#order-state[data-state='triaged']")  # live, from the event stream
        assert page.locator("#history tr[data-origin='station']").count() == 1
        assert "to the station" in page.inner_text("#history")
        csrf = page.input_value("#do-refer input[name=csrf]")
        refer = {**change, "change_id": uuid.uuid4().hex, "action": "refer", "outcome": "转派出所"}
        store_event(central.db_url, FT, 4, "workorder.change", {"change": refer}, priority=Priority.WARNING)
        wait_until(
            lambda: central.api(f"/api/v1/orders/{ticket}", central.tokens["api"])["state"] == "referred",
            timeout=20,
            what="the station's refer at central",
        )
        # a resolve sent from a page that had not caught up yet: refused, not forced
        stale = page.request.post(
            f"{central.url}/orders/{ticket}/change",
            form={"csrf": csrf, "action": "resolve", "outcome": "现场调解", "base_rev": "1"},
            max_redirects=0,
        )
        assert stale.status == 409 and 'id="refused"' in stale.text()
        page.wait_for_selector("#order-state[data-state='referred']")
        assert page.locator("#do-resolve").count() == 0


def test_rights_hold_for_district_officers_and_viewers(central: Central, browser: Any) -> None:
    with signed_in(browser, central, "lh") as page:
        page.goto(f"{central.url}/orders")
        assert page.locator("#orders tbody tr").count() == 1  # only their district's station
        response = page.goto(f"{central.url}/orders/{FT}-000001")
        assert response is not None and response.status == 404
        page.goto(f"{central.url}/orders/{LH}-000001")
        assert page.locator("#do-triage").count() == 1
    with signed_in(browser, central, "wall") as page:
        page.goto(f"{central.url}/orders/{LH}-000001")
        assert page.locator("#do-triage, #reveal").count() == 0
        csrf = page.input_value("form[action='/logout'] input[name=csrf]")
        for path, form in (("change", {"action": "triage", "triage": "on_spot"}), ("contact", {})):
            sent = page.request.post(f"{central.url}/orders/{LH}-000001/{path}", form={"csrf": csrf, **form})
            assert sent.status == 403  # a viewer changes nothing and sees no full number
        assert page.inner_text("#contact").startswith("138****5678")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_order_pages_pass_axe(central: Central, browser: Any, lang: str) -> None:
    with signed_in(browser, central, "boss", lang=lang, bypass_csp=True) as page:
        problems = {}
        for path in ("/orders", f"/orders/{LH}-000001", "/orders?state=all"):
            page.goto(f"{central.url}{path}")
            problems[path] = axe_violations(page)
    assert not any(problems.values()), problems


def test_the_full_number_stays_out_of_the_console_tables_and_the_commands(central: Central) -> None:
    db = Db(central.db_url)
    try:
        bodies = " ".join(str(r[0]) for r in db.rows("SELECT body FROM console_orders"))
        sent = " ".join(str(r[0]) for r in db.rows("SELECT args FROM central_commands"))
    finally:
        db.close()
    assert "13812345678" not in bodies and "13812345678" not in sent and "138****5678" in bodies
