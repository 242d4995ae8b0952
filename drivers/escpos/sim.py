"""A simulated ESC/POS receipt printer on a pty pair.

The driver under test opens :attr:`PrinterSimulator.port` (a pty slave). The simulator records
every byte it receives in :attr:`PrinterSimulator.received`, except the real-time status queries
``DLE EOT n`` (n = 1..4), which it answers at once (like a real printer, even in the middle of
other data) and logs in :attr:`PrinterSimulator.status_queries`. A query split across reads is
still recognised.

Settable conditions: ``paper_out``, ``paper_near_end``, ``cover_open``, ``cutter_error``,
``unrecoverable_error`` and ``silent`` (no status answers at all, as with a powered-off printer).
Cover open, paper out and any error also make the printer report itself offline.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from drivers.serialport.pty import PtyDevice

__all__ = ["PrinterSimulator"]

_DLE, _EOT = 0x10, 0x04


class PrinterSimulator:
    """Use as ``async with PrinterSimulator() as sim:`` and open ``sim.port``."""

    def __init__(
        self,
        *,
        paper_out: bool = False,
        paper_near_end: bool = False,
        cover_open: bool = False,
        cutter_error: bool = False,
        unrecoverable_error: bool = False,
        silent: bool = False,
    ) -> None:
        self._pty = PtyDevice(self.receive)
        self._pending = bytearray()
        self.paper_out = paper_out
        self.paper_near_end = paper_near_end
        self.cover_open = cover_open
        self.cutter_error = cutter_error
        self.unrecoverable_error = unrecoverable_error
        self.silent = silent
        self.received = bytearray()
        self.status_queries: list[int] = []

    @property
    def port(self) -> str:
        return self._pty.port

    async def __aenter__(self) -> Self:
        await self._pty.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._pty.close()

    def status_byte(self, n: int) -> int:
        """The answer to ``DLE EOT n`` in the current state."""
        error = self.cutter_error or self.unrecoverable_error
        offline = self.cover_open or self.paper_out or error
        value = 0x12
        if n == 1:
            value |= 0x08 if offline else 0
        elif n == 2:
            value |= (0x04 if self.cover_open else 0) | (0x20 if self.paper_out else 0)
            value |= 0x40 if error else 0
        elif n == 3:
            value |= (0x08 if self.cutter_error else 0) | (0x20 if self.unrecoverable_error else 0)
        elif n == 4:
            value |= (0x0C if self.paper_near_end or self.paper_out else 0) | (0x60 if self.paper_out else 0)
        return value

    def receive(self, data: bytes) -> None:
        """Handle bytes from the driver (called by the pty; callable directly in tests)."""
        buf = self._pending + data
        i = 0
        while i < len(buf):
            if buf[i] == _DLE:
                if i + 1 >= len(buf) or (buf[i + 1] == _EOT and i + 2 >= len(buf)):
                    break  # maybe the start of a split query: wait for the next bytes
                if buf[i + 1] == _EOT and 1 <= buf[i + 2] <= 4:
                    self.status_queries.append(buf[i + 2])
                    if not self.silent:
                        self._pty.send(bytes([self.status_byte(buf[i + 2])]))
                    i += 3
                    continue
            self.received.append(buf[i])
            i += 1
        self._pending = bytearray(buf[i:])
