"""The kiosk component: the resident touchscreen's services in the daemon.

Local API (JSON-RPC on the daemon's socket; the touchscreen calls it through `ui.link.DaemonLink`):

    kiosk.catalogue      {}                         -> {catalogue, settings, devices, notices}
    kiosk.submit         KioskRequest               -> KioskResult (any service that takes a request)
    kiosk.book / kiosk.lookup / kiosk.ticket / kiosk.call_officer / kiosk.emergency
                         KioskRequest               -> KioskResult (the same, for that kind only)
    kiosk.print          {receipt_id, lang}         -> {printed: true, replaced: [...]}
    kiosk.notices        {}                         -> {notices: [Notice...]}
    kiosk.bulletin       {}                         -> {bulletin: Bulletin | null} (edge/kiosk/bulletin.py)
    kiosk.pending        {}                         -> {pending: [...], resolved: [KioskResult...]}
    kiosk.session.end    {}                         -> {} (forget the session's receipts)
    kiosk.patrol.checkin {method, code?}            -> KioskResult (a patrol member checks in, edge.kiosk.patrol)

Notifications (subscribe to `kiosk.*`): `kiosk.card` (a card was read: its fields), `kiosk.card_removed`,
`kiosk.card_failed`, `kiosk.notices` (the set changed), `kiosk.bulletin` (a newer bulletin came),
`kiosk.result` (central answered a queued request), `kiosk.officer_called`. Commands from central:
`kiosk.notices`, `kiosk.result`, `kiosk.bulletin`, `patrol.roster`. Form errors come back as
INVALID_PARAMS with `data.fields`, each with a code and messages in both languages.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from drivers.escpos.printer import PrinterFaultError
from edge.api.server import Connection
from edge.config.kiosk import KioskSection
from edge.kiosk import events as kiosk_payloads
from edge.kiosk.bulletin import BulletinStore
from edge.kiosk.devices import KioskDevices, NoPrinterError, render_receipt
from edge.kiosk.handlers import RequestHandlers, answer_to_result
from edge.kiosk.notices import NoticeStore
from edge.kiosk.patrol import PatrolDesk, RosterStore
from edge.kiosk.queue import PendingQueue
from edge.wire import messages as wire
from edge.wire.api import kiosk as api
from edge.wire.api.base import Empty
from edge.wire.api.kiosk import CurrentBulletin, KioskSubmit, Printed, PrintReceipt
from edge.wire.api.patrol import KIOSK_PATROL_CHECKIN, PatrolCheckInParams
from edge.wire.bulletin import BULLETIN_COMMAND
from edge.wire.errors import INVALID_PARAMS, NOT_FOUND, UNAVAILABLE, ApiError
from edge.wire.patrol import ROSTER_COMMAND
from kiosk.catalogue import Text, catalogue_to_data
from kiosk.receipts import ReceiptDoc, build_receipt
from kiosk.requests import KioskRequest, KioskResult, new_request_id

if TYPE_CHECKING:
    from edge.component.context import ComponentContext

__all__ = ["KioskComponent"]

log = logging.getLogger(__name__)
assert kiosk_payloads  # the kiosk's event types are registered on import

_RECEIPT_KINDS = ("report", "appointment", "lookup", "ticket")
_MAX_RECEIPTS = 16


class KioskComponent:
    name = "KioskComponent"
    critical = False

    def __init__(self, config: KioskSection) -> None:
        self.config = config
        self.catalogue = config.catalogue()
        self.ctx: ComponentContext | None = None
        self.devices: KioskDevices | None = None
        self.notices: NoticeStore | None = None
        self.bulletin: BulletinStore | None = None
        self.pending: PendingQueue | None = None
        self.handlers: RequestHandlers | None = None
        self.patrol: PatrolDesk | None = None
        self._receipts: collections.OrderedDict[str, ReceiptDoc] = collections.OrderedDict()
        self.resolved: collections.deque[KioskResult] = collections.deque(maxlen=50)
        self._tasks: list[asyncio.Task[None]] = []

    # ---- lifecycle -----------------------------------------------------------------------------
    async def start(self, ctx: ComponentContext) -> None:
        self.ctx = ctx
        cfg = self.config
        self.notices = NoticeStore(ctx.data_dir / "kiosk-notices.json")
        self.pending = PendingQueue(ctx.data_dir / "kiosk-pending.json")
        self.bulletin = BulletinStore(ctx.data_dir / "kiosk-bulletin.json")
        await asyncio.to_thread(self.notices.load)
        await asyncio.to_thread(self.bulletin.load)
        await asyncio.to_thread(self.pending.load)
        self.patrol = PatrolDesk(ctx, RosterStore(ctx.data_dir / "patrol-roster.json"))
        await asyncio.to_thread(self.patrol.roster.load)
        self.handlers = RequestHandlers(
            ctx,
            catalogue=self.catalogue,
            pending=self.pending,
            hub_timeout=cfg.hub_timeout,
            emergency_via_incidents=cfg.emergency_via_incidents,
            location=cfg.location,
            location_en=cfg.location_en,
        )
        ctx.register(api.KIOSK_CATALOGUE, self._api_catalogue)
        ctx.register(api.KIOSK_SUBMIT, self._submit_for(()))
        for method, kind in (
            (api.KIOSK_BOOK, "appointment"),
            (api.KIOSK_LOOKUP, "lookup"),
            (api.KIOSK_TICKET, "ticket"),
            (api.KIOSK_CALL_OFFICER, "call_officer"),
            (api.KIOSK_EMERGENCY, "emergency"),
        ):
            ctx.register(method, self._submit_for((kind,)))
        ctx.register(api.KIOSK_PRINT, self._api_print)
        ctx.register(api.KIOSK_NOTICES, self._api_notices)
        ctx.register(api.KIOSK_BULLETIN, self._api_bulletin)
        ctx.register(api.KIOSK_PENDING, self._api_pending)
        ctx.register(api.KIOSK_SESSION_END, self._api_session_end)
        ctx.register(KIOSK_PATROL_CHECKIN, self._api_patrol_checkin)
        ctx.on_command("kiosk.notices", self._cmd_notices)
        ctx.on_command(BULLETIN_COMMAND, self._cmd_bulletin)
        ctx.on_command("kiosk.result", self._cmd_result)
        ctx.on_command(ROSTER_COMMAND, self._cmd_roster)
        self.devices = KioskDevices(
            reader=cfg.id_reader, printer=cfg.printer, faults=ctx.faults, set_device=ctx.set_device, notify=ctx.publish
        )
        await self.devices.start()
        self._tasks.append(asyncio.create_task(self._resolve_loop(), name="kiosk-resolve"))
        log.info(
            "kiosk ready: %d services, reader %s, printer %s",
            len(self.catalogue.services),
            cfg.id_reader.port or "none",
            cfg.printer.port or "none",
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.devices is not None:
            await self.devices.stop()
        self._receipts.clear()

    # ---- API -----------------------------------------------------------------------------------
    async def _api_catalogue(self, params: Empty, conn: Connection) -> dict[str, Any]:
        d = self._ctx()
        return {
            "catalogue": catalogue_to_data(self.catalogue),
            "settings": {
                "idle_timeout": self.config.idle_timeout,
                "idle_warning": self.config.idle_warning,
                "station": d.station,
                "station_name": d.station_name,
                "printer": self.config.printer.port is not None,
                "id_reader": self.config.id_reader.port is not None,
            },
            "devices": d.devices,
        }

    def _submit_for(self, kinds: tuple[str, ...]) -> Any:
        async def handler(params: KioskSubmit, conn: Connection) -> dict[str, Any]:
            return await self._submit(params, kinds)

        return handler

    async def _submit(self, params: KioskSubmit, kinds: tuple[str, ...]) -> dict[str, Any]:
        h = self._handlers()
        req = KioskRequest(
            request_id=params.request_id or new_request_id(),
            service=params.service,
            fields=dict(params.fields),
            lang=params.lang,
            from_card=params.from_card,
        )
        service = h.service_for(req, kinds=kinds)
        req = h.validated(req, service)
        result = await h.handle(req, service)
        if service.kind in _RECEIPT_KINDS and result.status != "failed":
            d = self._ctx()
            doc = build_receipt(
                result,
                service,
                station=d.station_name or d.station,
                when=time.strftime("%Y-%m-%d %H:%M"),
                fields=req.fields,
            )
            result = msgspec.structs.replace(result, receipt_id=self._keep_receipt(doc))
        return _builtins(result)

    def _keep_receipt(self, doc: ReceiptDoc) -> str:
        receipt_id = new_request_id()
        self._receipts[receipt_id] = doc
        while len(self._receipts) > _MAX_RECEIPTS:
            self._receipts.popitem(last=False)
        return receipt_id

    async def _api_patrol_checkin(self, params: PatrolCheckInParams, conn: Connection) -> dict[str, Any]:
        assert self.patrol is not None
        assert self.devices is not None
        try:
            service = self.catalogue.service(params.service)
        except KeyError:
            raise ApiError(INVALID_PARAMS, f"this station does not offer the service {params.service!r}") from None
        card_id = self.devices.take_card() if params.method == "card" else None
        result, doc = await self.patrol.check_in(params, service, card_id=card_id)
        return _builtins(msgspec.structs.replace(result, receipt_id=self._keep_receipt(doc)))

    async def _api_print(self, params: PrintReceipt, conn: Connection) -> Printed:
        doc = self._receipts.get(params.receipt_id)
        if doc is None:
            raise ApiError(NOT_FOUND, "no such receipt (it is printed only during its session)")
        data, replaced = render_receipt(doc, params.lang, charset=self.config.printer.charset)
        assert self.devices is not None
        try:
            await self.devices.print_receipt(data)
        except NoPrinterError:
            raise ApiError(
                UNAVAILABLE,
                "本机没有回执打印机 / This kiosk has no receipt printer",
                {"zh": "本机没有回执打印机", "en": "This kiosk has no receipt printer"},
            ) from None
        except PrinterFaultError as exc:  # a visible device fault already; an answer the screen shows
            zh, en = exc.message_zh, exc.message_en
            raise ApiError(
                UNAVAILABLE, f"{zh} / {en}", {"zh": f"{zh}，请联系工作人员", "en": f"{en}; please ask the staff"}
            ) from None
        return Printed(printed=True, replaced=list(replaced))

    async def _api_notices(self, params: Empty, conn: Connection) -> dict[str, Any]:
        assert self.notices is not None
        return {"notices": msgspec.to_builtins(self.notices.current())}

    async def _api_bulletin(self, params: Empty, conn: Connection) -> CurrentBulletin:
        assert self.bulletin is not None
        return CurrentBulletin(bulletin=self.bulletin.current)

    async def _api_pending(self, params: Empty, conn: Connection) -> dict[str, Any]:
        assert self.pending is not None
        return {
            "pending": msgspec.to_builtins(list(self.pending.items.values())),
            "resolved": [_builtins(r) for r in self.resolved],
        }

    async def _api_session_end(self, params: Empty, conn: Connection) -> Empty:
        self._receipts.clear()
        if self.devices is not None:
            self.devices.forget_card()
        return Empty()

    # ---- commands from central -----------------------------------------------------------------
    # The daemon's command gate has verified the signature, target, time and counter of every command.
    async def _cmd_notices(self, cmd: wire.Command) -> None:
        assert self.notices is not None
        if await _applied(self.notices.apply, cmd):
            log.info("notices updated (scope %s, %d current)", cmd.args.get("scope"), len(self.notices.current()))
            self._ctx().publish("kiosk.notices", {"count": len(self.notices.current())})

    async def _cmd_bulletin(self, cmd: wire.Command) -> None:
        assert self.bulletin is not None
        if await _applied(self.bulletin.apply, cmd) and self.bulletin.current is not None:
            b = self.bulletin.current
            log.info("bulletin %s of area %s received", b.week, b.area)
            self._ctx().publish(BULLETIN_COMMAND, {"week": b.week})

    async def _cmd_roster(self, cmd: wire.Command) -> None:
        assert self.patrol is not None
        store = self.patrol.roster
        try:
            changed = await asyncio.to_thread(store.apply, cmd.args)
        except ValueError as exc:
            log.warning("refused command %s (%s): %s", cmd.name, cmd.id, exc)
            return
        if changed and store.roster is not None:
            log.info("patrol roster version %d taken (%d members)", store.roster.version, len(store.roster.members))

    async def _cmd_result(self, cmd: wire.Command) -> None:
        self._take_answers([cmd.args])

    def _take_answers(self, items: list[Any]) -> None:
        """Take central's answers one by one: a malformed one is logged and skipped, never fatal."""
        for item in items:
            if not isinstance(item, dict):
                log.warning("ignored a malformed answer from central: %.200r", item)
                continue
            try:
                self._take_answer(item)
            except Exception:  # a bad answer must not stop the others, nor the loop that asks for them
                log.exception("ignored a malformed answer from central for request %.64r", item.get("request_id"))

    def _take_answer(self, item: dict[str, Any]) -> None:
        """Central answered a queued request: {request_id, answer}."""
        assert self.pending is not None
        pending = self.pending.items.get(str(item.get("request_id", "")))
        answer = item.get("answer")
        if pending is None or not isinstance(answer, dict):
            return
        try:
            service = self.catalogue.service(pending.service)
        except KeyError:
            service = None
        if service is not None:
            req = KioskRequest(request_id=pending.request_id, service=pending.service)
            try:
                result = answer_to_result(req, service, answer)
            except (AttributeError, TypeError, ValueError, msgspec.ValidationError) as exc:
                # central's answer is unusable, and asking again gets the same one: the request ends as
                # not done (the resident is told), instead of being asked about forever
                log.warning("central's answer to queued kiosk request %s is malformed: %s", pending.request_id, exc)
                result = KioskResult(
                    request_id=req.request_id,
                    service=service.id,
                    kind=service.kind,
                    status="failed",
                    message=Text("未能办理", "Not done"),
                )
            self.resolved.append(result)
            self._ctx().publish("kiosk.result", _builtins(result))
        self.pending.remove(pending.request_id)
        log.info("central answered queued kiosk request %s", pending.request_id)

    async def _resolve_loop(self) -> None:
        assert self.pending is not None
        while True:
            await asyncio.sleep(self.config.retry_interval)
            if not self.pending.items or not self._handlers().link_up:
                continue
            asks = [{"seq": p.seq, "request_id": p.request_id} for p in self.pending.items.values()]
            try:
                answer = await self._ctx().call_hub(
                    "kiosk.resolve", {"requests": asks[:50]}, timeout=self.config.hub_timeout
                )
            except ApiError as exc:
                log.debug("queued kiosk requests not resolved yet: %s", exc)
                continue
            results = answer.get("results") if isinstance(answer, dict) else None
            if not isinstance(results, list):
                log.warning("ignored a malformed kiosk.resolve answer from central: %.200r", answer)
                continue
            self._take_answers([item for item in results if isinstance(item, dict) and item.get("state") == "done"])

    # ---- helpers -------------------------------------------------------------------------------
    def _ctx(self) -> ComponentContext:
        assert self.ctx is not None
        return self.ctx

    def _handlers(self) -> RequestHandlers:
        assert self.handlers is not None
        return self.handlers


async def _applied(apply: Callable[[dict[str, Any]], bool], cmd: wire.Command) -> bool:
    """Let a store take a command's args (off the loop: it writes a file); False if it kept what it had
    or refused them as malformed (logged)."""
    try:
        return await asyncio.to_thread(apply, cmd.args)
    except ValueError as exc:
        log.warning("refused command %s (%s): %s", cmd.name, cmd.id, exc)
        return False


def _builtins(result: KioskResult) -> dict[str, Any]:
    out = msgspec.to_builtins(result)
    assert isinstance(out, dict)
    return out
