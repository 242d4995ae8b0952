"""A thin asyncio wrapper around a pyserial port: moves bytes, nothing else.

pyserial is blocking. Every call into it (open, read, write, close) runs on one worker thread that
the link owns, so the event loop never blocks and calls reach the port in the order they were made.
Reads use a short port timeout (``read_slice``) so the worker is never stuck for long, and
:meth:`SerialLink.close` can always finish; the worker thread is joined on close, so a closed link
leaves no thread behind.

The port is given as a device path (``/dev/ttyUSB0``, a pty slave) or any pyserial URL
(``socket://127.0.0.1:4001``, ``loop://``, ``rfc2217://...``).

A cancelled :meth:`SerialLink.read` does not lose bytes: the read already running on the worker
is kept and its bytes are returned by the next call.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import serial

__all__ = ["SerialLink", "SerialLinkError"]

_MAX_READ = 65536


class SerialLinkError(Exception):
    """The port could not be opened, or reading/writing it failed. The link is closed."""


class SerialLink:
    """One serial port, driven from asyncio through a private single worker thread."""

    def __init__(
        self,
        url: str,
        *,
        baudrate: int,
        bytesize: int = 8,
        parity: str = "N",
        stopbits: float = 1,
        read_slice: float = 0.05,
        write_timeout: float = 5.0,
        name: str = "serial",
    ) -> None:
        if read_slice <= 0:
            raise ValueError("read_slice must be positive")
        self.url = url
        self._settings: dict[str, Any] = {
            "baudrate": baudrate,
            "bytesize": bytesize,
            "parity": parity,
            "stopbits": stopbits,
            "timeout": read_slice,
            "write_timeout": write_timeout,
        }
        self._name = name
        self._port: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._inflight: asyncio.Future[bytes] | None = None

    @property
    def is_open(self) -> bool:
        return self._port is not None

    async def open(self) -> None:
        """Open the port; raise :class:`SerialLinkError` (with the reason) if it cannot be opened."""
        if self._port is not None:
            return
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self._name}-io")
        try:
            self._port = await asyncio.get_running_loop().run_in_executor(executor, self._open_blocking)
        except (serial.SerialException, OSError, ValueError) as exc:
            executor.shutdown(wait=True)
            raise SerialLinkError(f"cannot open {self.url}: {exc}") from exc
        except BaseException:
            executor.shutdown(wait=True)
            raise
        self._executor = executor

    def _open_blocking(self) -> Any:
        port = serial.serial_for_url(self.url, do_not_open=True)
        for key, value in self._settings.items():
            setattr(port, key, value)
        port.open()
        return port

    async def close(self) -> None:
        """Close the port and join the worker thread. Safe to call twice."""
        port, executor, inflight = self._port, self._executor, self._inflight
        self._port = self._executor = self._inflight = None
        if executor is None:
            return
        loop = asyncio.get_running_loop()
        try:
            if inflight is not None:
                with contextlib.suppress(Exception):
                    await inflight
            if port is not None:
                with contextlib.suppress(Exception):
                    await loop.run_in_executor(executor, port.close)
        finally:
            executor.shutdown(wait=True)  # the worker is idle by now: this only joins it

    async def write(self, data: bytes) -> None:
        """Write every byte (blocking on the worker until the driver took them)."""
        await self._call(self._write_blocking, data)

    def _write_blocking(self, data: bytes) -> None:
        self._port.write(data)
        self._port.flush()

    async def read(self, *, max_wait: float) -> bytes:
        """The bytes available now or arriving within ``max_wait`` seconds; ``b""`` if none came."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        while True:
            if self._inflight is None:
                self._inflight = asyncio.ensure_future(self._call(self._read_blocking))
            inflight = self._inflight
            try:
                data = await asyncio.shield(inflight)
            finally:
                if inflight.done():
                    self._inflight = None
            if data or loop.time() >= deadline:
                return data

    def _read_blocking(self) -> bytes:
        buf = bytearray(self._port.read(1))
        if buf:
            while len(buf) < _MAX_READ and (waiting := self._port.in_waiting):
                buf += self._port.read(min(waiting, _MAX_READ - len(buf)))
        return bytes(buf)

    async def discard_input(self) -> None:
        """Drop bytes already received (stale replies) before a new request."""
        if self._inflight is not None:
            with contextlib.suppress(SerialLinkError):
                await self._inflight
            self._inflight = None
        await self._call(self._reset_input_blocking)

    def _reset_input_blocking(self) -> None:
        self._port.reset_input_buffer()

    async def _call(self, fn: Any, *args: Any) -> Any:
        executor = self._executor
        if executor is None or self._port is None:
            raise SerialLinkError(f"{self.url} is not open")
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
        except (serial.SerialException, OSError) as exc:
            await self._fail()
            raise SerialLinkError(f"{self.url}: {exc}") from exc

    async def _fail(self) -> None:
        # The port is gone (unplugged, pty closed): close it so the owner reopens later.
        if self._port is not None:
            self._inflight = None
            await self.close()
