"""The device side of a pseudo-terminal pair, for simulated serial devices.

``os.openpty()`` gives a master and a slave. The driver under test opens the slave path
(:attr:`PtyDevice.port`) exactly as it would open ``/dev/ttyUSB0``; the simulator holds the master,
receives what the driver writes and writes its answers back. Everything runs on the asyncio event
loop (``add_reader``/``add_writer`` on a non-blocking master): no threads.

The slave is put in raw mode and kept open by the simulator too, so the master never sees EIO
while the driver has the port closed (between reconnects).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import Callable

__all__ = ["PtyDevice"]


class PtyDevice:
    """A pty pair whose master end is served on the running event loop."""

    def __init__(self, on_data: Callable[[bytes], None]) -> None:
        self._on_data = on_data
        self._master = -1
        self._slave = -1
        self._out = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self.port = ""

    async def start(self) -> None:
        """Create the pair and start serving; :attr:`port` is then the path to open."""
        self._loop = asyncio.get_running_loop()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        self._loop.add_reader(self._master, self._readable)

    async def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._loop is not None and self._master >= 0:
            self._loop.remove_reader(self._master)
            self._loop.remove_writer(self._master)
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    def send(self, data: bytes) -> None:
        """Queue bytes towards the driver (written as soon as the pty accepts them)."""
        if self._master < 0 or not data:
            return
        self._out += data
        self._flush()

    def send_later(self, delay: float, data: bytes) -> None:
        """Send ``data`` after ``delay`` seconds (chunks scheduled in order keep their order)."""
        if self._loop is None:
            raise RuntimeError("PtyDevice not started")
        now = self._loop.time()
        self._timers = [t for t in self._timers if not t.cancelled() and t.when() > now]
        self._timers.append(self._loop.call_later(delay, self.send, data))

    def _readable(self) -> None:
        try:
            data = os.read(self._master, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # the slave side is momentarily closed: nothing to read
        if data:
            self._on_data(data)

    def _flush(self) -> None:
        assert self._loop is not None
        while self._out:
            try:
                written = os.write(self._master, self._out)
            except (BlockingIOError, InterruptedError):
                break
            del self._out[:written]
        if self._out:
            self._loop.add_writer(self._master, self._writable)
        else:
            self._loop.remove_writer(self._master)

    def _writable(self) -> None:
        self._flush()
