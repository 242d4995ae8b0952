"""The station's work orders in memory: central's agreed copies, the station's pending changes, the views.

Pure bookkeeping (no disk, no clock, no network): the component keeps the store in step with it. The
view of an order is central's agreed copy with the station's own unconfirmed changes re-applied on top
(`edge.wire.orders.pending_after`): what the crew sees and works, and what a resident's check shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.wire.orders import CLOSED_STATES, OrderChange, WorkOrder, pending_after

__all__ = ["OrderBook", "Taken"]


@dataclass(frozen=True, slots=True)
class Taken:
    """Central's copy of one order replaced the station's: the new view, and what it settled."""

    view: WorkOrder
    pending: int  # own changes still unconfirmed
    confirmed: tuple[str, ...]  # change ids central has now seen (no longer pending)
    new: bool  # the station did not know this order (a report lost in a crash, or made elsewhere)


class OrderBook:
    def __init__(self) -> None:
        self.agreed: dict[str, WorkOrder] = {}
        self.pending: dict[str, list[OrderChange]] = {}
        self.views: dict[str, WorkOrder] = {}

    def load(self, orders: list[WorkOrder], changes: list[OrderChange]) -> None:
        for o in orders:
            self.agreed[o.ticket] = o
        for c in changes:
            if c.ticket in self.agreed:
                self.pending.setdefault(c.ticket, []).append(c)
        for ticket in self.agreed:
            self._recompute(ticket)

    def view(self, ticket: str) -> WorkOrder | None:
        return self.views.get(ticket)

    def pending_count(self, ticket: str) -> int:
        return len(self.pending.get(ticket, ()))

    def create(self, order: WorkOrder) -> bool:
        """A report became an order here; False when it is known already (central's copy came first)."""
        if order.ticket in self.agreed:
            return False
        self.agreed[order.ticket] = order
        self.views[order.ticket] = order
        return True

    def add_local(self, change: OrderChange, view: WorkOrder) -> None:
        """One of the station's own changes, applied (`view`) and on its way to central."""
        self.pending.setdefault(change.ticket, []).append(change)
        self.views[change.ticket] = view

    def take_agreed(self, order: WorkOrder) -> Taken | None:
        """Central's copy: replaces the station's when its `rev` is newer (None: not newer, ignored)."""
        old = self.agreed.get(order.ticket)
        if old is not None and order.rev <= old.rev:
            return None
        self.agreed[order.ticket] = order
        seen = {s.change_id for s in order.history}
        mine = self.pending.get(order.ticket, [])
        confirmed = tuple(c.change_id for c in mine if c.change_id in seen)
        self._recompute(order.ticket)
        return Taken(
            view=self.views[order.ticket],
            pending=self.pending_count(order.ticket),
            confirmed=confirmed,
            new=old is None,
        )

    def forget(self, tickets: list[str]) -> None:
        for t in tickets:
            self.agreed.pop(t, None)
            self.views.pop(t, None)
            self.pending.pop(t, None)

    def listing(self, state: str = "", limit: int = 300) -> list[WorkOrder]:
        """Views, open ones first, each group newest first; `state`: one state, `open`, `closed` or ""."""
        views = list(self.views.values())
        if state == "open":
            views = [v for v in views if v.state not in CLOSED_STATES]
        elif state == "closed":
            views = [v for v in views if v.state in CLOSED_STATES]
        elif state:
            views = [v for v in views if v.state == state]
        views.sort(key=lambda v: v.created_at, reverse=True)
        views.sort(key=lambda v: v.state in CLOSED_STATES)  # stable: open first, newest first within
        return views[:limit]

    def counts(self) -> tuple[int, int]:
        """(open orders, of which new)."""
        open_ = [v for v in self.views.values() if v.state not in CLOSED_STATES]
        return len(open_), sum(1 for v in open_ if v.state == "new")

    def _recompute(self, ticket: str) -> None:
        view, still = pending_after(self.agreed[ticket], self.pending.get(ticket, []))
        self.views[ticket] = view
        if still:
            self.pending[ticket] = still
        else:
            self.pending.pop(ticket, None)
