"""Asyncio driver for Modbus RTU digital I/O modules: panic buttons in, sirens and strobes out.

One :class:`ModbusIoModule` owns one serial line to one module (unit). It polls the discrete inputs
every ``poll_interval`` (default 50 ms) and reports :class:`InputChanged` edges, switches coils for
sirens and strobes (:meth:`ModbusIoModule.set_output`, :meth:`ModbusIoModule.start_pattern`) and
watches the link: ``failure_threshold`` failed polls in a row give one :class:`LinkLost`, the first
good poll after it one :class:`LinkRestored`. A timeout, a CRC error, a garbled or mismatched reply,
a device exception reply or a vanished port is a failed poll, never a crash. Unavailability is
logged once when it starts and once when it ends.

The port is anything pyserial opens: ``/dev/ttyUSB0``, a pty path, or ``socket://127.0.0.1:PORT``
(RTU frames over TCP, as the simulator in :mod:`drivers.modbus.sim` serves them).

Latency budget: a press is reported at most one poll interval plus one or two transactions after it
starts (at 9600 baud, reading 8 inputs is 14 bytes on the wire, about 15 ms plus the module's
turn-around). "Modbus: add one poll interval" (50 ms by default) plus ~20-40 ms. A latching module
(see :class:`LatchConfig`) reports every press at least once however short, and whatever replies are
late or lost, with the limits of its clear mode (docs/alarms.md): late replies are heard out by
:class:`~drivers.modbus.link.RtuLink`, latch bits read in a poll that fails later are kept for the next
good one, and a clear of unknown outcome re-arms the bit. With a non-latching module the poll interval
must be shorter than the shortest press.

Edges, debounce, latch bookkeeping and the link state machine are sans-IO classes in
:mod:`drivers.modbus.logic`; requests and replies go through :mod:`drivers.modbus.link` (pymodbus).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from types import TracebackType

from drivers.modbus.link import READ_COILS, READ_DISCRETE_INPUTS, LinkFailed, RtuLink, UnconfirmedWriteError
from drivers.modbus.logic import (
    SIREN_BURSTS,
    STROBE,
    InputChanged,
    InputTracker,
    LatchClear,
    LatchConfig,
    LatchTable,
    LinkLost,
    LinkMonitor,
    LinkRestored,
    ModbusIoConfigError,
    ModbusIoError,
    ModbusIoEvent,
    OutputWriteError,
    PulsePattern,
    crc16_modbus,
    crc_ok,
    find_reply,
    with_crc,
)

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "SIREN_BURSTS",
    "STROBE",
    "InputChanged",
    "InputTracker",
    "LatchClear",
    "LatchConfig",
    "LatchTable",
    "LinkLost",
    "LinkMonitor",
    "LinkRestored",
    "ModbusIoConfigError",
    "ModbusIoError",
    "ModbusIoEvent",
    "ModbusIoModule",
    "OutputWriteError",
    "PulsePattern",
    "UnconfirmedWriteError",
    "crc16_modbus",
    "crc_ok",
    "find_reply",
    "with_crc",
]

logger = logging.getLogger(__name__)

#: Default poll period in seconds: the latency a Modbus button adds to the alarm path.
DEFAULT_POLL_INTERVAL = 0.05


class ModbusIoModule:
    """One Modbus RTU digital I/O module on one serial line; use ``async with`` or start()/stop().

    ``on_event`` is called from the event loop for every :class:`InputChanged`, :class:`LinkLost`
    and :class:`LinkRestored`; it must not block. Input and output indices count from 0 and map to
    ``input_address + index`` and ``coil_address + index``.
    """

    def __init__(
        self,
        *,
        port: str,
        on_event: Callable[[ModbusIoEvent], object],
        unit: int = 1,
        baudrate: int = 9600,
        bytesize: int = 8,
        parity: str = "N",
        stopbits: int = 1,
        input_address: int = 0,
        input_count: int = 8,
        coil_address: int = 0,
        coil_count: int = 8,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = 0.25,
        debounce: float = 0.0,
        latch: LatchConfig | None = None,
        normally_closed: frozenset[int] = frozenset(),
        failure_threshold: int = 3,
        reconnect_max: float = 5.0,
        late_reply_grace: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 1 <= unit <= 247:
            raise ModbusIoConfigError(f"unit: {unit} is not in 1..247")
        if not 0 < poll_interval <= 60:
            raise ModbusIoConfigError(f"poll_interval: {poll_interval} is not in (0, 60] seconds")
        if not 0 < timeout <= 10:
            raise ModbusIoConfigError(f"timeout: {timeout} is not in (0, 10] seconds")
        grace = timeout if late_reply_grace is None else late_reply_grace
        if not 0 <= grace <= 10:
            raise ModbusIoConfigError(f"late_reply_grace: {grace} is not in [0, 10] seconds")
        if not 0 <= coil_count <= 1968:
            raise ModbusIoConfigError(f"coil_count: {coil_count} is not in 0..1968")
        self.port = port
        self.unit = unit
        self._input_address = input_address
        self._input_count = input_count
        self._coil_address = coil_address
        self._coil_count = coil_count
        self._poll_interval = poll_interval
        self._latch = latch
        self._clock = clock
        self._on_event = on_event
        self._tracker = InputTracker(unit=unit, count=input_count, debounce=debounce, normally_closed=normally_closed)
        self._link = LinkMonitor(unit=unit, failure_threshold=failure_threshold)
        self.link = RtuLink(
            port=port,
            unit=unit,
            line=(baudrate, bytesize, parity, stopbits),
            timeout=timeout,
            late_reply_grace=grace,
            poll_interval=poll_interval,
            reconnect_max=max(reconnect_max, poll_interval),
        )
        self._carried: list[bool] | None = None  # latch bits read in a poll that failed later
        self._poll_task: asyncio.Task[None] | None = None
        self._patterns: dict[int, asyncio.Task[None]] = {}
        self._desired: dict[int, bool] = {}
        self._reassert = False  # a wished coil state is not confirmed written

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> ModbusIoModule:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Open the port (failure is a failed poll, not an error) and start polling."""
        if self._poll_task is not None:
            raise ModbusIoError("ModbusIoModule already started")
        self.link.start()
        self._poll_task = asyncio.create_task(self._poll_forever(), name=f"modbus-io-{self.unit}-poll")

    async def stop(self) -> None:
        """Stop polling and patterns (best effort: patterned outputs are switched off), close the port."""
        tasks = [t for t in (self._poll_task, *self._patterns.values()) if t is not None]
        patterned = list(self._patterns)
        self._poll_task = None
        self._patterns.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for index in patterned:
            with contextlib.suppress(OutputWriteError):
                await self._write_coil(self._coil_address + index, False)
        self.link.close()

    # ------------------------------------------------------------------ state

    @property
    def available(self) -> bool:
        """False while the link is reported lost."""
        return self._link.available

    @property
    def consecutive_failures(self) -> int:
        """Failed polls since the last good one."""
        return self._link.consecutive_failures

    def pressed(self, index: int) -> bool:
        """The last reported state of input ``index``."""
        return self._tracker.pressed(index)

    # ------------------------------------------------------------------ outputs

    async def set_output(self, index: int, on: bool) -> None:
        """Switch coil ``index`` (stops a pattern running on it). The wish is remembered and written
        again when the link returns; :class:`OutputWriteError` says this write was not confirmed."""
        self._check_output(index)
        await self._cancel_pattern(index)
        self._desired[index] = on
        try:
            await self._write_coil(self._coil_address + index, on)
        except OutputWriteError:
            self._reassert = True  # written again after the next good poll
            raise

    def start_pattern(self, index: int, pattern: PulsePattern) -> None:
        """Run ``pattern`` on coil ``index`` in the background (replacing any running pattern)."""
        self._check_output(index)
        old = self._patterns.pop(index, None)
        if old is not None:
            old.cancel()
        self._desired.pop(index, None)
        self._patterns[index] = asyncio.create_task(
            self._run_pattern(index, pattern), name=f"modbus-io-{self.unit}-pattern-{index}"
        )

    async def stop_pattern(self, index: int) -> None:
        """Stop the pattern on coil ``index`` and switch the coil off."""
        await self.set_output(index, False)

    def pattern_running(self, index: int) -> bool:
        task = self._patterns.get(index)
        return task is not None and not task.done()

    def _check_output(self, index: int) -> None:
        if not 0 <= index < self._coil_count:
            raise ModbusIoConfigError(f"output index: {index} is not in 0..{self._coil_count - 1}")

    async def _cancel_pattern(self, index: int) -> None:
        task = self._patterns.pop(index, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run_pattern(self, index: int, pattern: PulsePattern) -> None:
        start = self._clock()
        current: bool | None = None
        warned = False
        while self._patterns.get(index) is asyncio.current_task():  # see _poll_forever
            elapsed = self._clock() - start
            wanted = pattern.state_at(elapsed)
            if wanted != current:
                try:
                    await self._write_coil(self._coil_address + index, wanted)
                    current = wanted
                except OutputWriteError as exc:
                    current = None  # unknown: written again at the next step
                    if not warned:
                        logger.warning("Modbus unit %d output %d pattern write failed: %s", self.unit, index, exc)
                        warned = True
            following = pattern.next_change(elapsed)
            if following is None:
                break
            await asyncio.sleep(max(0.0, following - (self._clock() - start)))
        if self._patterns.get(index) is asyncio.current_task():
            del self._patterns[index]

    async def _write_coil(self, address: int, on: bool) -> None:
        await self.link.write_coil(address, on)

    # ------------------------------------------------------------------ polling

    async def _poll_forever(self) -> None:
        next_at = self._clock()
        # Not ``while True``: under Python 3.11, asyncio.wait_for (inside pymodbus) can swallow a
        # cancellation whose reply arrives in the same loop step, and stop() would wait forever.
        while self._poll_task is asyncio.current_task():
            try:
                await self.poll_once()
            except Exception:  # a bug must not silence the buttons: log it, count a failed poll
                if self._link.available:
                    logger.exception("Modbus unit %d: unexpected error while polling", self.unit)
                self._emit(self._record_failure(self._clock(), "unexpected error while polling"))
            next_at += self._poll_interval
            now = self._clock()
            next_at = max(next_at, now)  # a slow poll skips ticks instead of bursting to catch up
            await asyncio.sleep(next_at - now)

    async def poll_once(self) -> list[ModbusIoEvent]:
        """Run one poll (latch bits, then levels, then latch clears); emit and return its events."""
        now = self._clock()
        events: list[ModbusIoEvent] = []
        try:
            await self.link.ensure_connected(now)
            latched = await self._read_latches()
            levels = await self._read_bits(READ_DISCRETE_INPUTS, self._input_address, self._input_count)
        except LinkFailed as failure:
            events = self._record_failure(now, failure.reason)
            self._emit(events)
            return events
        restored = self._link.record_success(now)
        if restored is not None:
            logger.info("Modbus unit %d on %s available again after %.1f s", self.unit, self.port, restored.down_for)
            events.append(restored)
        events.extend(self._tracker.update(levels=levels, now=now, latched=latched))
        self._carried = None
        self._emit(events)
        await self._clear_latches()
        if restored is not None or self._reassert:
            await self._reassert_outputs()
        return events

    def _record_failure(self, now: float, reason: str) -> list[ModbusIoEvent]:
        lost = self._link.record_failure(now, reason)
        if lost is None:
            return []
        logger.warning(
            "Modbus unit %d on %s unavailable after %d failed polls: %s",
            self.unit,
            self.port,
            lost.failures,
            lost.reason,
        )
        return [lost]

    def _emit(self, events: list[ModbusIoEvent]) -> None:
        for event in events:
            try:
                self._on_event(event)
            except Exception:
                logger.exception("Modbus unit %d: event handler failed", self.unit)

    async def _read_latches(self) -> list[bool] | None:
        """The latch bits, merged with bits read in an earlier poll that failed after reading them (a
        clear-on-read module has forgotten those: they exist only here until a good poll reports them)."""
        latch = self._latch
        if latch is None:
            return None
        function = READ_COILS if latch.table is LatchTable.COILS else READ_DISCRETE_INPUTS
        bits = await self._read_bits(function, latch.address, self._input_count)
        if self._carried is not None:
            bits = [a or b for a, b in zip(bits, self._carried, strict=True)]
        self._carried = bits
        return bits

    async def _read_bits(self, function: int, address: int, count: int) -> list[bool]:
        return await self.link.read_bits(function, address, count)

    async def _clear_latches(self) -> None:
        """Clear the consumed latch bits. A clear the module refused is retried at the next poll (the
        bit is not a new press meanwhile); a clear of unknown outcome (sent, never answered) counts as
        done: a bit read set after it may be a new press and is reported, at the risk of reporting
        the same press twice, never of losing one."""
        latch = self._latch
        pending = self._tracker.latches_to_clear()
        if latch is None or not pending:
            return
        if latch.clear is LatchClear.ON_READ:
            self._tracker.latches_cleared(pending)
            return
        if latch.clear is LatchClear.CLEAR_COIL and latch.clear_coil is not None:
            writes = [(latch.clear_coil, True, pending)]
        else:
            writes = [(latch.address + index, False, (index,)) for index in pending]
        for address, on, indices in writes:
            try:
                await self._write_coil(address, on)
            except UnconfirmedWriteError as exc:
                logger.debug("Modbus unit %d: latch clear not confirmed: %s", self.unit, exc)
            except OutputWriteError as exc:
                logger.debug("Modbus unit %d: latch clear failed, retried next poll: %s", self.unit, exc)
                return
            self._tracker.latches_cleared(indices)

    async def _reassert_outputs(self) -> None:
        """Write the wanted coil states again: the module may have lost power with the link, or a write
        failed (e.g. one made before the port was first open)."""
        self._reassert = False
        for index, on in sorted(self._desired.items()):
            try:
                await self._write_coil(self._coil_address + index, on)
            except OutputWriteError as exc:
                self._reassert = True
                logger.debug("Modbus unit %d: output %d not restored: %s", self.unit, index, exc)
