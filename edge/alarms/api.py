"""The alarms component's local API (JSON-RPC methods shared with the crew console and the kiosk).

    incidents.list      {"include_closed": false}                      -> {"incidents": [Incident, ...]}
    incidents.get       {"id"}                                         -> Incident
    incidents.ack       {"id", "by"}                                   -> Incident
    incidents.dispatch  {"id", "unit", "by"}                           -> Incident
    incidents.arrive    {"id", "by"}                                   -> Incident
    incidents.close     {"id", "outcome": real|false_alarm|test, "note", "by"} -> Incident
    incidents.raise     {"kind": "emergency", "site", "point", "source": kiosk|manual} -> Incident
    alarms.links        {}                                             -> {"links": [...]}
    alarms.siren        {"on": bool}                                   -> {"on": bool}

Errors: -32602 bad params, -32004 unknown incident, -32009 transition not allowed from the incident's
state (closing twice, ack of a closed incident) or manual siren control disabled.

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
    KINDS,
    OUTCOMES,
    Change,
    IncidentBook,
    IncidentConflictError,
    IncidentNotFoundError,
    Source,
)
from edge.api.server import Connection, Handler
from edge.config.alarms import AlarmsSection
from edge.wire.errors import CONFLICT, INVALID_PARAMS, NOT_FOUND, ApiError

__all__ = ["AlarmApi"]

_TEXT_LIMITS = {"by": 64, "unit": 32, "note": 500, "site": 64, "site_en": 64, "point": 64, "point_en": 64}


def _params(params: Any, allowed: set[str], required: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ApiError(INVALID_PARAMS, "params must be an object")
    unknown = set(params) - allowed
    if unknown:
        raise ApiError(INVALID_PARAMS, f"unknown params: {', '.join(sorted(unknown))}")
    missing = required - set(params)
    if missing:
        raise ApiError(INVALID_PARAMS, f"missing params: {', '.join(sorted(missing))}")
    for key, limit in _TEXT_LIMITS.items():
        value = params.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise ApiError(INVALID_PARAMS, f"{key} must be text of at most {limit} characters")
    if "id" in params and not isinstance(params["id"], str):
        raise ApiError(INVALID_PARAMS, "id must be an incident id (text)")
    return params


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
    def register(self, name: str, handler: Handler) -> None: ...


class AlarmApi:
    def __init__(self, engine: AlarmEngine) -> None:
        self.c = engine

    def register(self, api: _Registry) -> None:
        for name, handler in {
            "incidents.list": self.list, "incidents.get": self.get, "incidents.ack": self.ack,
            "incidents.dispatch": self.dispatch, "incidents.arrive": self.arrive, "incidents.close": self.close,
            "incidents.raise": self.raise_, "alarms.links": self.links, "alarms.siren": self.siren,
        }.items():
            api.register(name, handler)

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

    async def list(self, params: Any, conn: Connection) -> dict[str, Any]:
        p = _params(params, {"include_closed"})
        include = p.get("include_closed", False)
        if not isinstance(include, bool):
            raise ApiError(INVALID_PARAMS, "include_closed must be true or false")
        return {"incidents": [incident_json(i) for i in self.c.book.listing(include_closed=include)]}

    async def get(self, params: Any, conn: Connection) -> dict[str, Any]:
        p = _params(params, {"id"}, {"id"})
        try:
            return incident_json(self.c.book.get(p["id"]))
        except IncidentNotFoundError as exc:
            raise ApiError(NOT_FOUND, str(exc.args[0])) from None

    async def ack(self, params: Any, conn: Connection) -> dict[str, Any]:
        p = _params(params, {"id", "by"}, {"id"})
        return await self._run(lambda: self.c.book.acknowledge(p["id"], now=self.c.now(), by=p.get("by", "")))

    async def dispatch(self, params: Any, conn: Connection) -> dict[str, Any]:
        p = _params(params, {"id", "unit", "by"}, {"id"})
        return await self._run(lambda: self.c.book.dispatch(
            p["id"], now=self.c.now(), by=p.get("by", ""), unit=p.get("unit", "")))

    async def arrive(self, params: Any, conn: Connection) -> dict[str, Any]:
        p = _params(params, {"id", "by"}, {"id"})
        return await self._run(lambda: self.c.book.arrive(p["id"], now=self.c.now(), by=p.get("by", "")))

    async def close(self, params: Any, conn: Connection) -> dict[str, Any]:
        p = _params(params, {"id", "outcome", "note", "by"}, {"id", "outcome"})
        if p["outcome"] not in OUTCOMES:
            raise ApiError(INVALID_PARAMS, f"outcome must be one of {', '.join(OUTCOMES)}")
        return await self._run(lambda: self.c.book.close(
            p["id"], outcome=p["outcome"], now=self.c.now(), by=p.get("by", ""), note=p.get("note", "")))

    async def raise_(self, params: Any, conn: Connection) -> dict[str, Any]:
        p = _params(params, {"kind", "site", "site_en", "point", "point_en", "source", "by"}, {"site"})
        kind = p.get("kind", "emergency")
        source_kind = p.get("source", "manual")
        if kind not in KINDS:
            raise ApiError(INVALID_PARAMS, f"kind must be one of {', '.join(KINDS)}")
        if source_kind not in ("kiosk", "manual"):
            raise ApiError(INVALID_PARAMS, "source must be kiosk or manual")
        if not p["site"].strip():
            raise ApiError(INVALID_PARAMS, "site must not be empty")
        source = Source(kind=source_kind, site=p["site"], site_en=p.get("site_en", ""), point=p.get("point", ""),
                        point_en=p.get("point_en", ""))
        detail = "kiosk emergency button" if source_kind == "kiosk" else "raised by the crew"
        return await self._run(lambda: self.c.book.raise_alarm(
            kind=kind, source=source, now=self.c.now(), detail=detail, by=p.get("by", "")))

    async def links(self, params: Any, conn: Connection) -> dict[str, Any]:
        _params(params, set())
        return {"links": self.c.links()}

    async def siren(self, params: Any, conn: Connection) -> dict[str, Any]:
        p = _params(params, {"on"}, {"on"})
        if not isinstance(p["on"], bool):
            raise ApiError(INVALID_PARAMS, "on must be true or false")
        if not self.c.config.siren.manual:
            raise ApiError(CONFLICT, "manual siren control is disabled in this station's configuration")
        return {"on": self.c.set_siren(p["on"])}
