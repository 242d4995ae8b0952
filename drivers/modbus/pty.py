"""Two pseudo-terminals joined back to back (like ``socat pty,raw pty,raw``): a serial cable for tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tty

__all__ = ["PtyNullModem"]

logger = logging.getLogger("drivers.modbus.sim")


class PtyNullModem:
    """Two pseudo-terminals joined back to back: bytes written on ``device_a`` are read on
    ``device_b`` and the other way round. Both slave ends are raw and kept open by us, so either
    side may close and reopen its end (as a restarted device would). Bytes that find the other
    side's buffer full are dropped, like on a wire with nobody listening."""

    def __init__(self) -> None:
        self._fds: list[int] = []
        a_master, a_slave = os.openpty()
        b_master, b_slave = os.openpty()
        self._fds = [a_master, a_slave, b_master, b_slave]
        for slave in (a_slave, b_slave):
            tty.setraw(slave)
        for master in (a_master, b_master):
            os.set_blocking(master, False)
        self._masters = (a_master, b_master)
        self.device_a = os.ttyname(a_slave)
        self.device_b = os.ttyname(b_slave)
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Start relaying bytes in the running event loop."""
        self._loop = asyncio.get_running_loop()
        a_master, b_master = self._masters
        self._loop.add_reader(a_master, self._pump, a_master, b_master)
        self._loop.add_reader(b_master, self._pump, b_master, a_master)

    def close(self) -> None:
        if self._loop is not None:
            for master in self._masters:
                self._loop.remove_reader(master)
            self._loop = None
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []

    @staticmethod
    def _pump(source: int, target: int) -> None:
        try:
            data = os.read(source, 4096)
            os.write(target, data)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            logger.debug("pty null modem: %s", exc)
