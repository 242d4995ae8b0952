"""The work-orders component with the daemon's own context (FakeContext): creation from a report, the
crew's changes as durable events in order, central's agreed state (newer, older, malformed), pending
changes re-applied on top, and everything kept across a restart."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest

from edge.config.orders import OrdersSection
from edge.kiosk import events as kiosk_events
from edge.orders.component import OrdersComponent
from edge.wire import messages as wire
from edge.wire.errors import INVALID_PARAMS, NOT_FOUND, UNAVAILABLE, ApiError
from edge.wire.orders import OrderChange, WorkOrder, apply, new_order
from tests.support.context import FakeContext

assert kiosk_events  # registers kiosk.report

ST = "ST-T"
REPORT = {
    "request_id": "r1",
    "service": "report_dispute",
    "category": "dispute",
    "fields": {"location": "幸福路12号", "description": "楼上噪音", "name": "张三", "phone": "13812345678"},
    "lang": "zh",
    "from_card": False,
}


async def started(ctx: FakeContext) -> OrdersComponent:
    comp = OrdersComponent(OrdersSection())
    await comp.start(ctx)
    return comp


async def report(ctx: FakeContext) -> str:
    stored = await ctx.emit("kiosk.report", wire.Priority.WARNING, REPORT)
    return f"{ST}-{stored.seq:06d}"


def changes(ctx: FakeContext) -> list[dict[str, Any]]:
    return [d["change"] for t, d in ctx.events if t == "workorder.change"]


def central_copy(order: WorkOrder, rev: int, *seen: OrderChange, then: tuple[OrderChange, ...] = ()) -> WorkOrder:
    """Central's copy: the station's changes it has seen applied in order, then its own."""
    for c in (*seen, *then):
        order = apply(order, c)
    return msgspec.structs.replace(order, rev=rev)


def command(args: Any) -> wire.Command:
    return wire.Command(id=uuid.uuid4().hex, name="workorder.state", args=args)


async def test_a_report_becomes_an_order_with_its_ticket_and_a_masked_contact(tmp_path: Path) -> None:
    ctx = FakeContext(tmp_path, station=ST)
    comp = await started(ctx)
    ticket = await report(ctx)
    listing = await ctx.call("orders.list")
    assert [v["order"]["ticket"] for v in listing["orders"]] == [ticket]
    order = listing["orders"][0]["order"]
    assert (order["state"], order["place"], order["contact"], order["category"]) == (
        "new",
        "幸福路12号",
        "138****5678",
        "dispute",
    )
    assert "13812345678" not in msgspec.json.encode(listing).decode() and "张三" not in str(listing)
    assert (listing["open"], listing["new"]) == (1, 1)
    assert [t for t, _ in ctx.published] == ["orders.new"]
    await comp.stop()


async def test_crew_changes_are_durable_events_in_the_order_made(tmp_path: Path) -> None:
    ctx = FakeContext(tmp_path, station=ST)
    comp = await started(ctx)
    ticket = await report(ctx)
    for p in (
        {"action": "triage", "triage": "follow_up"},
        {"action": "assign", "officer": "王警官"},
        {"action": "start"},
        {"action": "resolve", "outcome": "双方已调解"},
    ):
        view = await ctx.call("orders.change", {"ticket": ticket, "by": "crew-7", **p})
    assert view["order"]["state"] == "resolved" and view["pending"] == 4
    sent = changes(ctx)
    assert [c["action"] for c in sent] == ["triage", "assign", "start", "resolve"]
    assert all(c["by"] == "crew-7" and c["origin"] == "station" and c["base_rev"] == 0 for c in sent)
    assert [t for t, _ in ctx.published].count("orders.changed") == 4
    assert [c for c, _ in comp._store().pending_seqs()] == [c["change_id"] for c in sent]
    await comp.stop()


async def test_a_change_that_does_not_fit_is_refused_in_both_languages_and_sends_nothing(tmp_path: Path) -> None:
    ctx = FakeContext(tmp_path, station=ST)
    comp = await started(ctx)
    ticket = await report(ctx)
    with pytest.raises(ApiError) as err:
        await ctx.call("orders.change", {"ticket": ticket, "action": "start", "by": "crew-7"})
    assert err.value.code == INVALID_PARAMS
    assert err.value.data == {"zh": "工单待分流，不能开始处理", "en": "cannot start an order that is new"}
    with pytest.raises(ApiError) as err:
        await ctx.call("orders.change", {"ticket": ticket, "action": "triage", "by": "crew-7"})
    assert err.value.code == INVALID_PARAMS and "处置方式" in err.value.data["zh"]
    with pytest.raises(ApiError) as err:
        await ctx.call("orders.change", {"ticket": f"{ST}-999999", "action": "start", "by": "crew-7"})
    assert err.value.code == NOT_FOUND
    assert changes(ctx) == []
    await comp.stop()


async def test_centrals_state_newer_replaces_older_is_ignored_malformed_is_logged(tmp_path: Path) -> None:
    ctx = FakeContext(tmp_path, station=ST)
    comp = await started(ctx)
    ticket = await report(ctx)
    mine = (await ctx.call("orders.change", {"ticket": ticket, "action": "triage", "triage": "on_spot", "by": "c"}))[
        "order"
    ]
    own = msgspec.convert(changes(ctx)[0], OrderChange)
    base = comp.book.agreed[ticket]
    handler = ctx.commands["workorder.state"]

    # central saw the triage and assigned an officer itself: rev 3
    assign = OrderChange(
        change_id=uuid.uuid4().hex, ticket=ticket, action="assign", by="中心", at="t", origin="central", officer="李"
    )
    agreed = central_copy(base, 3, own, then=(assign,))
    await handler(command({"orders": [msgspec.to_builtins(agreed)]}))
    got = await ctx.call("orders.get", {"ticket": ticket})
    o = got["order"]
    assert (o["state"], o["officer"], o["rev"], got["pending"]) == ("assigned", "李", 3, 0)
    assert comp._store().pending_seqs() == []

    # an older copy (rev 2) changes nothing
    await handler(command({"orders": [msgspec.to_builtins(central_copy(base, 2, own))]}))
    assert (await ctx.call("orders.get", {"ticket": ticket}))["order"]["rev"] == 3

    # malformed: logged and ignored, never a crash
    for bad in ({"orders": "x"}, {"orders": [{"ticket": 5}]}, {}, {"orders": [{"station": ST}]}):
        await handler(command(bad))
    # another station's order is not taken
    other = msgspec.structs.replace(agreed, ticket="ST-X-000001", station="ST-X", rev=9)
    await handler(command({"orders": [msgspec.to_builtins(other)]}))
    assert [v["order"]["ticket"] for v in (await ctx.call("orders.list"))["orders"]] == [ticket]
    assert mine["state"] == "triaged"
    await comp.stop()


async def test_changes_central_has_not_seen_are_reapplied_on_its_copy(tmp_path: Path) -> None:
    ctx = FakeContext(tmp_path, station=ST)
    comp = await started(ctx)
    ticket = await report(ctx)
    for p in ({"action": "triage", "triage": "follow_up"}, {"action": "assign", "officer": "王"}, {"action": "start"}):
        await ctx.call("orders.change", {"ticket": ticket, "by": "c", **p})
    triage, assign, start = (msgspec.convert(c, OrderChange) for c in changes(ctx))
    # central has the triage only (the rest still on the way)
    await ctx.commands["workorder.state"](
        command({"orders": [msgspec.to_builtins(central_copy(comp.book.agreed[ticket], 1, triage))]})
    )
    got = await ctx.call("orders.get", {"ticket": ticket})
    assert (got["order"]["state"], got["order"]["officer"], got["pending"]) == ("in_progress", "王", 2)
    assert [c for c, _ in comp._store().pending_seqs()] == [assign.change_id, start.change_id]
    # central referred it before the rest arrived: the view is central's, the changes still pending
    refer = OrderChange(
        change_id=uuid.uuid4().hex, ticket=ticket, action="refer", by="中心", at="t", origin="central", outcome="转社区"
    )
    await ctx.commands["workorder.state"](
        command({"orders": [msgspec.to_builtins(central_copy(comp.book.agreed[ticket], 2, then=(refer,)))]})
    )
    got = await ctx.call("orders.get", {"ticket": ticket})
    assert (got["order"]["state"], got["pending"]) == ("referred", 2)
    await comp.stop()


async def test_offline_changes_and_orders_survive_a_restart_in_order(tmp_path: Path) -> None:
    ctx = FakeContext(tmp_path, station=ST)
    comp = await started(ctx)
    ticket = await report(ctx)
    for p in ({"action": "triage", "triage": "to_station"}, {"action": "assign", "officer": "王"}):
        await ctx.call("orders.change", {"ticket": ticket, "by": "c", **p})
    before = await ctx.call("orders.get", {"ticket": ticket})
    seqs = comp._store().pending_seqs()
    await comp.stop()

    ctx2 = FakeContext(tmp_path, station=ST)
    comp2 = await started(ctx2)
    assert await ctx2.call("orders.get", {"ticket": ticket}) == before
    assert comp2._store().pending_seqs() == seqs
    assert [s for _, s in seqs] == sorted(s for _, s in seqs)
    await comp2.stop()


async def test_an_order_lost_in_a_crash_comes_back_from_central(tmp_path: Path) -> None:
    ctx = FakeContext(tmp_path, station=ST)
    comp = await started(ctx)
    lost = new_order(f"{ST}-000007", ST, category="hazard", service="report_hazard", fields={}, created_at="t")
    restored = msgspec.structs.replace(lost, rev=1)
    await ctx.commands["workorder.state"](command({"orders": [msgspec.to_builtins(restored)]}))
    assert (await ctx.call("orders.get", {"ticket": lost.ticket}))["order"]["category"] == "hazard"
    assert "orders.new" in [t for t, _ in ctx.published]
    await comp.stop()


class CentralContext(FakeContext):
    """A context whose central answers `workorder.status` for the tickets it knows."""

    def __init__(self, data_dir: Path, known: dict[str, dict[str, Any]]) -> None:
        super().__init__(data_dir, station=ST)
        self.known = known
        self.asked: list[dict[str, Any]] = []

    async def call_hub(self, method: str, params: dict[str, Any], *, timeout: float = 5.0) -> Any:
        assert method == "workorder.status"
        self.asked.append(params)
        if params["ticket"] not in self.known:
            raise ApiError(NOT_FOUND, "no such ticket")
        return self.known[params["ticket"]]


async def test_a_resident_checks_a_ticket_here_or_at_central_and_sees_nothing_personal(tmp_path: Path) -> None:
    far = "SZ-NS-0002-000031"
    ctx = CentralContext(
        tmp_path,
        {far: {"ticket": far, "state": "resolved", "outcome": "已修复", "contact": "138****5678", "officer": "李"}},
    )
    comp = await started(ctx)
    ticket = await report(ctx)
    await ctx.call("orders.change", {"ticket": ticket, "by": "c", "action": "refer", "outcome": "转交物业"})
    for asked in (ticket, ticket[-6:], str(int(ticket[-6:]))):
        status = await ctx.call("orders.status", {"ticket": asked})
        assert status == {
            "ticket": ticket,
            "state": "referred",
            "triage": "",
            "outcome": "转交物业",
            "updated_at": status["updated_at"],
            "created_at": status["created_at"],
            "source": "station",
        }
    assert ctx.asked == []

    # another station's ticket: central is asked only when the link is up
    with pytest.raises(ApiError) as err:
        await ctx.call("orders.status", {"ticket": far})
    assert err.value.code == UNAVAILABLE and err.value.data["zh"]
    ctx.link = "connected"
    status = await ctx.call("orders.status", {"ticket": far})
    assert (status["state"], status["outcome"], status["source"]) == ("resolved", "已修复", "central")
    assert "contact" not in status and "officer" not in status
    with pytest.raises(ApiError) as err:
        await ctx.call("orders.status", {"ticket": "SZ-NS-0002-000032"})
    assert err.value.code == NOT_FOUND and "请核对" in err.value.data["zh"]
    with pytest.raises(ApiError) as err:
        await ctx.call("orders.status", {"ticket": "../etc/passwd"})
    assert err.value.code == INVALID_PARAMS
    await comp.stop()


class SyncingCentral(FakeContext):
    """A context whose central answers `workorder.sync` with the copies it holds."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir, station=ST)
        self.copies: list[Any] = []
        self.asked: list[list[str]] = []

    async def call_hub(self, method: str, params: dict[str, Any], *, timeout: float = 5.0) -> Any:
        assert method == "workorder.sync"
        self.asked.append(params["tickets"])
        return {"orders": self.copies}


async def test_the_station_asks_central_for_orders_it_has_unconfirmed_changes_of(tmp_path: Path) -> None:
    """A lost `workorder.state` command does not leave an order "not synced": `workorder.sync` asks."""
    ctx = SyncingCentral(tmp_path)
    comp = await started(ctx)
    ticket = await report(ctx)
    assert await comp.sync() == 0 and ctx.asked == []  # nothing pending, nothing asked
    await ctx.call("orders.change", {"ticket": ticket, "action": "triage", "triage": "on_spot", "by": "c"})
    assert await comp.sync() == 0 and ctx.asked == []  # the link is down
    ctx.link = "connected"
    own = msgspec.convert(changes(ctx)[0], OrderChange)
    ctx.copies = [msgspec.to_builtins(central_copy(comp.book.agreed[ticket], 2, own)), "garbage"]
    assert await comp.sync() == 0  # a malformed answer is ignored as a whole
    ctx.copies = ctx.copies[:1]
    assert await comp.sync() == 1 and ctx.asked[-1] == [ticket]
    assert (await ctx.call("orders.get", {"ticket": ticket}))["pending"] == 0
    assert await comp.sync() == 0  # nothing pending any more: central is not asked again
    assert len(ctx.asked) == 2
    await comp.stop()
