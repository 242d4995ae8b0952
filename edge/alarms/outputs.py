"""Modbus I/O modules of the alarms component: panic buttons in, siren and strobe relays out.

:class:`SirenPolicy` (sans-IO) decides whether sirens and strobes should be on, from the incidents and
the crew's manual switch, and names the pattern an "on" relay is driven with (``[alarms.siren]``
``siren_pattern``: steady or bursts; ``strobe_pattern``: steady or pulse). :class:`ModbusBank` runs one
:class:`~drivers.modbus.module.ModbusIoModule` per configured module, hands their input and link events
to the component, and drives the siren and strobe coils when the wanted state changes: steady (a
coil write; a module that is down gets it written again by the driver when it returns) or a pulse
pattern run by the driver (:data:`~drivers.modbus.logic.SIREN_BURSTS`, :data:`~drivers.modbus.logic.STROBE`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from drivers.modbus.module import (
    SIREN_BURSTS,
    STROBE,
    LatchClear,
    LatchConfig,
    LatchTable,
    ModbusIoEvent,
    ModbusIoModule,
    OutputWriteError,
    PulsePattern,
)
from edge.alarms.incidents import IncidentBook
from edge.config.alarms import ModbusModuleSection, SirenMode, SirenSection

__all__ = ["ModbusBank", "OutputState", "SirenPolicy"]

log = logging.getLogger(__name__)


#: The patterns the policy may name; "steady" is a plain coil write.
PATTERNS: dict[str, PulsePattern] = {"bursts": SIREN_BURSTS, "pulse": STROBE}


@dataclass(frozen=True, slots=True)
class OutputState:
    siren: bool = False
    strobe: bool = False
    siren_pattern: str = "steady"
    strobe_pattern: str = "steady"


class SirenPolicy:
    """``wanted(book)``: the relays' state (alarms only: an officer call never sounds the siren). A manual
    switch holds until the next new alarm or escalation."""

    def __init__(self, config: SirenSection) -> None:
        self.config = config
        self.manual: bool | None = None  # None: follow the policy

    @staticmethod
    def _auto(mode: SirenMode, book: IncidentBook) -> bool:
        if mode == "raised":
            return book.alarm_in("raised")
        if mode == "open":
            return book.alarm_in("raised", "acknowledged", "dispatched", "on_scene")
        return False

    def wanted(self, book: IncidentBook) -> OutputState:
        patterns = {"siren_pattern": self.config.siren_pattern, "strobe_pattern": self.config.strobe_pattern}
        if self.manual is not None:
            return OutputState(siren=self.manual, strobe=self.manual, **patterns)
        return OutputState(
            siren=self._auto(self.config.siren, book), strobe=self._auto(self.config.strobe, book), **patterns
        )

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
        self._retrigger = False
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for cfg in self.configs:
            module = ModbusIoModule(
                port=cfg.port,
                unit=cfg.unit,
                baudrate=cfg.baudrate,
                poll_interval=cfg.poll_interval_s,
                timeout=cfg.timeout_s,
                input_count=cfg.input_count,
                coil_count=cfg.coil_count,
                latch=_latch(cfg),
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

    def want(self, state: OutputState, *, retrigger: bool = False) -> None:
        """Ask for this relay state; the writes run in the background (the latest wish wins).
        ``retrigger`` (a new alarm or escalation) starts again a pattern that has run its course."""
        self._wanted = state
        self._retrigger = self._retrigger or retrigger
        pending = self._retrigger or any(
            self._applied.get(cfg.name) != state for cfg in self.configs if _has_outputs(cfg)
        )
        if pending and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._apply(), name="alarm-outputs")

    async def _apply(self) -> None:
        async with self._lock:
            while True:
                state, retrigger, self._retrigger = self._wanted, self._retrigger, False
                for cfg in self.configs:
                    previous = self._applied.get(cfg.name)
                    if not _has_outputs(cfg) or (previous == state and not retrigger):
                        continue
                    await self._write(cfg, state, previous)
                    self._applied[cfg.name] = state
                if state == self._wanted and not self._retrigger:
                    return

    async def _write(self, cfg: ModbusModuleSection, state: OutputState, previous: OutputState | None) -> None:
        module = self.modules.get(cfg.name)
        if module is None:
            return
        for label, coil, on, pattern in (
            ("siren", cfg.siren_coil, state.siren, state.siren_pattern),
            ("strobe", cfg.strobe_coil, state.strobe, state.strobe_pattern),
        ):
            if coil is None:
                continue
            if on and pattern in PATTERNS:
                was = None if previous is None else (getattr(previous, label), getattr(previous, f"{label}_pattern"))
                if was == (on, pattern) and module.pattern_running(coil):
                    continue  # running as wished: not restarted
                module.start_pattern(coil, PATTERNS[pattern])  # replaces a steady wish or another pattern
                log.info("Modbus %s: %s on (%s)", cfg.name, label, pattern)
                continue
            try:
                await module.set_output(coil, on)  # also stops a pattern running on the coil
                log.info("Modbus %s: %s %s", cfg.name, label, "on" if on else "off")
            except OutputWriteError as exc:
                # The driver remembers the wish and writes it again when the module answers again.
                log.warning("Modbus %s: %s %s not confirmed yet: %s", cfg.name, label, "on" if on else "off", exc)


def _latch(cfg: ModbusModuleSection) -> LatchConfig | None:
    if cfg.latch_address is None:
        return None
    return LatchConfig(
        address=cfg.latch_address,
        table=LatchTable(cfg.latch_table),
        clear=LatchClear(cfg.latch_clear),
        clear_coil=cfg.latch_clear_coil,
    )


def _has_outputs(cfg: ModbusModuleSection) -> bool:
    return cfg.siren_coil is not None or cfg.strobe_coil is not None
