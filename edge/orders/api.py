"""The work-orders component's local API (declared in `edge.wire.api.orders`; see docs/work-orders.md).

    orders.list    {state?, limit?}                       -> {orders: [{order, pending}], open, new}  (crew)
    orders.get     {ticket}                               -> {order, pending}                         (crew)
    orders.change  {ticket, action, triage?, officer?, outcome?}  -> {order, pending}                 (crew)
    orders.status  {ticket | number}                      -> PublicStatus                             (kiosk)

Errors carry both languages in `data` ({"zh", "en"}): -32004 unknown ticket, -32602 a change that does
not fit the order's state or lacks what its action needs, -32002 central needed and not reachable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from edge.api.server import Connection, Handler
from edge.wire.api import orders as api
from edge.wire.api.base import Method
from edge.wire.api.orders import (
    OrderChangeParams,
    OrderList,
    OrderQuery,
    OrderRef,
    OrderView,
    PublicStatus,
    StatusQuery,
)
from edge.wire.errors import INVALID_PARAMS, NOT_FOUND, UNAVAILABLE, ApiError, HubUnavailableError
from edge.wire.orders import ChangeRefusedError, OrderChange, WorkOrder, public_status
from kiosk.requests import ticket_for

if TYPE_CHECKING:
    from edge.orders.book import OrderBook

__all__ = ["STATE_TEXT", "OrdersApi", "bilingual_error", "refusal_error", "refused_text"]

#: Plain words for a state, as the crew and residents read them.
STATE_TEXT: dict[str, tuple[str, str]] = {
    "new": ("待分流", "new"),
    "triaged": ("已分流", "triaged"),
    "assigned": ("已指派", "assigned"),
    "in_progress": ("处理中", "in progress"),
    "resolved": ("已办结", "resolved"),
    "referred": ("已转办", "referred"),
}
_ACTION_TEXT: dict[str, tuple[str, str]] = {
    "triage": ("分流", "triage"),
    "assign": ("指派", "assign"),
    "start": ("开始处理", "start"),
    "resolve": ("办结", "resolve"),
    "refer": ("转办", "refer"),
}
_NEEDS: dict[str, tuple[str, str]] = {
    "triage": ("分流需要选择处置方式（现场调解 / 跟进 / 到站处理）", "triage needs on_spot, follow_up or to_station"),
    "assign": ("指派需要填写民警", "assign needs an officer"),
    "resolve": ("办结需要填写处理结果", "resolve needs an outcome"),
    "refer": ("转办需要写明转交何处及原因", "refer needs an outcome (to whom and why)"),
}


def refused_text(order: WorkOrder, action: str, exc: ChangeRefusedError) -> tuple[str, str]:
    """Why a change does not fit, in both languages."""
    if str(exc).startswith("cannot "):
        zh_state, en_state = STATE_TEXT.get(order.state, (order.state, order.state))
        zh_act, en_act = _ACTION_TEXT.get(action, (action, action))
        return f"工单{zh_state}，不能{zh_act}", f"cannot {en_act} an order that is {en_state}"
    return _NEEDS.get(action, ("工单不能这样修改", str(exc)))


def bilingual_error(code: int, zh: str, en: str) -> ApiError:
    """The coded error with its words in both languages (`data.zh`, `data.en`) for the screens."""
    return ApiError(code, f"{zh} / {en}", {"zh": zh, "en": en})


class OrdersEngine(Protocol):
    """What the API needs of the component (the component implements it)."""

    book: OrderBook

    @property
    def station(self) -> str: ...
    @property
    def link_up(self) -> bool: ...

    async def change(self, change: OrderChange) -> OrderView: ...
    async def ask_central(self, ticket: str) -> Any: ...
    def new_change(self, p: OrderChangeParams, by: str) -> OrderChange: ...


class _Registry(Protocol):
    def register(self, method: Method[Any, Any], handler: Handler) -> None: ...


class OrdersApi:
    def __init__(self, engine: OrdersEngine) -> None:
        self.c = engine

    def register(self, registry: _Registry) -> None:
        registry.register(api.ORDERS_LIST, self.list)
        registry.register(api.ORDERS_GET, self.get)
        registry.register(api.ORDERS_CHANGE, self.change)
        registry.register(api.ORDERS_STATUS, self.status)

    async def list(self, p: OrderQuery, conn: Connection) -> OrderList:
        book = self.c.book
        open_, new = book.counts()
        views = [OrderView(order=o, pending=book.pending_count(o.ticket)) for o in book.listing(p.state, p.limit)]
        return OrderList(orders=views, open=open_, new=new)

    async def get(self, p: OrderRef, conn: Connection) -> OrderView:
        view = self.c.book.view(p.ticket)
        if view is None:
            raise _unknown(p.ticket)
        return OrderView(order=view, pending=self.c.book.pending_count(p.ticket))

    async def change(self, p: OrderChangeParams, conn: Connection) -> OrderView:
        by = p.by if conn is None else conn.signer(p.by)  # None: an in-process caller, as in tests
        if not by.strip():
            raise bilingual_error(INVALID_PARAMS, "请先登录或写明操作人", "log in first, or name who acts (by)")
        return await self.c.change(self.c.new_change(p, by))

    async def status(self, p: StatusQuery, conn: Connection) -> PublicStatus:
        ticket = p.ticket if "-" in p.ticket else ticket_for(self.c.station, int(p.ticket))
        view = self.c.book.view(ticket)
        if view is not None:
            return PublicStatus(**public_status(view), source="station")
        if not self.c.link_up:
            if ticket.startswith(self.c.station + "-"):
                raise _unknown(ticket)
            raise bilingual_error(
                UNAVAILABLE,
                "网络暂时中断，其他站点的报案请稍后再查",
                "The network is down: reports made at other stations can be checked later",
            )
        try:
            answer = await self.c.ask_central(ticket)
        except HubUnavailableError:
            raise _cannot_check() from None
        except ApiError as exc:
            if exc.code == NOT_FOUND:
                raise _unknown(ticket) from None
            raise _cannot_check() from None
        try:
            found = msgspec.convert(answer, PublicStatus)
        except (msgspec.ValidationError, TypeError):
            raise _cannot_check() from None
        # only the public fields, whatever central sent
        return PublicStatus(
            ticket=found.ticket or ticket,
            state=found.state,
            triage=found.triage,
            outcome=found.outcome if found.state in ("resolved", "referred") else "",
            updated_at=found.updated_at,
            created_at=found.created_at,
            source="central",
        )


def _cannot_check() -> ApiError:
    return bilingual_error(UNAVAILABLE, "暂时无法查询，请稍后再试", "Cannot check now; please try again later")


def _unknown(ticket: str) -> ApiError:
    return bilingual_error(
        NOT_FOUND,
        f"没有找到报案编号 {ticket}，请核对回执上的号码",
        f"No report numbered {ticket}; please check the number on your receipt",
    )


def refusal_error(order: WorkOrder, action: str, exc: ChangeRefusedError) -> ApiError:
    zh, en = refused_text(order, action, exc)
    return bilingual_error(INVALID_PARAMS, zh, en)
