"""One RTU request/reply link to one Modbus unit: the pymodbus client, reconnection and late replies.

:class:`RtuLink` moves requests and replies and nothing else; the polling, latch and output logic
is in :mod:`drivers.modbus.module` and :mod:`drivers.modbus.logic`.

Late replies. RTU has no transaction id: a reply is taken as the answer to the last request sent.
A module that answers after the driver's timeout (a busy module, a loaded host) would otherwise
have its reply taken as the answer to the *next* request, or dropped. For a clear-on-read latch that
drop loses a press: the module cleared its latch when it answered, and a retry reads "not pressed".
So after a timeout the link sends nothing for ``late_reply_grace`` seconds and listens: a reply
that arrives in that time is the reply to the request that timed out (nothing else was sent) and is
used as such. Only when the grace is over without a reply is the request failed; the line is quiet
by then, so the next request starts clean.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

from pymodbus.client import AsyncModbusSerialClient
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerType
from pymodbus.pdu import ModbusPDU

from drivers.modbus.logic import ModbusIoError, OutputWriteError, find_reply

__all__ = ["READ_COILS", "READ_DISCRETE_INPUTS", "WRITE_SINGLE_COIL", "LinkFailed", "RtuLink", "UnconfirmedWriteError"]

READ_COILS = 0x01
READ_DISCRETE_INPUTS = 0x02
WRITE_SINGLE_COIL = 0x05


class LinkFailed(ModbusIoError):
    """One request failed; ``reason`` is short, fixed text (no payload)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnconfirmedWriteError(OutputWriteError):
    """A coil write was sent but no reply came, even late: the module may or may not have done it."""


class RtuLink:
    """The serial line to one unit. ``start()`` creates the client; :meth:`ensure_connected` opens
    it with jittered backoff; :meth:`read_bits` and :meth:`write_coil` run one transaction each."""

    def __init__(
        self,
        *,
        port: str,
        unit: int,
        line: tuple[int, int, str, int],
        timeout: float,
        late_reply_grace: float,
        poll_interval: float,
        reconnect_max: float,
    ) -> None:
        self.port = port
        self.unit = unit
        self._line = line
        self._timeout = timeout
        self._grace = late_reply_grace
        self._poll_interval = poll_interval
        self._reconnect_max = reconnect_max
        self._client: AsyncModbusSerialClient | None = None
        self._next_connect_at = 0.0
        self._connect_backoff = 0.0
        self._heard: list[bytes] = []  # frames received since the last request was sent
        self._heard_event = asyncio.Event()
        #: Replies that arrived after the timeout and were used (diagnostics and tests).
        self.late_replies_used = 0

    def start(self) -> None:
        baudrate, bytesize, parity, stopbits = self._line
        self._client = AsyncModbusSerialClient(
            self.port,
            framer=FramerType.RTU,
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            timeout=self._timeout,
            retries=0,  # the link monitor decides; a retry would only delay the next poll
            reconnect_delay=0,  # reconnection is ours (ensure_connected), with backoff
            name=f"modbus-io-{self.unit}",
            trace_packet=self._trace_packet,
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        """pymodbus ``trace_packet`` hook (documented as allowed to change the stream). Sending: a new
        request, so what was heard before belongs to an older one. Receiving: hand the RTU framer
        only a complete, CRC-valid reply (pymodbus 3.16.1 drops the whole buffer when a byte of noise
        precedes a reply; here noise is skipped and an incomplete reply waits for more), and keep it
        for :meth:`_late_reply`."""
        if sending:
            self._heard.clear()
            return data
        frame = find_reply(data, unit=self.unit)
        if frame is None:
            return b""
        self._heard.append(frame)
        self._heard_event.set()
        return frame

    async def ensure_connected(self, now: float) -> None:
        client = self._client
        if client is None:
            raise LinkFailed("not started")
        if client.connected:
            return
        if now < self._next_connect_at:
            raise LinkFailed("port not open")
        if await client.connect():
            self._connect_backoff = 0.0
            return
        self._connect_backoff = min(self._reconnect_max, max(self._poll_interval, 2 * self._connect_backoff))
        jitter = random.uniform(0.8, 1.2)  # noqa: S311 - spreading retries, not cryptography
        self._next_connect_at = now + self._connect_backoff * jitter
        raise LinkFailed("cannot open port")

    async def read_bits(self, function: int, address: int, count: int) -> list[bool]:
        """Read ``count`` coils (function 01) or discrete inputs (02) from ``address``."""
        client = self._client
        if client is None or not client.connected:
            raise LinkFailed("port closed")
        try:
            if function == READ_COILS:
                reply: ModbusPDU = await client.read_coils(address, count=count, device_id=self.unit)
            else:
                reply = await client.read_discrete_inputs(address, count=count, device_id=self.unit)
        except (ModbusException, OSError, TimeoutError) as exc:
            late = await self._late_reply(function)
            if late is None:
                raise LinkFailed(f"no valid reply to function {function:#04x} ({type(exc).__name__})") from exc
            return _bits_of(late, function, count)
        if reply.isError():
            raise LinkFailed(f"exception reply {reply.exception_code} to function {function:#04x}")
        if reply.function_code != function or len(reply.bits) < count:
            raise LinkFailed(f"mismatched reply (function {reply.function_code:#04x}) to {function:#04x}")
        return [bool(bit) for bit in reply.bits[:count]]

    async def write_coil(self, address: int, on: bool) -> None:
        """Write one coil; :class:`UnconfirmedWriteError` when no reply came (the write may have
        happened), :class:`OutputWriteError` when it surely did not (no link, exception reply)."""
        client = self._client
        if client is None or not client.connected:
            raise OutputWriteError(f"unit {self.unit}: not connected")
        try:
            reply = await client.write_coil(address, on, device_id=self.unit)
        except (ModbusException, OSError, TimeoutError) as exc:
            late = await self._late_reply(WRITE_SINGLE_COIL)
            if late is None:
                raise UnconfirmedWriteError(f"unit {self.unit} coil {address}: {type(exc).__name__}") from exc
            if late[1] != WRITE_SINGLE_COIL or int.from_bytes(late[2:4], "big") != address:
                raise OutputWriteError(f"unit {self.unit} coil {address}: late reply function {late[1]:#04x}") from None
            return
        if reply.isError() or reply.function_code != WRITE_SINGLE_COIL or reply.address != address:
            raise OutputWriteError(
                f"unit {self.unit} coil {address}: reply function {reply.function_code:#04x} "
                f"exception code {reply.exception_code}"
            )

    async def _late_reply(self, function: int) -> bytes | None:
        """After a failed transaction: listen (sending nothing) for the reply to it, up to the grace."""
        if not self.connected or self._grace <= 0:
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._grace
        while True:
            for frame in self._heard:
                if frame[1] & 0x7F == function:
                    self._heard.clear()
                    self.late_replies_used += 1
                    return frame
            remaining = deadline - loop.time()
            if remaining <= 0 or not self.connected:
                return None
            self._heard_event.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):  # not wait_for: it can swallow a cancellation (3.11)
                    await self._heard_event.wait()


def _bits_of(frame: bytes, function: int, count: int) -> list[bool]:
    """The bits of a raw read reply ``unit fc bytecount data... crc`` (already CRC-checked)."""
    if frame[1] & 0x80:
        raise LinkFailed(f"exception reply {frame[2]} to function {function:#04x}")
    data = frame[3:-2]
    if frame[1] != function or len(data) * 8 < count:
        raise LinkFailed(f"mismatched reply (function {frame[1]:#04x}) to {function:#04x}")
    return [bool(data[i // 8] >> (i % 8) & 1) for i in range(count)]
