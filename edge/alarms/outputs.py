"""Modbus I/O modules of the alarms component: panic buttons in, siren and strobe relays out.

:class:`SirenPolicy` (sans-IO) decides whether sirens and strobes should be on, from the incidents and
the crew's manual switch. :class:`ModbusBank` runs one :class:`~drivers.modbus.module.ModbusIoModule` per
configured module, hands their input and link events to the component, and writes the siren and
strobe coils when the wanted state changes (a module that is down gets its coils written again by the
driver when it returns).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from drivers.modbus.module import LatchConfig, ModbusIoEvent, ModbusIoModule, OutputWriteError
from edge.alarms.incidents import IncidentBook
from edge.config.alarms import ModbusModuleSection, SirenMode, SirenSection

__all__ = ["ModbusBank", "OutputState", "SirenPolicy"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutputState:
    siren: bool = False
    strobe: bool = False


class SirenPolicy:
    """``wanted(book)``: the relays' state. A manual switch holds until the next new alarm or escalation."""

    def __init__(self, config: SirenSection) -> None:
        self.config = config
        self.manual: bool | None = None  # None: follow the policy

    @staticmethod
    def _auto(mode: SirenMode, book: IncidentBook) -> bool:
        if mode == "raised":
            return book.any_in("raised")
        if mode == "open":
            return bool(book.open_incidents())
        return False

    def wanted(self, book: IncidentBook) -> OutputState:
        if self.manual is not None:
            return OutputState(siren=self.manual, strobe=self.manual)
        return OutputState(siren=self._auto(self.config.siren, book), strobe=self._auto(self.config.strobe, book))

    def new_alarm(self) -> None:
        """A new alarm (or an escalation) takes the relays back from a manual 'off'."""
        if self.manual is False:
            self.manual = None


OnModbusEvent = Callable[[ModbusModuleSection, ModbusIoEvent], None]


class ModbusBank:
    def __init__(self, modules: list[ModbusModuleSection], *, on_event: OnModbusEvent) -> None:
        self.configs = modules
        self._on_event = on_event
        self.modules: dict[str, ModbusIoModule] = {}
        self._applied: dict[str, OutputState] = {}
        self._wanted = OutputState()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for cfg in self.configs:
            module = ModbusIoModule(
                port=cfg.port, unit=cfg.unit, baudrate=cfg.baudrate, poll_interval=cfg.poll_interval_s,
                timeout=cfg.timeout_s, input_count=cfg.input_count, coil_count=cfg.coil_count,
                latch=LatchConfig(address=cfg.latch_address) if cfg.latch_address is not None else None,
                normally_closed=frozenset(b.input for b in cfg.buttons if b.normally_closed),
                failure_threshold=cfg.failure_threshold,
                on_event=functools.partial(self._on_event, cfg),
            )
            await module.start()
            self.modules[cfg.name] = module

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for module in self.modules.values():
            await module.stop()
        self.modules.clear()

    def available(self, name: str) -> bool | None:
        module = self.modules.get(name)
        if module is None:
            return None
        return module.available and module.consecutive_failures == 0

    def want(self, state: OutputState) -> None:
        """Ask for this relay state; the writes run in the background (the latest wish wins)."""
        self._wanted = state
        pending = any(self._applied.get(cfg.name) != state for cfg in self.configs if _has_outputs(cfg))
        if pending and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._apply(), name="alarm-outputs")

    async def _apply(self) -> None:
        async with self._lock:
            while True:
                state = self._wanted
                for cfg in self.configs:
                    if not _has_outputs(cfg) or self._applied.get(cfg.name) == state:
                        continue
                    await self._write(cfg, state)
                    self._applied[cfg.name] = state
                if state == self._wanted:
                    return

    async def _write(self, cfg: ModbusModuleSection, state: OutputState) -> None:
        module = self.modules.get(cfg.name)
        if module is None:
            return
        for label, coil, on in (("siren", cfg.siren_coil, state.siren), ("strobe", cfg.strobe_coil, state.strobe)):
            if coil is None:
                continue
            try:
                await module.set_output(coil, on)
                log.info("Modbus %s: %s %s", cfg.name, label, "on" if on else "off")
            except OutputWriteError as exc:
                # The driver remembers the wish and writes it again when the module answers again.
                log.warning("Modbus %s: %s %s not confirmed yet: %s", cfg.name, label, "on" if on else "off", exc)


def _has_outputs(cfg: ModbusModuleSection) -> bool:
    return cfg.siren_coil is not None or cfg.strobe_coil is not None
