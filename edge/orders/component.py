"""The work-orders component: every resident report becomes an order the station's crew works.

* **Creation.** The component asks to be told of every `kiosk.report` event once it is on disk
  (`ctx.on_event`, the daemon's general hook: it never reaches into the kiosk component), and creates
  the order (`edge.wire.orders.new_order`) with the report's ticket, `ticket_for(station, seq)`.
  Central creates the same order from the same event. If the station stops between the two (the
  report is on disk, the order not yet), central's `workorder.state` brings the order back.
* **Changes** (`orders.change`, the crew): decided against the station's view, then a durable
  `workorder.change` event (warning priority: the same outbox lane as the report, so central gets the
  report before its changes, and the changes in the order they were made, offline too), then kept as
  pending. One change at a time: the events leave in the order the views changed.
* **Agreement.** Central sequences and sends back the agreed state (`workorder.state`, signed, args
  `OrderStatesArgs`). A newer `rev` replaces the station's copy; the station's changes central has not
  seen yet are re-applied on top (`pending_after`); those it has seen stop being pending. While changes
  are pending and the link is up, the station also asks (`workorder.sync`, every `sync_interval`), so a
  lost command cannot leave an order "not synced" for good.

Notifications (crew): `orders.new` {order} and `orders.changed` {order, pending}.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

import msgspec

from edge.config.orders import OrdersSection
from edge.orders.api import OrdersApi, bilingual_error, refusal_error
from edge.orders.book import OrderBook, Taken
from edge.orders.store import OrderStore
from edge.spine.records import OutboxFullError, StoredEvent
from edge.wire import messages as wire
from edge.wire.api.orders import OrderChangeParams, OrderView
from edge.wire.errors import INVALID_PARAMS, NOT_FOUND, OUTBOX_FULL, ApiError
from edge.wire.orders import ChangeEvent, ChangeRefusedError, OrderChange, OrderStatesArgs, WorkOrder, apply, new_order
from kiosk.requests import ticket_for

if TYPE_CHECKING:
    from edge.component.context import ComponentContext

__all__ = ["OrdersComponent"]

log = logging.getLogger(__name__)

_PRUNE_EVERY = 86_400.0


class OrdersComponent:
    name = "OrdersComponent"
    critical = False

    def __init__(self, config: OrdersSection) -> None:
        self.config = config
        self.hub_timeout = config.hub_timeout
        self.book = OrderBook()
        self.store: OrderStore | None = None
        self.ctx: ComponentContext | None = None
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    # ---- lifecycle -----------------------------------------------------------------------------
    async def start(self, ctx: ComponentContext) -> None:
        self.ctx = ctx
        self.store = OrderStore(ctx.data_dir / "orders.db")
        orders, changes = await asyncio.to_thread(self.store.open)
        self.book.load(orders, changes)
        await self._prune()
        ctx.on_event("kiosk.report", self._on_report)
        ctx.on_command("workorder.state", self._cmd_state)
        OrdersApi(self).register(ctx)
        self._tasks.append(asyncio.create_task(self._prune_loop(), name="orders-prune"))
        self._tasks.append(asyncio.create_task(self._sync_loop(), name="orders-sync"))
        open_, new = self.book.counts()
        log.info("work orders ready: %d open (%d new), %d pending changes", open_, new, len(changes))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        async with self._lock:  # a change being written finishes first
            if self.store is not None:
                await asyncio.to_thread(self.store.close)

    # ---- what the API needs --------------------------------------------------------------------
    @property
    def station(self) -> str:
        return self._ctx().station

    @property
    def link_up(self) -> bool:
        return self._ctx().uplink_state == "connected"

    async def ask_central(self, ticket: str) -> Any:
        return await self._ctx().call_hub("workorder.status", {"ticket": ticket}, timeout=self.hub_timeout)

    def new_change(self, p: OrderChangeParams, by: str) -> OrderChange:
        agreed = self.book.agreed.get(p.ticket)
        raw = {
            "change_id": uuid.uuid4().hex,
            "ticket": p.ticket,
            "action": p.action,
            "by": by,
            "at": wire.utc_now_iso(),
            "origin": "station",
            "base_rev": agreed.rev if agreed is not None else 0,
            "triage": p.triage,
            "officer": p.officer.strip(),
            "outcome": p.outcome.strip(),
        }
        try:
            return msgspec.convert(raw, OrderChange)  # the contract's bounds, checked
        except msgspec.ValidationError as exc:
            raise ApiError(INVALID_PARAMS, f"orders.change: {exc}") from None

    async def change(self, change: OrderChange) -> OrderView:
        """Apply one of the crew's changes: refused (-32602, both languages) or emitted, kept, shown.
        Shielded: a client that goes away mid-change never leaves an event without its pending record."""
        return await asyncio.shield(self._change(change))

    async def _change(self, change: OrderChange) -> OrderView:
        ctx = self._ctx()
        async with self._lock:
            view = self.book.view(change.ticket)
            if view is None:
                raise bilingual_error(NOT_FOUND, f"没有这张工单 {change.ticket}", f"No work order {change.ticket}")
            try:
                after = apply(view, change)
            except ChangeRefusedError as exc:
                raise refusal_error(view, change.action, exc) from None
            # on disk first (the outbox), then the station's view: every pending change is on its way
            try:
                stored = await ctx.emit(
                    "workorder.change", wire.Priority.WARNING, msgspec.to_builtins(ChangeEvent(change=change))
                )
            except OutboxFullError as exc:
                raise ApiError(OUTBOX_FULL, str(exc)) from None
            await asyncio.to_thread(self._store().add_pending, change, stored.seq)
            self.book.add_local(change, after)
            result = OrderView(order=after, pending=self.book.pending_count(change.ticket))
        log.info("work order %s: %s by the station (event %d)", change.ticket, change.action, stored.seq)
        ctx.publish("orders.changed", _builtins(result))
        return result

    # ---- a resident's report becomes an order --------------------------------------------------
    async def _on_report(self, type_: str, stored: StoredEvent, data: dict[str, Any]) -> None:
        ctx = self._ctx()
        raw_fields = data.get("fields")
        fields = {str(k): str(v) for k, v in raw_fields.items()} if isinstance(raw_fields, dict) else {}
        order = new_order(
            ticket_for(ctx.station, stored.seq),
            ctx.station,
            category=str(data.get("category", ""))[:64],
            service=str(data.get("service", ""))[:64],
            fields=fields,
            created_at=wire.utc_now_iso(stored.accepted),
        )
        async with self._lock:
            if not self.book.create(order):
                return
            await asyncio.to_thread(self._store().put_agreed, [order])
        log.info("work order %s created from report event %d (%s)", order.ticket, stored.seq, order.category)
        ctx.publish("orders.new", {"order": msgspec.to_builtins(order)})

    # ---- central's agreed state ----------------------------------------------------------------
    # The daemon's command gate has verified the signature, target, time and counter of the command.
    async def _cmd_state(self, cmd: wire.Command) -> None:
        try:
            args = msgspec.convert(cmd.args, OrderStatesArgs)
        except msgspec.ValidationError as exc:
            log.warning("ignored malformed workorder.state command %s: %s", cmd.id, exc)
            return
        await self._take(args.orders, f"command {cmd.id}")

    async def sync(self) -> int:
        """Ask central (`workorder.sync`) for the agreed state of the orders with changes it has not
        confirmed yet, so that a `workorder.state` command that never arrived cannot leave them "not
        synced" for good. Returns how many copies were taken."""
        tickets = sorted(self.book.pending)[:200]
        if not tickets or not self.link_up:
            return 0
        try:
            answer = await self._ctx().call_hub("workorder.sync", {"tickets": tickets}, timeout=self.hub_timeout)
            args = msgspec.convert(answer, OrderStatesArgs)
        except ApiError as exc:  # central unreachable, or one that does not offer it
            log.debug("workorder.sync not answered: %s", exc)
            return 0
        except (msgspec.ValidationError, TypeError) as exc:
            log.warning("ignored a malformed workorder.sync answer: %s", exc)
            return 0
        return await self._take(args.orders, "workorder.sync")

    async def _take(self, orders: tuple[WorkOrder, ...], source: str) -> int:
        ctx = self._ctx()
        taken: list[tuple[WorkOrder, Taken]] = []
        async with self._lock:
            confirmed: list[str] = []
            for order in orders:
                if order.station != ctx.station or not order.ticket.startswith(order.station + "-"):
                    log.warning("ignored work order %.80s of another station (%s)", order.ticket, source)
                    continue
                got = self.book.take_agreed(order)
                if got is not None:
                    taken.append((order, got))
                    confirmed.extend(got.confirmed)
            if taken:
                await asyncio.to_thread(self._store().put_agreed, [o for o, _ in taken], drop_pending=confirmed)
        for _, got in taken:
            ctx.publish("orders.changed", {"order": msgspec.to_builtins(got.view), "pending": got.pending})
            if got.new:
                ctx.publish("orders.new", {"order": msgspec.to_builtins(got.view)})
        if taken:
            n, c = len(taken), len(confirmed)
            log.info("central's state of %d work order(s) taken from %s (%d changes confirmed)", n, source, c)
        return len(taken)

    # ---- housekeeping --------------------------------------------------------------------------
    async def _prune(self) -> None:
        before = wire.utc_now_iso(time.time() - self.config.keep_closed_days * 86_400.0)
        async with self._lock:
            gone = await asyncio.to_thread(self._store().prune_closed, before)
            self.book.forget(gone)
        if gone:
            log.info("forgot %d closed work order(s) older than %d days", len(gone), self.config.keep_closed_days)

    async def _prune_loop(self) -> None:
        while True:
            await asyncio.sleep(_PRUNE_EVERY)
            try:
                await self._prune()
            except Exception:  # tried again tomorrow; the orders themselves are unaffected
                log.exception("pruning closed work orders failed")

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.sync_interval)
            try:
                await self.sync()
            except Exception:  # asked again next time; the orders themselves are unaffected
                log.exception("asking central for the agreed work orders failed")

    def _ctx(self) -> ComponentContext:
        assert self.ctx is not None
        return self.ctx

    def _store(self) -> OrderStore:
        assert self.store is not None
        return self.store


def _builtins(view: OrderView) -> dict[str, Any]:
    out = msgspec.to_builtins(view)
    assert isinstance(out, dict)
    return out
