"""Work orders in the real daemon with the uplink down: a report filed through the kiosk's API becomes an
order, the crew (its own role, logged in) triages, assigns and resolves it, and after a restart the
`workorder.change` events wait in the outbox in the order they were made, right after the report."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from edge.api.client import ApiError, EdgeClient
from edge.wire.api.kiosk import KioskSubmit
from edge.wire.api.orders import OrderChangeParams
from edge.wire.errors import FORBIDDEN
from tests.support.procs import EdgeProc, wait_until

pytestmark = pytest.mark.slow

T = TypeVar("T")
ST = "ST-W1"
NO_BROKER = "mqtt://127.0.0.1:9"  # nothing listens: the uplink stays down
UID = os.getuid()
PHONE = "13812345678"


def session(edge: EdgeProc, go: Callable[[EdgeClient], Awaitable[T]]) -> T:
    async def run() -> T:
        async with EdgeClient(edge.socket, timeout=20) as client:
            return await go(client)

    return asyncio.run(run())


def daemon(tmp_path: Path, *roles: str) -> EdgeProc:
    extra = ["--set", "kiosk.enabled=true", "--set", "uplink.reconnect_min=0.2", "--set", "uplink.reconnect_max=1"]
    for r in roles:
        extra += ["--set", r]
    edge = EdgeProc(tmp_path, station=ST, broker_url=NO_BROKER, extra=extra, data_dir=tmp_path / "data")
    edge.start()
    wait_until(
        lambda: {"orders.list", "orders.status"} & set(session(edge, lambda c: c.methods())),
        timeout=20,
        what="the orders component",
    )
    return edge


def outbox(data_dir: Path) -> list[dict[str, Any]]:
    con = sqlite3.connect(f"file:{data_dir / 'outbox.db'}?mode=ro", uri=True)
    try:
        return [json.loads(body) for (body,) in con.execute("SELECT body FROM events ORDER BY seq")]
    finally:
        con.close()


def test_orders_worked_offline_are_queued_in_order_across_a_restart(tmp_path: Path) -> None:
    # the kiosk: files a report, sees its progress, may not change it
    edge = daemon(tmp_path, f"api.kiosk_users=[{UID}]")
    try:

        async def as_kiosk(c: EdgeClient) -> tuple[str, str, int]:
            result = await c.kiosk_submit(
                KioskSubmit(
                    service="report_dispute",
                    fields={"description": "楼道堆放杂物", "location": "幸福路12号", "name": "张三", "phone": PHONE},
                )
            )
            status = await c.order_status(result.ticket[-6:])
            with pytest.raises(ApiError) as err:
                await c.change_order(OrderChangeParams(ticket=result.ticket, action="start"))
            return result.ticket, status.state, err.value.code

        ticket, state, refused = session(edge, as_kiosk)
        assert (state, refused) == ("new", FORBIDDEN)
    finally:
        edge.stop()

    # the crew console: logged in, works the order with the link down
    edge = daemon(tmp_path, f"api.crew_users=[{UID}]", 'api.crew={A7 = "王警官"}')
    try:

        async def as_crew(c: EdgeClient) -> tuple[list[str], int, int]:
            with pytest.raises(ApiError) as not_logged_in:
                await c.change_order(OrderChangeParams(ticket=ticket, action="triage", triage="on_spot"))
            await c.login("A7")
            for p in (
                OrderChangeParams(ticket=ticket, action="triage", triage="on_spot"),
                OrderChangeParams(ticket=ticket, action="assign", officer="李警官"),
                OrderChangeParams(ticket=ticket, action="resolve", outcome="已清理"),
            ):
                await c.change_order(p)
            listing = await c.work_orders()
            with pytest.raises(ApiError) as status_refused:
                await c.order_status(ticket)
            return (
                [f"{v.order.state}:{v.pending}" for v in listing.orders],
                not_logged_in.value.code,
                status_refused.value.code,
            )

        rows, not_logged_in, status_refused = session(edge, as_crew)
        assert rows == ["resolved:3"] and not_logged_in == FORBIDDEN and status_refused == FORBIDDEN
        assert session(edge, lambda c: c.status()).link.state != "connected"
    finally:
        edge.stop()

    # after a restart (admin), the view and the queue are as they were
    edge = daemon(tmp_path)
    try:
        view = session(edge, lambda c: c.work_order(ticket))
        assert (view.order.state, view.order.outcome, view.pending) == ("resolved", "已清理", 3)
        assert [s.by for s in view.order.history] == ["王警官"] * 3
    finally:
        edge.stop()
    events = outbox(tmp_path / "data")
    kinds = [e["type"] for e in events if e["type"] in ("kiosk.report", "workorder.change")]
    assert kinds == ["kiosk.report", "workorder.change", "workorder.change", "workorder.change"]
    changes = [e["data"]["change"] for e in events if e["type"] == "workorder.change"]
    assert [c["action"] for c in changes] == ["triage", "assign", "resolve"]
    assert {(c["ticket"], c["by"], c["origin"]) for c in changes} == {(ticket, "王警官", "station")}
    assert len({e["priority"] for e in events if e["type"] in ("kiosk.report", "workorder.change")}) == 1
