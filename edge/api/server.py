"""The daemon's local API: JSON-RPC 2.0, one JSON object (or batch array) per line, on a Unix socket.

Methods are registered by the daemon's components (`server.register("events.submit", handler)`).
Requests on one connection run concurrently (responses carry their ids), so a client that pipelines
submissions gets them group-committed. The server can also push notifications to a connection that
subscribed to a topic (`{"jsonrpc": "2.0", "method": "notify", "params": {"topic": ..., ...}}`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec

from edge.wire.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    ApiError,
)

__all__ = ["ApiServer", "Connection"]

log = logging.getLogger(__name__)

MAX_LINE = 4 * 1024 * 1024
MAX_CONCURRENT_PER_CONNECTION = 2048


Handler = Callable[[Any, "Connection"], Awaitable[Any]]


class Connection:
    """One client connection; handlers get it to subscribe the client to notifications."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.topics: set[str] = set()
        self.closed = False

    def send(self, obj: Any) -> None:
        if self.closed or self.writer.is_closing():
            return
        self.writer.write(msgspec.json.encode(obj) + b"\n")

    def notify(self, topic: str, params: dict[str, Any]) -> None:
        self.send({"jsonrpc": "2.0", "method": "notify", "params": {"topic": topic, **params}})


class ApiServer:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._methods: dict[str, Handler] = {}
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.requests_total = 0
        self.errors_total = 0

    def register(self, name: str, handler: Handler) -> None:
        if name in self._methods:
            raise ValueError(f"method {name} registered twice")
        self._methods[name] = handler

    @property
    def methods(self) -> list[str]:
        return sorted(self._methods)

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path), limit=MAX_LINE)
        os.chmod(self.path, 0o660)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for conn in list(self._connections):
                conn.closed = True
                conn.writer.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def publish(self, topic: str, params: dict[str, Any]) -> int:
        """Notify every connection subscribed to `topic` (or to a prefix of it ending in `.*`)."""
        n = 0
        for conn in list(self._connections):
            if topic in conn.topics or any(t.endswith("*") and topic.startswith(t[:-1]) for t in conn.topics):
                conn.notify(topic, params)
                n += 1
        return n

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(writer)
        self._connections.add(conn)
        sem = asyncio.Semaphore(MAX_CONCURRENT_PER_CONNECTION)
        pending: set[asyncio.Task[None]] = set()
        try:
            while True:
                try:
                    line = await reader.readline()
                except (asyncio.LimitOverrunError, ValueError):
                    conn.send(_error(None, ApiError(INVALID_REQUEST, f"request longer than {MAX_LINE} bytes")))
                    break
                except ConnectionError:
                    break
                if not line:
                    break
                if not line.strip():
                    continue
                await sem.acquire()
                task = asyncio.create_task(self._handle_line(conn, line, sem))
                pending.add(task)
                task.add_done_callback(pending.discard)
                if writer.transport.get_write_buffer_size() > 1 << 20:
                    await writer.drain()
        finally:
            # A client that half-closes after its last request still gets every answer.
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            conn.closed = True
            self._connections.discard(conn)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _handle_line(self, conn: Connection, line: bytes, sem: asyncio.Semaphore) -> None:
        try:
            try:
                msg = msgspec.json.decode(line)
            except msgspec.DecodeError as exc:
                self.errors_total += 1
                conn.send(_error(None, ApiError(PARSE_ERROR, f"not valid JSON: {exc}")))
                return
            if isinstance(msg, list):
                if not msg:
                    conn.send(_error(None, ApiError(INVALID_REQUEST, "empty batch")))
                    return
                replies = await asyncio.gather(*(self._handle_one(conn, m) for m in msg))
                batch = [r for r in replies if r is not None]
                if batch:
                    conn.send(batch)
            else:
                reply = await self._handle_one(conn, msg)
                if reply is not None:
                    conn.send(reply)
        finally:
            sem.release()

    async def _handle_one(self, conn: Connection, msg: Any) -> dict[str, Any] | None:
        self.requests_total += 1
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0" or not isinstance(msg.get("method"), str):
            self.errors_total += 1
            rid = msg.get("id") if isinstance(msg, dict) else None
            return _error(rid, ApiError(INVALID_REQUEST, 'expected {"jsonrpc": "2.0", "method": ..., "id": ...}'))
        rid = msg.get("id")
        is_notification = "id" not in msg
        handler = self._methods.get(msg["method"])
        if handler is None:
            self.errors_total += 1
            return None if is_notification else _error(
                rid, ApiError(METHOD_NOT_FOUND, f"unknown method {msg['method']!r}"))
        params = msg.get("params")
        if params is not None and not isinstance(params, dict | list):
            self.errors_total += 1
            return None if is_notification else _error(rid, ApiError(INVALID_PARAMS, "params must be an object"))
        try:
            result = await handler(params, conn)
        except ApiError as exc:
            self.errors_total += 1
            return None if is_notification else _error(rid, exc)
        except Exception as exc:
            self.errors_total += 1
            log.exception("API method %s failed", msg["method"])
            return None if is_notification else _error(rid, ApiError(INTERNAL_ERROR, f"internal error: {exc}"))
        return None if is_notification else {"jsonrpc": "2.0", "id": rid, "result": result}


def _error(rid: Any, exc: ApiError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": exc.to_json()}
