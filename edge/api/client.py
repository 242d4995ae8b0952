"""The one typed client of the daemon's local API (JSON-RPC 2.0 over a Unix socket).

The touchscreen, the crew console, the simulators and the tools all talk to the daemon through this
class, never through the daemon's internals. It imports nothing heavier than msgspec and the wire
contract: every method is declared once in `edge.wire.api` (params and result as msgspec Structs), and
the client has a named, typed method for each (`ack_incident`, `kiosk_submit`, ...), all built on
`request(METHOD, params) -> result`. `call(name, dict)` stays for the generic CLI and protocol tests.

    async with EdgeClient(path) as client:
        sub = await client.submit_event("kiosk.report", "info", {"kind": "hazard"})
        print(sub.id, sub.seq)
        await client.login("A1234")
        incident = await client.ack_incident(iid)   # an edge.wire.api.incidents.Incident
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import msgspec

from edge.wire.api import core, incidents, kiosk, orders, vision
from edge.wire.api.base import Empty, Method, Params
from edge.wire.api.core import CrewLogin, CrewMember, EventSubmit, HubCall, Status, Submitted, Subscribe
from edge.wire.api.incidents import (
    Incident,
    IncidentClose,
    IncidentDispatch,
    IncidentId,
    IncidentQuery,
    IncidentRaise,
    IncidentRef,
    LinkRow,
    Siren,
)
from edge.wire.api.kiosk import (
    CurrentBulletin,
    KioskCatalogue,
    KioskSubmit,
    Notices,
    Pending,
    Printed,
    PrintReceipt,
)
from edge.wire.api.orders import (
    OrderChangeParams,
    OrderList,
    OrderQuery,
    OrderRef,
    OrderView,
    PublicStatus,
    StateFilter,
    StatusQuery,
)
from edge.wire.api.vision import CameraInfo, WatchListInfo
from edge.wire.errors import INTERNAL_ERROR, INVALID_PARAMS, ApiError, DaemonUnavailableError
from kiosk.requests import KioskResult

__all__ = ["ApiError", "DaemonUnavailableError", "EdgeClient", "Submitted"]

P = TypeVar("P", bound=Params)
R = TypeVar("R")

Notification = Callable[[str, dict[str, Any]], None]


class EdgeClient:
    def __init__(self, path: Path | str, *, on_notify: Notification | None = None, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.on_notify = on_notify
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._batch_waiting: dict[tuple[int, ...], asyncio.Future[list[Any]]] = {}
        self._reader_task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EdgeClient:
        await self.connect()
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def connect(self) -> None:
        try:
            self._reader, self._writer = await asyncio.open_unix_connection(str(self.path), limit=4 * 1024 * 1024)
        except (FileNotFoundError, ConnectionRefusedError, OSError) as exc:
            raise DaemonUnavailableError(f"the daemon is not reachable at {self.path}: {exc}") from exc
        self._reader_task = asyncio.create_task(self._read_loop())

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
            self._reader_task = None
        self._fail_all(DaemonUnavailableError("connection closed"))
        self._writer = None

    # ---- raw calls -----------------------------------------------------------------------------
    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        if not self.connected:
            raise DaemonUnavailableError("not connected to the daemon")
        assert self._writer is not None
        rid = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = fut
        req: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            req["params"] = params
        self._writer.write(msgspec.json.encode(req) + b"\n")
        try:
            return await asyncio.wait_for(fut, self.timeout)
        finally:
            self._waiting.pop(rid, None)

    async def call_batch(self, calls: Iterable[tuple[str, dict[str, Any] | None]]) -> list[Any]:
        """One JSON-RPC batch; returns results in order, a ApiError instance in place of a failure."""
        if not self.connected:
            raise DaemonUnavailableError("not connected to the daemon")
        assert self._writer is not None
        reqs = []
        for method, params in calls:
            req: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids), "method": method}
            if params is not None:
                req["params"] = params
            reqs.append(req)
        if not reqs:
            return []
        key = tuple(r["id"] for r in reqs)
        fut: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._batch_waiting[key] = fut
        self._writer.write(msgspec.json.encode(reqs) + b"\n")
        try:
            replies = await asyncio.wait_for(fut, self.timeout)
        finally:
            self._batch_waiting.pop(key, None)
        by_id = {r.get("id"): r for r in replies}
        return [_result_or_error(by_id.get(rid)) for rid in key]

    # ---- typed methods -------------------------------------------------------------------------
    async def request(self, method: Method[P, R], params: P | None = None) -> R:
        """Call a method of the contract: typed params in, the typed result out."""
        raw = await self.call(method.name, None if params is None else _params_json(params))
        try:
            return method.decode_result(raw)
        except msgspec.ValidationError as exc:
            raise ApiError(INVALID_PARAMS, f"{method.name} answered something unexpected: {exc}") from None

    async def submit_event(self, type: str, priority: str, data: dict[str, Any] | None = None) -> Submitted:
        return await self.request(core.EVENTS_SUBMIT, EventSubmit(type=type, priority=priority, data=data or {}))

    async def submit_many(self, events: Iterable[tuple[str, str, dict[str, Any]]]) -> list[Submitted | ApiError]:
        results = await self.call_batch(
            (core.EVENTS_SUBMIT.name, {"type": t, "priority": p, "data": d}) for t, p, d in events
        )
        return [r if isinstance(r, ApiError) else core.EVENTS_SUBMIT.decode_result(r) for r in results]

    async def status(self) -> Status:
        return await self.request(core.STATUS_GET)

    async def call_hub(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 5.0) -> Any:
        """Ask central through the daemon (admin tools only). ApiError -32010: central cannot answer now."""
        return await self.request(core.HUB_CALL, HubCall(method=method, params=params or {}, timeout=timeout))

    async def subscribe(self, *topics: str) -> list[str]:
        return (await self.request(core.NOTIFY_SUBSCRIBE, Subscribe(topics=list(topics)))).topics

    async def methods(self) -> list[str]:
        """The methods this connection's role may call."""
        return await self.request(core.RPC_METHODS)

    async def login(self, badge: str) -> CrewMember:
        """Log this connection in as a crew member: the `by` of the incident changes it makes."""
        return await self.request(core.CREW_LOGIN, CrewLogin(badge=badge))

    async def logout(self) -> None:
        await self.request(core.CREW_LOGOUT)

    # incidents and alarms (the crew console)
    async def incidents(self, *, include_closed: bool = False) -> list[Incident]:
        return (await self.request(incidents.INCIDENTS_LIST, IncidentQuery(include_closed=include_closed))).incidents

    async def incident(self, iid: str) -> Incident:
        return await self.request(incidents.INCIDENTS_GET, IncidentId(id=iid))

    async def ack_incident(self, iid: str) -> Incident:
        return await self.request(incidents.INCIDENTS_ACK, IncidentRef(id=iid))

    async def dispatch_incident(self, iid: str, unit: str = "") -> Incident:
        return await self.request(incidents.INCIDENTS_DISPATCH, IncidentDispatch(id=iid, unit=unit))

    async def arrive_incident(self, iid: str) -> Incident:
        return await self.request(incidents.INCIDENTS_ARRIVE, IncidentRef(id=iid))

    async def close_incident(self, iid: str, outcome: Any, note: str = "") -> Incident:
        return await self.request(incidents.INCIDENTS_CLOSE, IncidentClose(id=iid, outcome=outcome, note=note))

    async def raise_incident(self, params: IncidentRaise) -> Incident:
        return await self.request(incidents.INCIDENTS_RAISE, params)

    async def alarm_links(self) -> list[LinkRow]:
        return (await self.request(incidents.ALARMS_LINKS)).links

    async def siren(self, on: bool) -> bool:
        return (await self.request(incidents.ALARMS_SIREN, Siren(on=on))).on

    async def cameras(self) -> list[CameraInfo]:
        return (await self.request(vision.VISION_CAMERAS)).cameras

    async def watch_list(self) -> WatchListInfo:
        return await self.request(vision.VISION_WATCHLIST)

    # resident services (the touchscreen)
    async def kiosk_catalogue(self) -> KioskCatalogue:
        return await self.request(kiosk.KIOSK_CATALOGUE)

    async def kiosk_submit(
        self, req: KioskSubmit, method: Method[KioskSubmit, KioskResult] | None = None
    ) -> KioskResult:
        """Submit a resident's request (`method`: one of the per-kind methods, default `kiosk.submit`)."""
        return await self.request(method or kiosk.KIOSK_SUBMIT, req)

    async def print_receipt(self, receipt_id: str, lang: Any = "zh") -> Printed:
        return await self.request(kiosk.KIOSK_PRINT, PrintReceipt(receipt_id=receipt_id, lang=lang))

    async def notices(self) -> Notices:
        return await self.request(kiosk.KIOSK_NOTICES)

    async def bulletin(self) -> CurrentBulletin:
        return await self.request(kiosk.KIOSK_BULLETIN)

    async def pending(self) -> Pending:
        return await self.request(kiosk.KIOSK_PENDING)

    async def end_session(self) -> None:
        await self.request(kiosk.KIOSK_SESSION_END, Empty())

    # work orders (the crew console; `order_status` for the touchscreen)
    async def work_orders(self, state: StateFilter = "", *, limit: int = 300) -> OrderList:
        return await self.request(orders.ORDERS_LIST, OrderQuery(state=state, limit=limit))

    async def work_order(self, ticket: str) -> OrderView:
        return await self.request(orders.ORDERS_GET, OrderRef(ticket=ticket))

    async def change_order(self, change: OrderChangeParams) -> OrderView:
        """Triage / assign / start / resolve / refer; signed by this connection's logged-in member."""
        return await self.request(orders.ORDERS_CHANGE, change)

    async def order_status(self, ticket: str) -> PublicStatus:
        """A resident's check: the public progress of a ticket (or of this station's number alone)."""
        return await self.request(orders.ORDERS_STATUS, StatusQuery(ticket=ticket))

    # ---- plumbing ------------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                try:
                    msg = msgspec.json.decode(line)
                except msgspec.DecodeError:
                    continue
                self._dispatch(msg)
        except (ConnectionError, OSError):
            pass
        finally:
            self._fail_all(DaemonUnavailableError("the daemon closed the connection"))
            if self._writer is not None:
                self._writer.close()

    def _dispatch(self, msg: Any) -> None:
        if isinstance(msg, list):
            ids = {r.get("id") for r in msg if isinstance(r, dict)}
            for k, bfut in list(self._batch_waiting.items()):
                if set(k) <= ids and not bfut.done():
                    bfut.set_result(msg)
                    return
            return
        if not isinstance(msg, dict):
            return
        if msg.get("method") == "notify" and "id" not in msg:
            if self.on_notify is not None:
                params = msg.get("params") or {}
                self.on_notify(str(params.get("topic", "")), params)
            return
        rid = msg.get("id")
        fut = self._waiting.get(rid) if isinstance(rid, int) else None
        if fut is None or fut.done():
            return
        if "error" in msg:
            err = msg["error"] or {}
            fut.set_exception(ApiError.from_json(err))
        else:
            fut.set_result(msg.get("result"))

    def _fail_all(self, exc: Exception) -> None:
        for fut in list(self._waiting.values()) + list(self._batch_waiting.values()):
            if not fut.done():
                fut.set_exception(exc)
        self._waiting.clear()
        self._batch_waiting.clear()


def _result_or_error(reply: Any) -> Any:
    if not isinstance(reply, dict):
        return ApiError(INTERNAL_ERROR, "no reply for this request")
    if "error" in reply:
        err = reply["error"] or {}
        return ApiError.from_json(err)
    return reply.get("result")


def _params_json(params: Params) -> dict[str, Any]:
    out = msgspec.to_builtins(params)
    assert isinstance(out, dict)
    return out
