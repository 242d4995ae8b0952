"""The alarms component's local API: the crew console works incidents and the siren here.

The methods, their params and results are declared in `edge.wire.api.incidents` (the console decodes
answers into the same `Incident`); see docs/local-api.md. Errors: -32602 bad params, -32004 unknown
incident, -32009 transition not allowed from the incident's state (closing twice, ack of a closed
incident) or manual siren control disabled, -32003 a crew connection that is not logged in.

The `by` of every change is the connection's logged-in crew member (`crew.login`), never free text
from the params (an admin tool that is not logged in may name who it acts for).

Notifications (``notify.subscribe {"topics": ["incidents", "alarm.links", "faults"]}``):

    incidents    {"change": raised|merged|acknowledged|dispatched|on_scene|closed|restored|escalated,
                  "incident": Incident, "at": epoch, "detail": str, "target": respond|arrive|resolve|null}
    alarm.links  {"account", "site", "state": ok|lost, "kind": dc09|modbus, "since": epoch}

An incident change is notified as soon as it is saved on the station's disk, never after the uplink.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import msgspec

from edge.alarms.incidents import (
    Change,
    IncidentBook,
    IncidentConflictError,
    IncidentNotFoundError,
    Source,
)
from edge.api.server import Connection, Handler
from edge.config.alarms import AlarmsSection
from edge.wire.api import incidents as api
from edge.wire.api.base import Empty, Method
from edge.wire.api.incidents import (
    IncidentClose,
    IncidentDispatch,
    IncidentId,
    IncidentList,
    IncidentQuery,
    IncidentRaise,
    IncidentRef,
    Links,
    Siren,
)
from edge.wire.errors import CONFLICT, INVALID_PARAMS, NOT_FOUND, ApiError

__all__ = ["AlarmApi"]


def incident_json(change_or_incident: Any) -> dict[str, Any]:
    incident = change_or_incident.incident if isinstance(change_or_incident, Change) else change_or_incident
    out = msgspec.to_builtins(incident)
    assert isinstance(out, dict)
    return out


class AlarmEngine(Protocol):
    """What the API needs of the alarms component (the component implements it)."""

    book: IncidentBook
    config: AlarmsSection

    def now(self) -> float: ...
    def apply(self, changes: list[Change]) -> asyncio.Future[bool]: ...
    def set_siren(self, on: bool) -> bool: ...
    def links(self) -> list[dict[str, Any]]: ...


class _Registry(Protocol):
    def register(self, method: Method[Any, Any], handler: Handler) -> None: ...


class AlarmApi:
    def __init__(self, engine: AlarmEngine) -> None:
        self.c = engine

    def register(self, registry: _Registry) -> None:
        for method, handler in (
            (api.INCIDENTS_LIST, self.list),
            (api.INCIDENTS_GET, self.get),
            (api.INCIDENTS_ACK, self.ack),
            (api.INCIDENTS_DISPATCH, self.dispatch),
            (api.INCIDENTS_ARRIVE, self.arrive),
            (api.INCIDENTS_CLOSE, self.close),
            (api.INCIDENTS_RAISE, self.raise_),
            (api.ALARMS_LINKS, self.links),
            (api.ALARMS_SIREN, self.siren),
        ):
            registry.register(method, handler)

    async def _run(self, step: Any) -> dict[str, Any]:
        try:
            change = step()  # the book changes now, before any await: the journal keeps this order
        except IncidentNotFoundError as exc:
            raise ApiError(NOT_FOUND, str(exc.args[0])) from None
        except IncidentConflictError as exc:
            raise ApiError(CONFLICT, str(exc)) from None
        # the answer comes once the change is saved and the crew told; not saved: a visible fault
        # (alarm.store), the crew has the change anyway
        await asyncio.shield(self.c.apply([change]))
        return incident_json(change)

    async def list(self, p: IncidentQuery, conn: Connection) -> IncidentList | dict[str, Any]:
        return {"incidents": [incident_json(i) for i in self.c.book.listing(include_closed=p.include_closed)]}

    async def get(self, p: IncidentId, conn: Connection) -> dict[str, Any]:
        try:
            return incident_json(self.c.book.get(p.id))
        except IncidentNotFoundError as exc:
            raise ApiError(NOT_FOUND, str(exc.args[0])) from None

    async def ack(self, p: IncidentRef, conn: Connection) -> dict[str, Any]:
        by = _signer(conn, p.by)
        return await self._run(lambda: self.c.book.acknowledge(p.id, now=self.c.now(), by=by))

    async def dispatch(self, p: IncidentDispatch, conn: Connection) -> dict[str, Any]:
        by = _signer(conn, p.by)
        return await self._run(lambda: self.c.book.dispatch(p.id, now=self.c.now(), by=by, unit=p.unit))

    async def arrive(self, p: IncidentRef, conn: Connection) -> dict[str, Any]:
        by = _signer(conn, p.by)
        return await self._run(lambda: self.c.book.arrive(p.id, now=self.c.now(), by=by))

    async def close(self, p: IncidentClose, conn: Connection) -> dict[str, Any]:
        by = _signer(conn, p.by)
        return await self._run(lambda: self.c.book.close(p.id, outcome=p.outcome, now=self.c.now(), by=by, note=p.note))

    async def raise_(self, p: IncidentRaise, conn: Connection) -> dict[str, Any]:
        if not p.site.strip():
            raise ApiError(INVALID_PARAMS, "site must not be empty")
        by = _signer(conn, p.by)
        source = Source(kind=p.source, site=p.site, site_en=p.site_en, point=p.point, point_en=p.point_en)
        detail = _RAISE_DETAIL.get((p.source, p.kind), "raised by the crew")
        return await self._run(
            lambda: self.c.book.raise_alarm(kind=p.kind, source=source, now=self.c.now(), detail=detail, by=by)
        )

    async def links(self, p: Empty, conn: Connection) -> Links | dict[str, Any]:
        return {"links": self.c.links()}

    async def siren(self, p: Siren, conn: Connection) -> Siren:
        if not self.c.config.siren.manual:
            raise ApiError(CONFLICT, "manual siren control is disabled in this station's configuration")
        return Siren(on=self.c.set_siren(p.on))


_RAISE_DETAIL = {("kiosk", "emergency"): "kiosk emergency button", ("kiosk", "officer_call"): "kiosk officer call"}


def _signer(conn: Connection | None, claimed: str) -> str:
    """Who made the change: the connection's crew member (None: an in-process caller, as in tests)."""
    return claimed if conn is None else conn.signer(claimed)
