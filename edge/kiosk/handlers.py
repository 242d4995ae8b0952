"""What the kiosk does with a resident's request, by service kind, online and offline.

* report: a durable `kiosk.report` event; its ticket is derived from the event's seq, so the resident
  gets it at once, with or without the link.
* appointment, lookup: a live request to central; if central cannot answer (link down, no answer in
  time) a durable `kiosk.request` event, queued, and the receipt says so. Central answers it once.
* ticket: central's queue number; offline a local number (prefix L) and a `kiosk.ticket` event.
* call_officer: an `officer_call` incident in the alarm engine when it runs (see `edge.kiosk.emergency`),
  a warning event `kiosk.call_officer` naming it, and a `kiosk.officer_called` notification for the
  crew console (with the kiosk's location; the console announces it itself when no incident was raised).
* emergency: see `edge.kiosk.emergency`.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

import msgspec

from edge.kiosk.emergency import KioskPlace, raise_incident
from edge.kiosk.queue import PendingQueue, PendingRequest
from edge.wire import messages as wire
from edge.wire.api.kiosk import OfficerCalled
from edge.wire.errors import HUB_ERROR, INVALID_PARAMS, ApiError, HubUnavailableError
from kiosk.catalogue import Catalogue, ServiceSpec, Text
from kiosk.forms import FormError, validate_form
from kiosk.requests import KioskRequest, KioskResult, LookupItem, ticket_for

if TYPE_CHECKING:
    from edge.component.context import ComponentContext

__all__ = ["RequestHandlers", "answer_to_result"]

log = logging.getLogger(__name__)

MSG = {
    "submitted": Text("已受理，民警会尽快处理", "Received; an officer will follow it up"),
    "queued": Text(
        "网络暂时中断：已在本站登记，恢复后自动提交",
        "Network down: saved at this station and sent when the network returns",
    ),
    "booked": Text("预约成功，请按时到窗口办理", "Booked: please come to the counter on time"),
    "found": Text("查询完成", "Here is what we found"),
    "issued": Text("请留意叫号", "Please wait for your number to be called"),
    "called": Text("值班民警已收到呼叫，请稍候", "The officer on duty has been called; please wait"),
    "raised": Text("已报警，民警马上赶到", "Alarm raised: officers are on their way"),
}


def answer_to_result(req: KioskRequest, service: ServiceSpec, answer: dict[str, Any]) -> KioskResult:
    """Central's answer (`kiosk.book`, `kiosk.traffic_lookup`, `kiosk.queue_ticket`, `kiosk.resolve`)."""
    if not answer.get("ok"):
        reason = answer.get("reason") or {}
        return KioskResult(
            request_id=req.request_id,
            service=service.id,
            kind=service.kind,
            status="failed",
            message=Text(str(reason.get("zh", "未能办理")), str(reason.get("en", "Not done"))),
        )
    if service.kind == "appointment":
        return KioskResult(
            request_id=req.request_id,
            service=service.id,
            kind=service.kind,
            status="booked",
            message=MSG["booked"],
            ticket=str(answer.get("ref", "")),
            slot=str(answer.get("slot", "")),
        )
    if service.kind == "lookup":
        items = msgspec.convert(answer.get("items", []), tuple[LookupItem, ...])
        return KioskResult(
            request_id=req.request_id,
            service=service.id,
            kind=service.kind,
            status="found",
            message=MSG["found"],
            items=items,
            ticket=str(answer.get("ref", "")),
        )
    return KioskResult(
        request_id=req.request_id,
        service=service.id,
        kind=service.kind,
        status="issued",
        message=MSG["issued"],
        ticket=str(answer.get("number", "")),
    )


_HUB_METHOD = {"appointment": "kiosk.book", "lookup": "kiosk.traffic_lookup", "ticket": "kiosk.queue_ticket"}


class RequestHandlers:
    def __init__(
        self,
        ctx: ComponentContext,
        *,
        catalogue: Catalogue,
        pending: PendingQueue,
        hub_timeout: float,
        emergency_via_incidents: bool,
        location: str = "",
        location_en: str = "",
    ) -> None:
        self.ctx = ctx
        self.catalogue = catalogue
        self.pending = pending
        self.hub_timeout = hub_timeout
        self.emergency_via_incidents = emergency_via_incidents
        self.location = location
        self.location_en = location_en
        self._local_tickets: dict[str, int] = {}
        self._local_day = ""

    def service_for(self, req: KioskRequest, *, kinds: tuple[str, ...] = ()) -> ServiceSpec:
        """The station's service the request names (the params were checked by the API already)."""
        try:
            service = self.catalogue.service(req.service)
        except KeyError:
            raise ApiError(INVALID_PARAMS, f"this station does not offer the service {req.service!r}") from None
        if kinds and service.kind not in kinds:
            raise ApiError(INVALID_PARAMS, f"service {req.service!r} is a {service.kind}, not {'/'.join(kinds)}")
        return service

    def validated(self, req: KioskRequest, service: ServiceSpec) -> KioskRequest:
        try:
            fields = validate_form(service, req.fields, today=date.today())
        except FormError as exc:
            errors = [{"field": e.field, "code": e.code, "zh": e.message_zh, "en": e.message_en} for e in exc.errors]
            raise ApiError(INVALID_PARAMS, "the form has errors", {"fields": errors}) from None
        return msgspec.structs.replace(req, fields=fields)

    async def handle(self, req: KioskRequest, service: ServiceSpec) -> KioskResult:
        kind = service.kind
        if kind == "report":
            return await self._report(req, service)
        if kind in _HUB_METHOD:
            return await self._ask_central(req, service)
        if kind == "call_officer":
            return await self._call_officer(req, service)
        if kind == "emergency":
            return await self._emergency(req, service)
        raise ApiError(INVALID_PARAMS, f"service {service.id!r} ({kind}) takes no request")

    @property
    def link_up(self) -> bool:
        return self.ctx.uplink_state == "connected"

    async def _report(self, req: KioskRequest, service: ServiceSpec) -> KioskResult:
        stored = await self.ctx.emit(
            "kiosk.report",
            wire.Priority.WARNING,
            {
                "request_id": req.request_id,
                "service": service.id,
                "category": service.category,
                "fields": req.fields,
                "lang": req.lang,
                "from_card": req.from_card,
            },
        )
        queued = not self.link_up
        return KioskResult(
            request_id=req.request_id,
            service=service.id,
            kind=service.kind,
            status="queued" if queued else "submitted",
            queued=queued,
            message=MSG["queued" if queued else "submitted"],
            ticket=ticket_for(self.ctx.station, stored.seq),
        )

    async def _ask_central(self, req: KioskRequest, service: ServiceSpec) -> KioskResult:
        params = {
            "request_id": req.request_id,
            "service": service.id,
            "category": service.category,
            "fields": req.fields,
            "lang": req.lang,
        }
        try:
            answer = await self.ctx.call_hub(_HUB_METHOD[service.kind], params, timeout=self.hub_timeout)
        except HubUnavailableError:
            return await self._queue(req, service)
        except ApiError as exc:
            raise ApiError(HUB_ERROR, exc.message, {"hub_code": exc.code}) from None
        if not isinstance(answer, dict):
            raise ApiError(HUB_ERROR, "central sent an answer the kiosk does not understand")
        return answer_to_result(req, service, answer)

    async def _queue(self, req: KioskRequest, service: ServiceSpec) -> KioskResult:
        if service.kind == "ticket":
            return await self._local_ticket(req, service)
        stored = await self.ctx.emit(
            "kiosk.request",
            wire.Priority.INFO,
            {
                "request_id": req.request_id,
                "service": service.id,
                "kind": service.kind,
                "category": service.category,
                "fields": req.fields,
                "lang": req.lang,
                "from_card": req.from_card,
            },
        )
        self.pending.add(
            PendingRequest(
                seq=stored.seq,
                request_id=req.request_id,
                service=service.id,
                kind=service.kind,
                queued_at=wire.utc_now_iso(),
            )
        )
        log.info(
            "kiosk request %s (%s) queued as event %d until central can answer", req.request_id, service.id, stored.seq
        )
        return KioskResult(
            request_id=req.request_id,
            service=service.id,
            kind=service.kind,
            status="queued",
            queued=True,
            message=MSG["queued"],
            ticket=ticket_for(self.ctx.station, stored.seq),
        )

    async def _local_ticket(self, req: KioskRequest, service: ServiceSpec) -> KioskResult:
        today = date.today().isoformat()
        if today != self._local_day:
            self._local_day, self._local_tickets = today, {}
        queue = req.fields.get("queue", "A")
        n = self._local_tickets[queue] = self._local_tickets.get(queue, 0) + 1
        number = f"L{queue}{n:03d}"
        await self.ctx.emit(
            "kiosk.ticket",
            wire.Priority.INFO,
            {"request_id": req.request_id, "queue": queue, "number": number, "local": True},
        )
        return KioskResult(
            request_id=req.request_id,
            service=service.id,
            kind=service.kind,
            status="issued",
            queued=True,
            message=MSG["issued"],
            ticket=number,
        )

    @property
    def place(self) -> KioskPlace:
        return KioskPlace(self.ctx.station_name or self.ctx.station, self.location, self.location_en)

    async def _call_officer(self, req: KioskRequest, service: ServiceSpec) -> KioskResult:
        incident = ""
        if "incidents.raise" in self.ctx.methods:
            incident = await raise_incident(self.ctx.socket_path, kind="officer_call", place=self.place)
        where = {"location": self.location, "location_en": self.location_en}
        stored = await self.ctx.emit(
            "kiosk.call_officer",
            wire.Priority.WARNING,
            {"request_id": req.request_id, "service": service.id, "incident": incident, **where},
        )
        called = OfficerCalled(
            seq=stored.seq,
            station=self.ctx.station,
            station_name=self.ctx.station_name,
            location=self.location,
            location_en=self.location_en,
            incident=incident,
            at=stored.accepted,
        )
        self.ctx.publish("kiosk.officer_called", msgspec.to_builtins(called))
        return KioskResult(
            request_id=req.request_id,
            service=service.id,
            kind=service.kind,
            status="called",
            message=MSG["called"],
            ticket=ticket_for(self.ctx.station, stored.seq),
        )

    async def _emergency(self, req: KioskRequest, service: ServiceSpec) -> KioskResult:
        incident = ""
        if self.emergency_via_incidents and "incidents.raise" in self.ctx.methods:
            incident = await raise_incident(self.ctx.socket_path, kind="emergency", place=self.place)
        stored = await self.ctx.emit(
            "kiosk.emergency",
            wire.Priority.ALARM,
            {"request_id": req.request_id, "service": service.id, "incident": incident},
        )
        return KioskResult(
            request_id=req.request_id,
            service=service.id,
            kind=service.kind,
            status="raised",
            message=MSG["raised"],
            ticket=ticket_for(self.ctx.station, stored.seq),
        )
