"""Asyncio transport for a serial ESC/POS receipt printer: send a receipt, query its status.

The port is a device path or a pyserial URL (default 9600 8N1). Status comes from the four
``DLE EOT n`` real-time queries (see :mod:`drivers.escpos.receipt`), one at a time: stale input is dropped,
the query written, and one byte with valid fixed bits awaited for ``status_timeout`` seconds.

Every problem the caller should show as a device warning is raised as :class:`PrinterFaultError`
carrying typed :class:`~drivers.escpos.receipt.PrinterFault` values and, when the printer answered, its
:class:`~drivers.escpos.receipt.PrinterStatus`: the port cannot be opened, the printer does not answer,
paper out, cover open, cutter or other errors. :meth:`EscPosPrinter.print_receipt` checks the
status before sending (so a receipt is not lost into an offline printer) and after (paper that
ran out mid-receipt is reported). Receipt content is never logged.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Self

from drivers.escpos.receipt import (
    EscPosError,
    EscPosStatusError,
    PrinterFault,
    PrinterStatus,
    ReceiptBuilder,
    StatusKind,
    parse_status,
    status_query,
)
from drivers.serialport.link import SerialLink, SerialLinkError

__all__ = ["EscPosPrinter", "PrinterFaultError"]

_LOG = logging.getLogger(__name__)


class PrinterFaultError(EscPosError):
    """The printer cannot print now. ``faults`` says why; ``status`` is set if it answered."""

    def __init__(self, faults: tuple[PrinterFault, ...], status: PrinterStatus | None = None) -> None:
        super().__init__(", ".join(f.message_en for f in faults))
        self.faults = faults
        self.status = status

    @property
    def message_zh(self) -> str:
        return "，".join(f.message_zh for f in self.faults)

    @property
    def message_en(self) -> str:
        return ", ".join(f.message_en for f in self.faults)


class EscPosPrinter:
    """One receipt printer on a serial port. Opens lazily; reopens after the port went away."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        status_timeout: float = 1.0,
        check_status: bool = True,
    ) -> None:
        self.port = port
        self._link = SerialLink(port, baudrate=baudrate, name="escpos")
        self._status_timeout = status_timeout
        self._check_status = check_status
        self._lock = asyncio.Lock()
        self._last_faults: tuple[PrinterFault, ...] = ()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        async with self._lock:
            await self._link.close()

    async def status(self) -> PrinterStatus:
        """Query all four status bytes; raise PrinterFaultError only if there is no answer."""
        async with self._lock:
            return await self._status_locked()

    async def print_receipt(self, receipt: bytes | ReceiptBuilder) -> PrinterStatus:
        """Send a receipt; raise PrinterFaultError if the printer cannot (or could not) print it."""
        data = receipt.build() if isinstance(receipt, ReceiptBuilder) else receipt
        async with self._lock:
            if self._check_status:
                self._raise_faults(await self._status_locked())
            try:
                await self._link.open()
                await self._link.write(data)
            except SerialLinkError:
                raise self._port_fault() from None
            if not self._check_status:
                return PrinterStatus(online=True, cover_open=False, paper_near_end=False, paper_out=False, error=False)
            after = await self._status_locked()
            self._raise_faults(after)
            return after

    @staticmethod
    def _raise_faults(status: PrinterStatus) -> None:
        if status.faults:
            raise PrinterFaultError(status.faults, status)

    async def _status_locked(self) -> PrinterStatus:
        try:
            await self._link.open()
            answers = [await self._query(kind) for kind in StatusKind]
        except SerialLinkError:
            raise self._port_fault() from None
        status = PrinterStatus.from_bytes(*answers)
        self._note(status.faults)
        return status

    async def _query(self, kind: StatusKind) -> int:
        await self._link.discard_input()
        await self._link.write(status_query(kind))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._status_timeout
        while (remaining := deadline - loop.time()) > 0:
            for byte in await self._link.read(max_wait=remaining):
                try:
                    return parse_status(byte)
                except EscPosStatusError:
                    continue  # a stray byte: keep waiting for the answer
        self._note((PrinterFault.NO_ANSWER,))
        raise PrinterFaultError((PrinterFault.NO_ANSWER,))

    def _port_fault(self) -> PrinterFaultError:
        self._note((PrinterFault.PORT_UNAVAILABLE,))
        return PrinterFaultError((PrinterFault.PORT_UNAVAILABLE,))

    def _note(self, faults: tuple[PrinterFault, ...]) -> None:
        """Log once when a problem starts and once when it clears."""
        if faults == self._last_faults:
            return
        if faults:
            _LOG.warning("receipt printer on %s: %s", self.port, ", ".join(f.name for f in faults))
        else:
            _LOG.info("receipt printer on %s is ready again", self.port)
        self._last_faults = faults
