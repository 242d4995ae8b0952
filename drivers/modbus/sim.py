"""Simulator of an 8-in/8-out Modbus RTU I/O module, served by pymodbus's own RTU server.

It stands in for the panic-button module in tests, demos and ``police-kiosk sim modbus``. The
server is pymodbus's :class:`~pymodbus.server.ModbusSerialServer` with the RTU framer, on

* a serial device or pty path (``/dev/pts/7``),
* ``socket://HOST:PORT``: pymodbus then listens on TCP and speaks RTU frames (CRC included), which
  a pyserial client reaches with the same ``socket://`` URL (port 0 picks a free port; see
  :attr:`ModbusIoSimulator.client_port`),
* ``pty``: a :class:`PtyNullModem` (two pseudo-terminals joined back to back, like
  ``socat pty,raw pty,raw``); the server sits on one end and :attr:`ModbusIoSimulator.client_port`
  names the other end for the driver.

Register map (addresses count from 0, all configurable):

===================  =====================  ===============================================
table                addresses              meaning
===================  =====================  ===============================================
discrete inputs      0..7                   live button levels (True = pressed)
coils                0..7                   relay outputs (sirens, strobes)
coils                16..23 (``SIM_LATCH``)  latch bits, set on a press edge; write OFF to clear
coil                 32 (clear-all)          write ON clears every latch bit (``CLEAR_COIL`` mode)
===================  =====================  ===============================================

The datastore is the simulator's own state; pymodbus's ``SimDevice.action`` hook copies it into
the server's registers on every read and applies every coil write to it. With ``clear = on_read`` a
read that starts in the latch block clears the latch bits (a read of the live levels does not, even
when both share a 16-bit word).

Faults on the wire, for tests: :meth:`ModbusIoSimulator.delay_replies` answers the next requests of
a function late (the module has acted, a clear-on-read latch is cleared, the reply comes after the
delay), :meth:`ModbusIoSimulator.drop_replies` acts and never answers (a reply lost on the line).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.modbus.logic import LatchClear, LatchConfig, LatchTable, ModbusIoError
from drivers.modbus.pty import PtyNullModem

__all__ = ["SIM_CLEAR_COIL", "SIM_LATCH", "ModbusIoSimulator", "PtyNullModem", "run_simulator"]

logger = logging.getLogger(__name__)

#: The simulator's default latch layout; give the same value to ``ModbusIoModule(latch=...)``.
SIM_LATCH = LatchConfig(address=16)
#: The coil that clears every latch bit when written ON.
SIM_CLEAR_COIL = 32
_READ_COILS = 1
_READ_DISCRETE_INPUTS = 2


class ModbusIoSimulator:
    """A simulated I/O module: ``press``/``release``/``tap`` its inputs, read its ``coil``s.

    ``latch=None`` simulates a non-latching module (a tap between two polls is then invisible).
    """

    def __init__(
        self,
        *,
        port: str,
        unit: int = 1,
        inputs: int = 8,
        coils: int = 8,
        input_address: int = 0,
        coil_address: int = 0,
        latch: LatchConfig | None = SIM_LATCH,
        clear_coil: int = SIM_CLEAR_COIL,
        baudrate: int = 9600,
    ) -> None:
        self.port = port
        self.unit = unit
        self.latch = latch
        self._input_address = input_address
        self._coil_address = coil_address
        self._clear_coil = latch.clear_coil if latch and latch.clear_coil is not None else clear_coil
        self._baudrate = baudrate
        self._levels = [False] * inputs
        self._latched = [False] * inputs
        self._coils = [False] * coils
        #: Every coil write that reached an output, in order: (index, on).
        self.coil_writes: list[tuple[int, bool]] = []
        #: Number of reads of the live input levels answered (one per driver poll).
        self.polls_served = 0
        self._faults: list[_Fault] = []
        self._drop_reply = False
        self._server: ModbusSerialServer | None = None
        self._null_modem: PtyNullModem | None = None
        self._resolved_port = port

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> ModbusIoSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def client_port(self) -> str | None:
        """What the driver should open: the other pty end, or the socket:// URL with its real port
        (None for a real serial device: the driver is at the other end of the cable)."""
        if self._null_modem is not None:
            return self._null_modem.device_b
        return self._resolved_port if self._resolved_port.startswith("socket://") else None

    async def start(self) -> None:
        """Serve (again, after :meth:`stop`, on the same port and with the same state)."""
        if self._server is not None:
            return
        serve_on = self._resolved_port
        if self.port == "pty":
            if self._null_modem is None:
                self._null_modem = PtyNullModem()
                self._null_modem.start()
            serve_on = self._null_modem.device_a
        server = ModbusSerialServer(
            self._device(),
            framer=FramerType.RTU,
            port=serve_on,
            baudrate=self._baudrate,
            trace_packet=self._trace_packet,
        )
        try:
            await server.serve_forever(background=True)
        except RuntimeError as exc:
            raise ModbusIoError(f"simulator cannot serve on {serve_on}: {exc}") from exc
        self._server = server
        sockets = getattr(server.transport, "sockets", None)
        if serve_on.startswith("socket://") and sockets:
            host = serve_on.removeprefix("socket://").rsplit(":", 1)[0]
            self._resolved_port = f"socket://{host}:{sockets[0].getsockname()[1]}"
        logger.info("Modbus simulator unit %d serving on %s", self.unit, self._resolved_port)

    async def stop(self, *, keep_cable: bool = True) -> None:
        """Stop answering (the module is "unplugged"); ``keep_cable=False`` also removes the pty pair."""
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()  # type: ignore[no-untyped-call]  # untyped in pymodbus 3.16.1
            await asyncio.sleep(0)  # let the closed connections' callbacks run
        if not keep_cable and self._null_modem is not None:
            self._null_modem.close()
            self._null_modem = None

    async def close(self) -> None:
        """Stop and remove the pty pair, if any."""
        await self.stop(keep_cable=False)

    # ------------------------------------------------------------------ the buttons and relays

    def press(self, index: int) -> None:
        if not self._levels[index] and self.latch is not None:
            self._latched[index] = True
        self._levels[index] = True

    def release(self, index: int) -> None:
        self._levels[index] = False

    def tap(self, index: int) -> None:
        """Press and release before any poll can see the level (only a latch remembers it)."""
        self.press(index)
        self.release(index)

    def level(self, index: int) -> bool:
        return self._levels[index]

    def latched(self, index: int) -> bool:
        return self._latched[index]

    def coil(self, index: int) -> bool:
        return self._coils[index]

    def delay_replies(self, function: int, seconds: float, *, address: int | None = None, count: int = 1) -> None:
        """Answer the next ``count`` requests of ``function`` (at ``address``, None: any) ``seconds``
        late, after acting on them (a clear-on-read latch is cleared when the request arrives)."""
        self._faults.extend(_Fault(function, address, seconds) for _ in range(count))

    def drop_replies(self, function: int, *, address: int | None = None, count: int = 1) -> None:
        """Act on the next ``count`` requests of ``function`` (at ``address``) but lose their replies."""
        self._faults.extend(_Fault(function, address, None) for _ in range(count))

    def faults_pending(self) -> int:
        """Delays and drops not yet applied."""
        return len(self._faults)

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        """pymodbus hook on every packet: the reply to a request whose reply is dropped becomes nothing."""
        if sending and self._drop_reply:
            self._drop_reply = False
            return b""
        return data

    async def _apply_fault(self, function_code: int, address: int) -> None:
        for fault in self._faults:
            if fault.function == function_code and fault.address in (None, address):
                self._faults.remove(fault)
                if fault.delay is None:
                    self._drop_reply = True
                else:
                    await asyncio.sleep(fault.delay)
                return

    def command(self, line: str) -> str:
        """A one-line console command (``press N``, ``release N``, ``tap N``, ``status``, ``help``)."""
        words = line.split()
        actions: dict[str, Callable[[int], None]] = {"press": self.press, "release": self.release, "tap": self.tap}
        if len(words) == 2 and words[0] in actions and words[1].isdigit():
            index = int(words[1])
            if not 0 <= index < len(self._levels):
                return f"error: input {index} is not in 0..{len(self._levels) - 1}"
            actions[words[0]](index)
            return f"ok: {words[0]} {index}"
        if words == ["status"]:
            return f"inputs {_bits(self._levels)} latched {_bits(self._latched)} coils {_bits(self._coils)}"
        return "commands: press N | release N | tap N | status"

    # ------------------------------------------------------------------ pymodbus datastore

    def _device(self) -> SimDevice:
        inputs, coils = len(self._levels), len(self._coils)
        coil_end = self._coil_address + coils
        input_end = self._input_address + inputs
        if self.latch is not None and self.latch.table is LatchTable.COILS:
            coil_end = max(coil_end, self.latch.address + inputs, self._clear_coil + 1)
        elif self.latch is not None:
            input_end = max(input_end, self.latch.address + inputs)
        return SimDevice(
            id=self.unit,
            simdata=(
                [SimData(0, values=[False] * max(coil_end, 1), datatype=DataType.BITS)],
                [SimData(0, values=[False] * input_end, datatype=DataType.BITS)],
                [SimData(0, values=0, datatype=DataType.REGISTERS)],
                [SimData(0, values=0, datatype=DataType.REGISTERS)],
            ),
            action=self._action,
        )

    async def _action(  # noqa: PLR0917 - the signature is pymodbus's SimAction
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """pymodbus hook, called before every access. ``start_address`` and ``count`` are in
        16-bit registers, ``address`` in bits (bit addressing of separate blocks)."""
        if set_values is not None:
            for offset, value in enumerate(set_values):
                self._write_coil(address + offset, bool(value))
            await self._apply_fault(function_code, address)
            return None
        if function_code not in (_READ_COILS, _READ_DISCRETE_INPUTS):
            return None  # the read-back of a coil write echoes what was written
        if function_code == _READ_DISCRETE_INPUTS and address == self._input_address:
            self.polls_served += 1
        size = (start_address + len(registers)) * 16
        image = self._coil_image(size) if function_code == _READ_COILS else self._input_image(size)
        for reg in range(len(registers) - 1):  # pymodbus keeps one padding register at the end
            bits = image[(start_address + reg) * 16 : (start_address + reg + 1) * 16]
            registers[reg] = sum(1 << bit for bit, on in enumerate(bits) if on)
        if self._latch_read_clears(function_code, address):
            self._latched = [False] * len(self._latched)
        await self._apply_fault(function_code, address)
        return None

    def _latch_read_clears(self, function_code: int, address: int) -> bool:
        """A read that starts in the latch block clears it (``address`` counts bits)."""
        latch = self.latch
        if latch is None or latch.clear is not LatchClear.ON_READ:
            return False
        table = _READ_COILS if latch.table is LatchTable.COILS else _READ_DISCRETE_INPUTS
        return function_code == table and latch.address <= address < latch.address + len(self._latched)

    def _coil_image(self, size: int) -> list[bool]:
        image = [False] * size
        _place(image, self._coil_address, self._coils)
        if self.latch is not None and self.latch.table is LatchTable.COILS:
            _place(image, self.latch.address, self._latched)
        return image

    def _input_image(self, size: int) -> list[bool]:
        image = [False] * size
        _place(image, self._input_address, self._levels)
        if self.latch is not None and self.latch.table is LatchTable.DISCRETE_INPUTS:
            _place(image, self.latch.address, self._latched)
        return image

    def _write_coil(self, address: int, on: bool) -> None:
        index = address - self._coil_address
        if 0 <= index < len(self._coils):
            self._coils[index] = on
            self.coil_writes.append((index, on))
            return
        latch = self.latch
        if latch is None or latch.table is not LatchTable.COILS:
            return
        index = address - latch.address
        if 0 <= index < len(self._latched) and not on:
            self._latched[index] = False
        elif address == self._clear_coil and on:
            self._latched = [False] * len(self._latched)


@dataclass(frozen=True, slots=True)
class _Fault:
    function: int
    address: int | None
    delay: float | None  # None: drop the reply


def _place(image: list[bool], address: int, bits: Sequence[bool]) -> None:
    for offset, bit in enumerate(bits):
        if address + offset < len(image):
            image[address + offset] = bit


def _bits(values: Sequence[bool]) -> str:
    return "".join("1" if v else "0" for v in values)


async def run_simulator(
    *,
    port: str,
    unit: int = 1,
    latching: bool = True,
    baudrate: int = 9600,
    on_ready: Callable[[ModbusIoSimulator], object] | None = None,
) -> None:
    """Serve a simulated module until cancelled.

    ``port``: a serial device path, ``socket://HOST:PORT`` or ``pty`` (a new pty pair; the path for
    the driver is ``sim.client_port``). ``on_ready`` receives the running simulator, e.g. to print
    ``client_port`` and feed console lines to :meth:`ModbusIoSimulator.command`.
    """
    simulator = ModbusIoSimulator(port=port, unit=unit, latch=SIM_LATCH if latching else None, baudrate=baudrate)
    try:
        await simulator.start()
        if on_ready is not None:
            on_ready(simulator)
        await asyncio.Event().wait()
    finally:
        await simulator.close()
