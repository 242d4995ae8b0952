"""The alarms component: school panels (SIA DC-09) and wired buttons (Modbus) become incidents.

Alarm path (local first; nothing here waits for the uplink):

1. the DC-09 receiver (or a Modbus poll) hands over a message; it becomes alarm signals
   (:mod:`edge.alarms.sources`) and the :class:`~edge.alarms.incidents.IncidentBook` turns them into changes;
2. the change is saved (:class:`~edge.alarms.journal.IncidentStore`: one journal record, one
   ``fdatasync``, holding the incident and its outbox event as unsent) *before* anyone is told; for
   DC-09 this happens before the receiver ACKs the panel, so an ACKed alarm is never lost. The write
   runs on the journal's own thread (:class:`~edge.alarms.journal.JournalWriter`), so the event loop
   (crew notifications, the local API, Modbus polling, other panels' ACKs) goes on during the flush;
3. the crew is notified as soon as the write is durable (``incidents`` topic of the local API), the
   siren policy is applied;
4. the alarm-priority event is submitted to the outbox concurrently (its fsync does not delay the
   crew); once committed it is dropped from the unsent list.

Order: the book changes on the event loop, at once, in the order inputs and API calls arrive; each
change is submitted to the one journal thread in that same step, and the crew is told in that order
(:meth:`AlarmComponent.apply` returns a future that is done once the change is saved and told).

Timers: one loop timer at the book's next due target (re-checked at least every 5 s), measured on the
monotonic clock: a wall-clock step (NTP, a crew member setting the time) neither fires escalations
early nor holds them back. What is saved with every change is the time left to each target and the
wall time it was measured at (:class:`~edge.alarms.incidents.Budget`); a restarted daemon takes the
time it was off (on the wall clock) from that and escalates at once what fell due meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import edge.alarms.events  # noqa: F401 - registers the alarm.* payload schemas
from drivers.modbus.module import InputChanged, LinkLost, LinkRestored, ModbusIoEvent
from edge.alarms.api import AlarmApi, incident_json
from edge.alarms.dc09 import Dc09Intake
from edge.alarms.events import pending_event
from edge.alarms.incidents import Budget, Change, Incident, IncidentBook, Targets, budgets_of
from edge.alarms.journal import IncidentStore, JournalWriter, PendingEvent
from edge.alarms.links import LinkRow, LinkTable
from edge.alarms.outputs import ModbusBank, SirenPolicy
from edge.alarms.sources import AlarmSignal, modbus_signal
from edge.config.alarms import AlarmsSection, ModbusModuleSection
from edge.spine.records import OutboxClosedError
from edge.wire.messages import Priority

if TYPE_CHECKING:
    from edge.component.context import ComponentContext

__all__ = ["AlarmComponent"]

log = logging.getLogger(__name__)


class AlarmComponent:
    name = "alarms"
    critical = False

    def __init__(
        self,
        config: AlarmsSection,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.now = clock
        self.mono = monotonic
        t = config.targets
        self.book = IncidentBook(
            targets=Targets(respond_s=t.respond_s, arrive_s=t.arrive_s, resolve_s=t.resolve_s),
            keep_closed=config.keep_closed,
        )
        self.links_table = LinkTable()
        self.policy = SirenPolicy(config.siren)
        self.dc09 = Dc09Intake(self)
        self.bank: ModbusBank | None = None
        self._ctx: ComponentContext | None = None
        self._store: IncidentStore | None = None
        self._writer: JournalWriter | None = None
        self._closing = False
        self._unsent: dict[str, PendingEvent] = {}
        self._emits: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._lazy_checkpoint: asyncio.TimerHandle | None = None

    @property
    def ctx(self) -> ComponentContext:
        assert self._ctx is not None, "AlarmComponent is not started"
        return self._ctx

    # ---- lifecycle ------------------------------------------------------------------------------
    async def start(self, ctx: ComponentContext) -> None:
        self._ctx = ctx
        self._store = IncidentStore(ctx.data_dir)
        self._writer = JournalWriter(self._store)
        try:
            snapshot = await self._writer.run(self._store.open)
            self.book = IncidentBook(
                targets=self.book.targets, keep_closed=self.config.keep_closed, incidents=snapshot.incidents
            )
            self._unsent = {p.key: p for p in snapshot.unsent}
            self.book.anchor(now=self.now(), mono=self.mono(), budgets=snapshot.budgets)
            await self._checkpoint()
        except BaseException:
            await self._writer.close()
            raise
        now = self.now()
        for school in self.config.schools:
            self.links_table.add("dc09", school.account, school.name, now=now)
        for module in self.config.modbus:
            self.links_table.add("modbus", module.name, _module_site(module), now=now)
        AlarmApi(self).register(ctx)
        try:
            await self._start_inputs()
        except BaseException:
            await self._stop_inputs()
            await self._writer.close()
            raise
        opened = self.book.open_incidents()
        if opened or self._unsent:
            log.info("resumed %d open incidents; %d alarm events to submit again", len(opened), len(self._unsent))
        for pending in list(self._unsent.values()):
            self._spawn_emit(pending)
        self._tick()  # escalate what was missed while the daemon was down, then arm the timer
        self._update_outputs()

    async def _start_inputs(self) -> None:
        await self.dc09.start()
        if self.config.modbus:
            self.bank = ModbusBank(self.config.modbus, on_event=self._on_modbus)
            for module in self.config.modbus:
                self.ctx.set_device(f"modbus.{module.name}", "ok")
            await self.bank.start()

    async def _stop_inputs(self) -> None:
        await self.dc09.stop()
        if self.bank is not None:
            await self.bank.stop()
            self.bank = None

    async def stop(self) -> None:
        await self._stop_inputs()
        if self._writer is not None:
            with contextlib.suppress(OSError):
                await self._writer.run(_nothing)  # every change submitted so far is saved and told
        self._closing = True  # from here on: no timers, no new submissions to the outbox
        for handle in (self._timer, self._lazy_checkpoint):
            if handle is not None:
                handle.cancel()
        self._timer = self._lazy_checkpoint = None
        if self._emits:
            await asyncio.wait(list(self._emits), timeout=5.0)
            for task in list(self._emits):  # still unsent: the journal keeps them for the next start
                task.cancel()
            await asyncio.gather(*self._emits, return_exceptions=True)
        if self._writer is not None:
            with contextlib.suppress(OSError):
                await self._checkpoint()
            await self._writer.close()

    # ---- the one path of every change -----------------------------------------------------------
    def apply(self, changes: list[Change]) -> asyncio.Future[bool]:
        """Save, then tell the crew and submit the events. Call it in the same loop step as the book
        change (the journal keeps the order of submission). The future is done once the changes are
        saved and told: False if they could not be saved (a visible fault; the crew is told anyway)."""
        told: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if not changes:
            told.set_result(True)
            return told
        pendings = [pending_event(c) for c in changes]
        for p in pendings:
            self._unsent[p.key] = p
        touched = {c.incident.id: c.incident for c in changes}
        now, mono = self.now(), self.mono()
        self.book.anchor(now=now, mono=mono)  # incidents raised without mono (the local API)
        saving = self._journal(
            incidents=touched.values(), unsent=pendings, budgets=self.book.budgets(now=now, mono=mono, ids=touched)
        )
        saving.add_done_callback(lambda f: self._tell(changes, pendings, f, told))
        return told

    def _tell(
        self,
        changes: list[Change],
        pendings: list[PendingEvent],
        saving: asyncio.Future[None],
        told: asyncio.Future[bool],
    ) -> None:
        """On the loop, once the journal write is over (these run in the order of the writes)."""
        exc = OSError("cancelled") if saving.cancelled() else saving.exception()
        if exc is None:
            self.ctx.faults.clear_fault("alarm.store")
        else:
            if not isinstance(exc, OSError):
                log.error("incident journal write failed", exc_info=exc)
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.ctx.faults.raise_fault("alarm.store", f"incidents cannot be saved: {reason}")
        for c in changes:
            self.ctx.publish(
                "incidents",
                {"change": c.change, "incident": incident_json(c), "at": c.at, "detail": c.detail, "target": c.target},
            )
        if not self._closing:  # stopping: the journal keeps them unsent for the next start
            for p in pendings:
                self._spawn_emit(p)
        alarm = any(c.change in ("raised", "merged", "escalated") and c.incident.alarm for c in changes)
        if alarm:
            self.policy.new_alarm()
        self._update_outputs(retrigger=alarm)
        self._arm_timer()
        if not told.done():
            told.set_result(exc is None)

    def _journal(
        self,
        *,
        incidents: Iterable[Incident] = (),
        unsent: Iterable[PendingEvent] = (),
        sent: Iterable[str] = (),
        durable: bool = True,
        budgets: dict[str, Budget] | None = None,
    ) -> asyncio.Future[None]:
        """Submit one journal record (a checkpoint instead if the journal is full) to the writer thread."""
        assert self._writer is not None
        assert self._store is not None
        now, every = self.now(), list(self.book)
        whole_budgets = functools.partial(budgets_of, every, self.book.due_times(), now=now, mono=self.mono())
        saving = self._writer.run(
            self._store.append,
            incidents=list(incidents),
            unsent=list(unsent),
            sent=list(sent),
            durable=durable,
            budgets=budgets,
            now=now,
            whole=(every, list(self._unsent.values()), whole_budgets),
        )
        if self._store.usage > 0.5 and self._lazy_checkpoint is None and not self._closing:
            self._lazy_checkpoint = asyncio.get_running_loop().call_later(1.0, self._checkpoint_later)
        return saving

    def _checkpoint(self) -> asyncio.Future[None]:
        assert self._writer is not None
        assert self._store is not None
        now = self.now()
        return self._writer.run(
            self._store.checkpoint,
            list(self.book),
            list(self._unsent.values()),
            now=now,
            budgets=self.book.budgets(now=now, mono=self.mono()),
        )

    def _checkpoint_later(self) -> None:
        self._lazy_checkpoint = None
        self._checkpoint().add_done_callback(_log_checkpoint)

    def _spawn_emit(self, pending: PendingEvent) -> None:
        if self._closing:
            return
        task = asyncio.create_task(self._emit(pending), name=f"alarm-emit-{pending.key}")
        self._emits.add(task)
        task.add_done_callback(self._emits.discard)

    async def _emit(self, pending: PendingEvent) -> None:
        delay = 0.5
        while True:
            try:
                await self.ctx.emit(pending.type, Priority(pending.priority), pending.data)
                break
            except OutboxClosedError:
                return  # kept as unsent in the journal: submitted again at the next start
            except Exception:  # kept as unsent, and tried again while the daemon runs
                log.exception("alarm event %s not accepted by the outbox; trying again in %.1f s", pending.type, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        if self._unsent.pop(pending.key, None) is not None:
            try:
                await self._journal(sent=[pending.key], durable=False)  # lost: the event is only sent again
            except OSError as exc:
                log.warning("incident journal not written: %s", exc)

    def emit_info(self, type_: str, priority: Priority, data: dict[str, Any]) -> None:
        """Events that are not incident changes (links, counters): submitted, not tracked as unsent."""
        task = asyncio.create_task(self.ctx.emit(type_, priority, data), name=f"alarm-{type_}")
        self._emits.add(task)
        task.add_done_callback(_log_failure)
        task.add_done_callback(self._emits.discard)

    # ---- timers and outputs ---------------------------------------------------------------------
    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._closing:
            return
        left = self.book.seconds_to_next_due(now=self.now(), mono=self.mono())
        if left is not None:
            delay = min(max(0.0, left), 5.0)  # a monotonic loop timer; re-checked every 5 s all the same
            self._timer = asyncio.get_running_loop().call_later(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        changes = self.book.due(self.now(), mono=self.mono())
        for c in changes:
            log.warning("incident %s escalated: %s", c.incident.id, c.detail)
        if changes:
            self.apply(changes)
        else:
            self._arm_timer()

    def _update_outputs(self, *, retrigger: bool = False) -> None:
        if self.bank is not None:
            self.bank.want(self.policy.wanted(self.book), retrigger=retrigger)

    def set_siren(self, on: bool) -> bool:
        self.policy.manual = on
        self._update_outputs()
        return self.policy.wanted(self.book).siren

    def links(self) -> list[dict[str, Any]]:
        return [row.as_json() for row in self.links_table.rows()]

    # ---- inputs ---------------------------------------------------------------------------------
    def raise_signals(self, signals: list[AlarmSignal], now: float) -> asyncio.Future[bool]:
        """Alarm signals from an input become changes now; the future: saved and told (False: not saved)."""
        return self.apply(self._signals(signals, now))

    def _signals(self, signals: list[AlarmSignal], now: float) -> list[Change]:
        changes: list[Change] = []
        for s in signals:
            if s.action == "raise":
                changes.append(
                    self.book.raise_alarm(kind=s.kind, source=s.source, now=now, detail=s.detail, mono=self.mono())
                )
            else:
                restored = self.book.restore(source=s.source, now=now, detail=s.detail)
                if restored is not None:
                    changes.append(restored)
        return changes

    def publish_link(self, row: LinkRow) -> None:
        self.ctx.publish(
            "alarm.links",
            {"account": row.account, "site": row.site, "state": row.state, "kind": row.kind, "since": row.since},
        )

    def _on_modbus(self, module: ModbusModuleSection, event: ModbusIoEvent) -> None:
        now = self.now()
        name = module.name
        if isinstance(event, InputChanged):
            row = self.links_table.set("modbus", name, "ok", now=now, site=_module_site(module))
            if row is not None:
                self.publish_link(row)
            signal = modbus_signal(module, event.index, event.pressed)
            if signal is not None:
                self.apply(self._signals([signal], now))
            return
        lost = isinstance(event, LinkLost)
        row = self.links_table.set("modbus", name, "lost" if lost else "ok", now=now, site=_module_site(module))
        code = f"device.modbus.{name}"
        if isinstance(event, LinkLost):
            self.ctx.set_device(f"modbus.{name}", f"fault: unit {module.unit} not answering ({event.reason})")
            self.ctx.faults.raise_fault(
                code, f"Modbus module {name} (unit {module.unit}) not answering: {event.reason}"
            )
            silence = float(event.failures) * module.poll_interval_s
            reason = event.reason
        else:
            assert isinstance(event, LinkRestored)
            self.ctx.set_device(f"modbus.{name}", "ok")
            self.ctx.faults.clear_fault(code)
            silence, reason = event.down_for, ""
        if row is not None:
            self.publish_link(row)
            self.emit_info(
                "alarm.link_lost" if lost else "alarm.link_restored",
                Priority.WARNING,
                {
                    "source": "modbus",
                    "account": name,
                    "site": _module_site(module),
                    "state": row.state,
                    "silence_s": round(silence, 3),
                    "reason": reason,
                },
            )


def _module_site(module: ModbusModuleSection) -> str:
    return module.buttons[0].site if module.buttons else module.name


def _nothing() -> None:
    pass


def _log_checkpoint(saving: asyncio.Future[None]) -> None:
    if not saving.cancelled() and saving.exception() is not None:
        log.warning("incident snapshot not written: %s", saving.exception())


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("alarm event not accepted by the outbox: %s", task.exception())
