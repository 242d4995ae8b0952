"""Sans-IO logic for Modbus RTU digital I/O modules (panic buttons in, sirens and strobes out).

Nothing here does I/O or reads a clock: every method takes the values read from the module and the
current time as arguments and returns typed events. The asyncio driver in ``drivers.modbus.module`` is a
thin loop around these classes.

Modbus RTU in one paragraph
---------------------------
A master sends ``unit | function | data | CRC`` and one slave answers. The CRC is CRC-16/MODBUS
(init 0xFFFF, reflected polynomial 0xA001) sent low byte first: ``01 02 00 00 00 08 79 CC`` reads 8
discrete inputs of unit 1 from address 0, ``01 05 00 00 FF 00 8C 3A`` switches coil 0 of unit 1 on.
Typical 8-in/8-out RS-485 modules default to 9600 8N1. Inputs (buttons) are *discrete inputs*
(function 02); outputs (relays driving sirens and strobes) are *coils* (read 01, write 05/0F).

Polling and latches
-------------------
Modbus has no unsolicited messages: the master must poll. A button pressed and released between two
polls is invisible in the live input level. Two answers:

* **Latching modules** keep a latch bit per input that is set on the press edge and stays set until
  the master clears it (:class:`LatchConfig`). The driver reads the latch bits, then the live levels,
  and clears the latch bits it has consumed. A latch bit is a confirmed press even if the level is
  already released again (a *tap*), so no press is missed however short it is.
* **Non-latching modules**: the poll interval must be shorter than the shortest press (minus one
  transaction time). At the default 50 ms poll a deliberate human press (100 ms and more) is seen.

The order latch-then-level matters. A press that lands between the two reads shows up in the level
first; the latch bit read at the next poll belongs to the same press and is absorbed
(``_expect_latch``), so it is not reported twice.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# --------------------------------------------------------------------------- CRC


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS of ``data`` (init 0xFFFF, reflected poly 0xA001); send it low byte first."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def with_crc(frame: bytes) -> bytes:
    """``frame`` followed by its CRC-16/MODBUS, low byte first (a complete RTU frame)."""
    return frame + crc16_modbus(frame).to_bytes(2, "little")


def crc_ok(frame: bytes) -> bool:
    """True if the last two bytes of ``frame`` are the CRC of the bytes before them."""
    return len(frame) >= 4 and crc16_modbus(frame[:-2]).to_bytes(2, "little") == frame[-2:]


# --------------------------------------------------------------------------- reply framing

_COUNTED_REPLIES = frozenset({0x01, 0x02, 0x03, 0x04})  # unit, fc, byte count, data..., CRC
_ECHO_REPLIES = frozenset({0x05, 0x06, 0x0F, 0x10})  # unit, fc, 4 bytes, CRC


def rtu_reply_size(data: bytes) -> int | None:
    """Length of the RTU reply that starts ``data`` (None: unknown function or too short to tell)."""
    if len(data) < 2:
        return None
    function = data[1]
    if function & 0x80:
        return 5  # unit, fc | 0x80, exception code, CRC
    if function in _ECHO_REPLIES:
        return 8
    if function in _COUNTED_REPLIES and len(data) >= 3:
        return 5 + data[2]
    return None


def find_reply(buffer: bytes, *, unit: int) -> bytes | None:
    """The first complete, CRC-valid reply from ``unit`` in ``buffer``, skipping anything before
    it (line noise at bus turn-around, a stray partial frame); None while no such frame is complete.

    A reply split over several reads is found once the buffer holds all of it; call again with the
    grown buffer.
    """
    for start in range(len(buffer) - 3):
        if buffer[start] != unit:
            continue
        size = rtu_reply_size(buffer[start:])
        if size is None or start + size > len(buffer):
            continue
        frame = buffer[start : start + size]
        if crc_ok(frame):
            return frame
    return None


# --------------------------------------------------------------------------- errors


class ModbusIoError(Exception):
    """Base class of every error raised by the Modbus I/O driver."""


class ModbusIoConfigError(ModbusIoError, ValueError):
    """A setting is out of range or inconsistent; the message names the setting and the value."""


class OutputWriteError(ModbusIoError):
    """A coil write was not confirmed by the module (timeout, CRC error, exception reply, no link)."""


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class InputChanged:
    """An input changed state. ``pressed`` already accounts for normally-closed wiring.

    ``at`` is the clock reading of the poll that first saw the change. ``latched`` is True when the
    change was learnt from the module's latch bit (a press, or a tap shorter than the poll interval).
    """

    unit: int
    index: int
    pressed: bool
    at: float
    latched: bool = False


@dataclass(frozen=True, slots=True)
class LinkLost:
    """``failures`` consecutive polls failed; ``reason`` describes the last one. Reported once."""

    unit: int
    at: float
    reason: str
    failures: int


@dataclass(frozen=True, slots=True)
class LinkRestored:
    """The first good poll after :class:`LinkLost`; ``down_for`` is seconds since the loss."""

    unit: int
    at: float
    down_for: float


ModbusIoEvent = InputChanged | LinkLost | LinkRestored


# --------------------------------------------------------------------------- latch configuration


class LatchTable(enum.Enum):
    """Where the module exposes its latch bits."""

    COILS = "coils"  # function 01
    DISCRETE_INPUTS = "discrete_inputs"  # function 02


class LatchClear(enum.Enum):
    """How latch bits are cleared once the driver has read them."""

    #: Write OFF (function 05) to each latch coil that was read set. Clears only what was consumed,
    #: so a press on another input landing between read and clear is kept. Needs ``table=COILS``.
    WRITE_BACK = "write_back"
    #: Write ON (function 05) to one "clear all latches" coil. A press on another input that lands
    #: between the read and the clear is lost: prefer WRITE_BACK when the module supports it.
    CLEAR_COIL = "clear_coil"
    #: The module clears its latch bits itself when they are read. A press whose latch-read reply is
    #: lost on the line is lost (the module forgot it when it answered): prefer WRITE_BACK.
    ON_READ = "on_read"


@dataclass(frozen=True, kw_only=True, slots=True)
class LatchConfig:
    """Latch bits of a latching module: one bit per input, from ``address`` in ``table``."""

    address: int
    table: LatchTable = LatchTable.COILS
    clear: LatchClear = LatchClear.WRITE_BACK
    clear_coil: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.address <= 0xFFFF:
            raise ModbusIoConfigError(f"latch.address: {self.address} is not in 0..65535")
        if self.clear is LatchClear.WRITE_BACK and self.table is not LatchTable.COILS:
            raise ModbusIoConfigError("latch.clear: write_back needs latch.table = coils")
        if self.clear is LatchClear.CLEAR_COIL and self.clear_coil is None:
            raise ModbusIoConfigError("latch.clear_coil: required when latch.clear = clear_coil")
        if self.clear_coil is not None and not 0 <= self.clear_coil <= 0xFFFF:
            raise ModbusIoConfigError(f"latch.clear_coil: {self.clear_coil} is not in 0..65535")


# --------------------------------------------------------------------------- input tracking


_CLOCK_SLACK = 1e-6  # seconds: float time stamps must not make a held level miss its debounce


@dataclass(slots=True)
class _Candidate:
    level: bool
    since: float


@dataclass(slots=True)
class _Input:
    pressed: bool = False
    candidate: _Candidate | None = None
    expect_latch: bool = False


@dataclass(slots=True)
class InputTracker:
    """Turns successive input snapshots into :class:`InputChanged` edges.

    Call :meth:`update` after every good poll with the live levels (and the latch bits, for a
    latching module). A level change is reported once it has been seen for ``debounce`` seconds
    (0: on the first poll that sees it). A latch bit is the module's own confirmed edge and is
    reported at once. Inputs start released, so an input already pressed at start-up (or when the
    link returns) is reported as a press.

    Latch bits that were consumed are listed by :meth:`latches_to_clear` until the driver confirms
    the clear with :meth:`latches_cleared`; while a clear is unconfirmed the bit is not read again as
    a new press (which would duplicate the press when a clear write fails).
    """

    unit: int
    count: int
    debounce: float = 0.0
    normally_closed: frozenset[int] = frozenset()
    _inputs: list[_Input] = field(init=False)
    _pending_clear: set[int] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        if not 1 <= self.count <= 2000:
            raise ModbusIoConfigError(f"input_count: {self.count} is not in 1..2000")
        if self.debounce < 0:
            raise ModbusIoConfigError(f"debounce: {self.debounce} is negative")
        bad = [i for i in self.normally_closed if not 0 <= i < self.count]
        if bad:
            raise ModbusIoConfigError(f"normally_closed: {sorted(bad)} outside 0..{self.count - 1}")
        self._inputs = [_Input() for _ in range(self.count)]

    def pressed(self, index: int) -> bool:
        """The state last reported for input ``index``."""
        return self._inputs[index].pressed

    def latches_to_clear(self) -> tuple[int, ...]:
        """Input indices whose latch bit was consumed and is not yet confirmed cleared."""
        return tuple(sorted(self._pending_clear))

    def latches_cleared(self, indices: Iterable[int]) -> None:
        """The module confirmed that these latch bits are cleared."""
        self._pending_clear.difference_update(indices)

    def update(
        self, *, levels: Sequence[bool], now: float, latched: Sequence[bool] | None = None
    ) -> list[InputChanged]:
        """Feed one good poll; return the edges it reveals, in input order."""
        if len(levels) < self.count:
            raise ModbusIoError(f"expected {self.count} input levels, got {len(levels)}")
        if latched is not None and len(latched) < self.count:
            raise ModbusIoError(f"expected {self.count} latch bits, got {len(latched)}")
        events: list[InputChanged] = []
        for index, state in enumerate(self._inputs):
            level = bool(levels[index]) != (index in self.normally_closed)
            if latched is not None and self._new_latch(index, state, bool(latched[index])):
                self._report_latch(index, state, level, now, events)
                continue
            self._track_level(index, state, level, now, latching=latched is not None, events=events)
        return events

    def _new_latch(self, index: int, state: _Input, bit: bool) -> bool:
        """True if ``bit`` announces a press not reported yet (and marks the bit for clearing)."""
        expected, state.expect_latch = state.expect_latch, False
        if not bit or index in self._pending_clear:
            return False
        self._pending_clear.add(index)
        return not expected

    def _report_latch(self, index: int, state: _Input, level: bool, now: float, events: list[InputChanged]) -> None:
        if state.pressed:  # released and pressed again since the last poll
            events.append(InputChanged(self.unit, index, False, now, latched=True))
        events.append(InputChanged(self.unit, index, True, now, latched=True))
        if not level:  # a tap shorter than the poll interval
            events.append(InputChanged(self.unit, index, False, now, latched=True))
        state.pressed = level
        state.candidate = None

    def _track_level(
        self,
        index: int,
        state: _Input,
        level: bool,
        now: float,
        *,
        latching: bool,
        events: list[InputChanged],
    ) -> None:
        if level == state.pressed:
            state.candidate = None
            return
        if state.candidate is None or state.candidate.level != level:
            state.candidate = _Candidate(level, now)
        if now - state.candidate.since + _CLOCK_SLACK < self.debounce:
            return
        events.append(InputChanged(self.unit, index, level, state.candidate.since))
        state.pressed = level
        state.candidate = None
        # The press landed after this poll read the latch bits: the next latch bit is this press.
        state.expect_latch = latching and level


# --------------------------------------------------------------------------- link health


@dataclass(slots=True)
class LinkMonitor:
    """Link state machine: ``failure_threshold`` consecutive failed polls make one :class:`LinkLost`;
    the first good poll after it makes one :class:`LinkRestored`. A module that never answered since
    start-up is reported lost too (there is nothing to restore until it is)."""

    unit: int
    failure_threshold: int = 3
    consecutive_failures: int = field(init=False, default=0)
    lost_at: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ModbusIoConfigError(f"failure_threshold: {self.failure_threshold} is below 1")

    @property
    def available(self) -> bool:
        """False between :class:`LinkLost` and :class:`LinkRestored`."""
        return self.lost_at is None

    def record_success(self, now: float) -> LinkRestored | None:
        self.consecutive_failures = 0
        if self.lost_at is None:
            return None
        restored = LinkRestored(self.unit, now, max(0.0, now - self.lost_at))
        self.lost_at = None
        return restored

    def record_failure(self, now: float, reason: str) -> LinkLost | None:
        self.consecutive_failures += 1
        if self.lost_at is not None or self.consecutive_failures < self.failure_threshold:
            return None
        self.lost_at = now
        return LinkLost(self.unit, now, reason, self.consecutive_failures)


# --------------------------------------------------------------------------- output patterns


@dataclass(frozen=True, kw_only=True, slots=True)
class PulsePattern:
    """A coil switched on for ``on`` seconds then off for ``off`` seconds, ``cycles`` times
    (None: until stopped). The coil is left off when the pattern ends or is stopped."""

    on: float
    off: float
    cycles: int | None = None

    def __post_init__(self) -> None:
        if self.on <= 0 or self.off <= 0:
            raise ModbusIoConfigError(f"pulse pattern: on={self.on} and off={self.off} must be > 0")
        if self.cycles is not None and self.cycles < 1:
            raise ModbusIoConfigError(f"pulse pattern: cycles={self.cycles} must be >= 1")

    @property
    def period(self) -> float:
        return self.on + self.off

    def finished(self, elapsed: float) -> bool:
        return self.cycles is not None and elapsed >= self.cycles * self.period

    def state_at(self, elapsed: float) -> bool:
        """Coil state ``elapsed`` seconds after the pattern started."""
        if elapsed < 0 or self.finished(elapsed):
            return False
        return elapsed % self.period < self.on

    def next_change(self, elapsed: float) -> float | None:
        """Elapsed time of the next state change after ``elapsed`` (None: the pattern is over)."""
        if self.finished(elapsed):
            return None
        start = elapsed - elapsed % self.period
        edge = start + self.on if elapsed < start + self.on else start + self.period
        if self.cycles is not None:
            edge = min(edge, self.cycles * self.period)
        return edge


#: A strobe: a short flash every second. A siren burst: 2 s on, 1 s off, ten times.
STROBE = PulsePattern(on=0.1, off=0.9)
SIREN_BURSTS = PulsePattern(on=2.0, off=1.0, cycles=10)
