"""The alarms component: school panels (SIA DC-09) and wired buttons (Modbus) become incidents.

Alarm path (local first; nothing here waits for the uplink):

1. the DC-09 receiver (or a Modbus poll) hands over a message; it becomes alarm signals
   (:mod:`edge.alarm_sources`) and the :class:`~edge.incidents.IncidentBook` turns them into changes;
2. the change is saved (:class:`~edge.incident_store.IncidentStore`: one journal record, one
   ``fdatasync``, holding the incident and its outbox event as unsent) *before* anyone is told; for
   DC-09 this happens before the receiver ACKs the panel, so an ACKed alarm is never lost;
3. the crew is notified at once (``incidents`` topic of the local API), the siren policy is applied;
4. the alarm-priority event is submitted to the outbox concurrently (its fsync does not delay the
   crew); once committed it is dropped from the unsent list.

Timers: one loop timer at the book's next deadline (re-checked at least every 5 s, so a wall-clock
step cannot make it late); deadlines are absolute, so a restarted daemon escalates what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import msgspec

import edge.alarm_events  # noqa: F401 - registers the alarm.* payload schemas
from drivers.modbus_io import InputChanged, LinkLost, LinkRestored, ModbusIoEvent
from edge.alarm_api import AlarmApi, incident_json
from edge.alarm_dc09 import Dc09Intake
from edge.alarm_links import LinkRow, LinkTable
from edge.alarm_outputs import ModbusBank, SirenPolicy
from edge.alarm_sources import AlarmSignal, modbus_signal
from edge.alarms_config import AlarmsSection, ModbusModuleSection
from edge.incident_store import IncidentStore, PendingEvent
from edge.incidents import Change, Incident, IncidentBook, Targets
from edge.outbox import OutboxClosedError
from edge.wire import Priority

if TYPE_CHECKING:
    from edge.daemon import EdgeDaemon

__all__ = ["AlarmComponent"]

log = logging.getLogger(__name__)

class AlarmComponent:
    name = "alarms"
    critical = False

    def __init__(self, config: AlarmsSection, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.now = clock
        t = config.targets
        self.book = IncidentBook(targets=Targets(respond_s=t.respond_s, arrive_s=t.arrive_s, resolve_s=t.resolve_s),
                                 keep_closed=config.keep_closed)
        self.links_table = LinkTable()
        self.policy = SirenPolicy(config.siren)
        self.dc09 = Dc09Intake(self)
        self.bank: ModbusBank | None = None
        self._daemon: EdgeDaemon | None = None
        self._store: IncidentStore | None = None
        self._unsent: dict[str, PendingEvent] = {}
        self._emits: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._lazy_checkpoint: asyncio.TimerHandle | None = None

    @property
    def daemon(self) -> EdgeDaemon:
        assert self._daemon is not None, "AlarmComponent is not started"
        return self._daemon

    # ---- lifecycle ------------------------------------------------------------------------------
    async def start(self, daemon: EdgeDaemon) -> None:
        self._daemon = daemon
        self._store = IncidentStore(daemon.data_dir)
        snapshot = await asyncio.to_thread(self._store.open)
        self.book = IncidentBook(targets=self.book.targets, keep_closed=self.config.keep_closed,
                                 incidents=snapshot.incidents)
        self._unsent = {p.key: p for p in snapshot.unsent}
        await asyncio.to_thread(self._store.checkpoint, list(self.book), list(self._unsent.values()), now=self.now())
        now = self.now()
        for school in self.config.schools:
            self.links_table.add("dc09", school.account, school.name, now=now)
        for module in self.config.modbus:
            self.links_table.add("modbus", module.name, _module_site(module), now=now)
        AlarmApi(self).register(daemon.api)
        try:
            await self._start_inputs()
        except BaseException:
            await self._stop_inputs()
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
                self.daemon.devices[f"modbus.{module.name}"] = "ok"
            await self.bank.start()

    async def _stop_inputs(self) -> None:
        await self.dc09.stop()
        if self.bank is not None:
            await self.bank.stop()
            self.bank = None

    async def stop(self) -> None:
        for handle in (self._timer, self._lazy_checkpoint):
            if handle is not None:
                handle.cancel()
        await self._stop_inputs()
        if self._emits:
            await asyncio.wait(list(self._emits), timeout=5.0)
            for task in list(self._emits):  # still unsent: the journal keeps them for the next start
                task.cancel()
            await asyncio.gather(*self._emits, return_exceptions=True)
        if self._store is not None:
            with contextlib.suppress(OSError):
                self._checkpoint()
            self._store.close()

    # ---- the one path of every change -----------------------------------------------------------
    def apply(self, changes: list[Change]) -> bool:
        """Save, tell the crew, submit the events. Returns False if the snapshot could not be written
        (a visible fault; the crew is told anyway)."""
        if not changes:
            return True
        pendings = [_pending(c) for c in changes]
        for p in pendings:
            self._unsent[p.key] = p
        touched = {c.incident.id: c.incident for c in changes}
        saved = True
        try:
            self._journal(incidents=touched.values(), unsent=pendings)
            self.daemon.faults.clear_fault("alarm.store")
        except OSError as exc:
            saved = False
            self.daemon.faults.raise_fault("alarm.store", f"incidents cannot be saved: {exc.strerror or exc}")
        for c in changes:
            self.daemon.api.publish("incidents", {
                "change": c.change, "incident": incident_json(c), "at": c.at, "detail": c.detail,
                "target": c.target})
        for p in pendings:
            self._spawn_emit(p)
        if any(c.change in ("raised", "merged", "escalated") for c in changes):
            self.policy.new_alarm()
        self._update_outputs()
        self._arm_timer()
        return saved

    def _journal(self, *, incidents: Iterable[Incident] = (), unsent: Iterable[PendingEvent] = (),
                 sent: Iterable[str] = (), durable: bool = True) -> None:
        assert self._store is not None
        if not self._store.record(incidents=incidents, unsent=unsent, sent=sent, durable=durable):
            self._checkpoint()  # the journal is full: the whole state goes into a new snapshot instead
        elif self._store.usage > 0.5 and self._lazy_checkpoint is None:
            self._lazy_checkpoint = asyncio.get_running_loop().call_later(1.0, self._checkpoint_later)

    def _checkpoint(self) -> None:
        assert self._store is not None
        self._store.checkpoint(list(self.book), list(self._unsent.values()), now=self.now())

    def _checkpoint_later(self) -> None:
        self._lazy_checkpoint = None
        try:
            self._checkpoint()
        except OSError as exc:
            log.warning("incident snapshot not written: %s", exc)

    def _spawn_emit(self, pending: PendingEvent) -> None:
        task = asyncio.create_task(self._emit(pending), name=f"alarm-emit-{pending.key}")
        self._emits.add(task)
        task.add_done_callback(self._emits.discard)

    async def _emit(self, pending: PendingEvent) -> None:
        delay = 0.5
        while True:
            try:
                await self.daemon.emit(pending.type, Priority(pending.priority), pending.data)
                break
            except OutboxClosedError:
                return  # kept as unsent in the journal: submitted again at the next start
            except Exception:  # kept as unsent, and tried again while the daemon runs
                log.exception("alarm event %s not accepted by the outbox; trying again in %.1f s", pending.type,
                              delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        if self._unsent.pop(pending.key, None) is not None:
            try:
                self._journal(sent=[pending.key], durable=False)  # lost: the event is only sent again
            except OSError as exc:
                log.warning("incident journal not written: %s", exc)

    def emit_info(self, type_: str, priority: Priority, data: dict[str, Any]) -> None:
        """Events that are not incident changes (links, counters): submitted, not tracked as unsent."""
        task = asyncio.create_task(self.daemon.emit(type_, priority, data), name=f"alarm-{type_}")
        self._emits.add(task)
        task.add_done_callback(_log_failure)
        task.add_done_callback(self._emits.discard)

    # ---- timers and outputs ---------------------------------------------------------------------
    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.book.next_deadline()
        if deadline is not None:
            delay = min(max(0.0, deadline - self.now()), 5.0)
            self._timer = asyncio.get_running_loop().call_later(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        changes = self.book.due(self.now())
        for c in changes:
            log.warning("incident %s escalated: %s", c.incident.id, c.detail)
        if changes:
            self.apply(changes)
        else:
            self._arm_timer()

    def _update_outputs(self) -> None:
        if self.bank is not None:
            self.bank.want(self.policy.wanted(self.book))

    def set_siren(self, on: bool) -> bool:
        self.policy.manual = on
        self._update_outputs()
        return self.policy.wanted(self.book).siren

    def links(self) -> list[dict[str, Any]]:
        return [row.as_json() for row in self.links_table.rows()]

    # ---- inputs ---------------------------------------------------------------------------------
    def raise_signals(self, signals: list[AlarmSignal], now: float) -> bool:
        """Alarm signals from an input become changes, saved and told (False: not saved)."""
        return self.apply(self._signals(signals, now))

    def _signals(self, signals: list[AlarmSignal], now: float) -> list[Change]:
        changes: list[Change] = []
        for s in signals:
            if s.action == "raise":
                changes.append(self.book.raise_alarm(kind=s.kind, source=s.source, now=now, detail=s.detail))
            else:
                restored = self.book.restore(source=s.source, now=now, detail=s.detail)
                if restored is not None:
                    changes.append(restored)
        return changes

    def publish_link(self, row: LinkRow) -> None:
        self.daemon.api.publish("alarm.links", {"account": row.account, "site": row.site, "state": row.state,
                                                "kind": row.kind, "since": row.since})

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
            self.daemon.devices[f"modbus.{name}"] = f"fault: unit {module.unit} not answering ({event.reason})"
            self.daemon.faults.raise_fault(code, f"Modbus module {name} (unit {module.unit}) not answering: "
                                                 f"{event.reason}")
            silence = float(event.failures) * module.poll_interval_s
            reason = event.reason
        else:
            assert isinstance(event, LinkRestored)
            self.daemon.devices[f"modbus.{name}"] = "ok"
            self.daemon.faults.clear_fault(code)
            silence, reason = event.down_for, ""
        if row is not None:
            self.publish_link(row)
            self.emit_info("alarm.link_lost" if lost else "alarm.link_restored", Priority.WARNING, {
                "source": "modbus", "account": name, "site": _module_site(module), "state": row.state,
                "silence_s": round(silence, 3), "reason": reason})


def _module_site(module: ModbusModuleSection) -> str:
    return module.buttons[0].site if module.buttons else module.name


def _pending(change: Change) -> PendingEvent:
    incident = change.incident
    data = {"incident_id": incident.id, "change": change.change, "at": change.at, "by": change.by,
            "detail": change.detail, "target": change.target, "incident": msgspec.to_builtins(incident)}
    return PendingEvent(key=f"{incident.id}:{incident.rev}", type=change.event_type, priority=int(Priority.ALARM),
                        data=data)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("alarm event not accepted by the outbox: %s", task.exception())

