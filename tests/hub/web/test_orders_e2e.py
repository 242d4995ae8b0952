"""Work orders end to end: the real edge daemon (kiosk and orders components), a real Mosquitto, the hub
with its signing key serving the console (`--http`), and Debian's chromium at central.

A report filed through the kiosk's API appears at the station (crew API `orders.list`) and at central
(browser); it is triaged, assigned and resolved from both sides, and the kiosk's `orders.status` shows the
outcome. Then the same with the link down (the broker stopped) while the station works the order: its
changes wait in the outbox and arrive in order, and both sides end on one agreed state. Last, a conflict:
central refers an order while the station, offline, settles and resolves it; by the rule central's change
stands and the station's are kept in the history as refused, at central and at the station.
The test process is the daemon's own user, so its connection has the admin role (kiosk and crew methods;
changes name who made them in `by`, as an admin tool's do).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import pytest
from playwright.sync_api import expect

from edge.api.client import EdgeClient
from edge.sim.broker import MosquittoProcess, free_port
from edge.wire.api.kiosk import KioskSubmit
from edge.wire.api.orders import OrderChangeParams, OrderView, PublicStatus
from hub.web.accounts import Accounts
from hub.web.console import prepare_database
from hub.web.db import Db
from tests.support.browser import chromium
from tests.support.central import signed_in
from tests.support.commands import central_keys
from tests.support.procs import EdgeProc, HubProc, wait_until

pytestmark = [pytest.mark.slow]

T = TypeVar("T")
ST = "SZ-FT-0042"
PASSWORD = "boss-pass-1"


def arun(factory: Callable[[], Awaitable[T]]) -> T:
    """A coroutine in its own thread and loop (Playwright's sync API owns this thread's loop)."""

    async def main() -> T:
        return await factory()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result(timeout=120)


class World:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.broker = MosquittoProcess(tmp / "mosquitto")
        self.db_url = f"sqlite:///{tmp / 'hub.db'}"
        self.port = free_port()
        key, public = central_keys().write(tmp)
        self.hub = HubProc(
            tmp,
            broker_url=self.broker.url,
            db_url=self.db_url,
            client_id="hub-orders",
            extra=["--http", f"127.0.0.1:{self.port}", "--signing-key-file", str(key)],
        )
        self.public = public
        self.edge: EdgeProc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.broker.start()
        prepare_database(self.db_url)
        db = Db(self.db_url)
        try:
            Accounts(db).add_user("boss", "command", PASSWORD)
        finally:
            db.close()
        self.hub.start()
        opts = {
            "kiosk.enabled": "true",
            "station.name": '"福田深南路警务站"',
            "station.district": '"福田"',
            "commands.public_key_file": f'"{self.public}"',
            "uplink.reconnect_min": "0.2",
            "uplink.reconnect_max": "1",
            "uplink.telemetry_interval": "1",
        }
        extra = [a for k, v in opts.items() for a in ("--set", f"{k}={v}")]
        self.edge = EdgeProc(self.tmp, station=ST, broker_url=self.broker.url, extra=[*extra, "--ack-timeout", "2"])
        self.edge.start()
        wait_until(lambda: "orders.list" in self.call(lambda c: c.methods()), timeout=30, what="the orders component")

    def stop(self) -> None:
        if self.edge is not None:
            self.edge.stop()
        self.hub.stop()
        self.broker.stop()

    def call(self, fn: Callable[[EdgeClient], Awaitable[T]]) -> T:
        sock = self.edge.socket if self.edge else Path()

        async def go() -> T:
            async with EdgeClient(sock, timeout=20) as client:
                return await fn(client)

        return arun(go)

    def report(self, description: str) -> str:
        fields = {"location": "幸福路12号", "description": description, "name": "张三", "phone": "13812345678"}
        result = self.call(lambda c: c.kiosk_submit(KioskSubmit(service="report_dispute", fields=fields)))
        assert result.ticket.startswith(f"{ST}-")
        return result.ticket

    def crew(self, ticket: str, action: str, **kw: str) -> OrderView:
        change = OrderChangeParams(ticket=ticket, action=action, by="7701", **kw)  # type: ignore[arg-type]
        return self.call(lambda c: c.change_order(change))

    def at_station(self, ticket: str) -> OrderView:
        return self.call(lambda c: c.work_order(ticket))

    def status(self, ticket: str) -> PublicStatus:
        return self.call(lambda c: c.order_status(ticket))

    def at_central(self, ticket: str) -> dict[str, Any] | None:
        db = Db(self.db_url)
        try:
            row = db.one("SELECT body FROM console_orders WHERE ticket=?", (ticket,))
        finally:
            db.close()
        return None if row is None else dict(json.loads(row[0]))

    def agreed(self, ticket: str) -> bool:
        """Both sides on one state: the station's copy is central's, nothing of its own pending."""
        central = self.at_central(ticket)
        view = self.at_station(ticket)
        return (
            central is not None
            and view.pending == 0
            and view.order.rev == central["rev"]
            and (view.order.state == central["state"])
        )

    def link(self) -> str:
        return str(self.call(lambda c: c.status()).link.state)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """Each test its own broker, hub and daemon: stopping and restarting the broker makes a new process,
    which must end with the test that made it."""
    w = World(tmp_path)
    try:
        w.start()
        yield w
    finally:
        w.stop()


@pytest.fixture
def page(world: World) -> Iterator[Any]:
    with chromium() as browser, signed_in(browser, world.url, "boss", PASSWORD) as p:
        p.set_default_timeout(30_000)
        yield p


def central_does(page: Any, world: World, ticket: str, action: str, value: str = "") -> None:
    """Make a change in the console's order page, as a person does, and wait for the page to show it."""
    page.goto(f"{world.url}/orders/{ticket}")
    before = page.get_attribute("#order-state", "data-rev")
    if action == "triage":
        page.select_option("#triage", value)
    elif action == "assign":
        page.fill("#officer", value)
    elif action in ("resolve", "refer"):
        page.fill(f"#outcome-{action}", value)
    page.click(f"#do-{action} button")
    expect(page.locator("#order-state")).not_to_have_attribute("data-rev", str(before), timeout=30_000)


@contextlib.contextmanager
def link_down(world: World) -> Iterator[None]:
    world.broker.stop()
    wait_until(lambda: world.link() != "connected", timeout=30, what="the station's link down")
    try:
        yield
    finally:
        world.broker.start()
        wait_until(lambda: world.link() == "connected", timeout=60, what="the station's link back")


def test_a_report_is_worked_from_both_sides_and_the_kiosk_shows_the_outcome(world: World, page: Any) -> None:
    ticket = world.report("楼上深夜噪音扰民")
    assert [v.order.ticket for v in world.call(lambda c: c.work_orders("open")).orders] == [ticket]
    page.goto(f"{world.url}/orders")
    page.wait_for_selector(f"tr[data-ticket='{ticket}']")  # at central (live: the stream refreshes it)
    central_does(page, world, ticket, "triage", "follow_up")
    wait_until(lambda: world.at_station(ticket).order.state == "triaged", timeout=30, what="central's triage")
    world.crew(ticket, "assign", officer="王警官")
    page.wait_for_selector("#order-state[data-state='assigned']")  # the station's change, live
    central_does(page, world, ticket, "resolve", "双方已调解，签订协议")
    wait_until(lambda: world.agreed(ticket), timeout=30, what="one agreed state")
    view = world.at_station(ticket)
    assert (view.order.state, view.order.officer, view.order.outcome) == ("resolved", "王警官", "双方已调解，签订协议")
    assert [(s.origin, s.action) for s in view.order.history] == [
        ("central", "triage"),
        ("station", "assign"),
        ("central", "resolve"),
    ]
    status = world.status(ticket[-6:])  # "check my report" at the kiosk: the number on the receipt
    assert (status.state, status.outcome) == ("resolved", "双方已调解，签订协议")
    public = msgspec.json.encode(status).decode()
    assert "王警官" not in public and "1381234" not in public and "幸福路" not in public


def test_changes_made_while_the_link_is_down_arrive_in_order(world: World, page: Any) -> None:
    ticket = world.report("停车位纠纷")
    wait_until(lambda: world.at_central(ticket) is not None, timeout=30, what="the report at central")
    with link_down(world):
        world.crew(ticket, "triage", triage="on_spot")
        world.crew(ticket, "assign", officer="李警官")
        world.crew(ticket, "start")
        view = world.at_station(ticket)
        assert view.order.state == "in_progress" and view.pending == 3  # the station's view, not yet agreed
        central = world.at_central(ticket)
        assert central is not None and central["state"] == "new"  # nothing reached central yet
    wait_until(lambda: world.agreed(ticket), timeout=60, what="one agreed state after the link came back")
    central = world.at_central(ticket)
    assert central is not None and central["state"] == "in_progress"
    assert [(s["action"], s["refused"]) for s in central["history"]] == [
        ("triage", ""),
        ("assign", ""),
        ("start", ""),
    ]
    central_does(page, world, ticket, "resolve", "现场调解完毕")
    wait_until(lambda: world.agreed(ticket), timeout=30, what="the resolve at the station")
    assert world.status(ticket).state == "resolved"


def test_a_conflict_while_the_link_is_down_is_resolved_by_the_rule(world: World, page: Any) -> None:
    ticket = world.report("邻里漏水纠纷")
    wait_until(lambda: world.at_central(ticket) is not None, timeout=30, what="the report at central")
    with link_down(world):
        central_does(page, world, ticket, "refer", "转交社区人民调解委员会")
        world.crew(ticket, "triage", triage="on_spot")
        world.crew(ticket, "resolve", outcome="现场调解")
        assert world.at_station(ticket).order.state == "resolved"  # the station's view while down
    wait_until(lambda: world.agreed(ticket), timeout=60, what="one agreed state after the conflict")
    view = world.at_station(ticket)
    assert (view.order.state, view.order.outcome) == ("referred", "转交社区人民调解委员会")
    assert [(s.origin, s.action, bool(s.refused)) for s in view.order.history] == [
        ("central", "refer", False),
        ("station", "triage", True),
        ("station", "resolve", True),
    ]
    page.goto(f"{world.url}/orders/{ticket}")
    assert page.locator("#history tr[data-refused='1']").count() == 2
    status = world.status(ticket)
    assert (status.state, status.outcome) == ("referred", "转交社区人民调解委员会")
