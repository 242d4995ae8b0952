"""The daemon's local API: JSON-RPC 2.0, one JSON object (or batch array) per line, on a Unix socket.

Methods are declared in the wire contract (`edge.wire.api`) with their params, result and roles, and
registered by the daemon's components with a handler (`server.register(EVENTS_SUBMIT, handler)`). The
server does what every method needs, once: it gives each connection a role from its peer credentials
(`edge.api.access`), refuses a method the role may not call (-32003), decodes the params into the
method's Struct (-32602 naming the field) and hands the handler typed params.

Requests on one connection run concurrently (responses carry their ids), up to `max_in_flight` at once;
each member of a batch counts. A request is at most `MAX_LINE` bytes and `MAX_DEPTH` levels deep; a
subscription holds at most `MAX_TOPICS` topics, and a connection gets a notification only if its role
may receive that topic (`{"jsonrpc": "2.0", "method": "notify", "params": {"topic": ..., ...}}`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from edge.api.access import PeerCred, RoleMap, peer_credentials
from edge.wire.api import core as api
from edge.wire.api.base import Empty, Method, Params, Role, topic_allowed
from edge.wire.api.core import CrewLogin, CrewMember, Subscribe, Subscribed
from edge.wire.errors import (
    FORBIDDEN,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    UNAVAILABLE,
    ApiError,
)

__all__ = ["ApiServer", "Connection", "Handler"]

log = logging.getLogger(__name__)

MAX_LINE = 4 * 1024 * 1024
MAX_DEPTH = 32

P = TypeVar("P", bound=Params)
Handler = Callable[[Any, "Connection"], Awaitable[Any]]


class Connection:
    """One client connection: who it is (role, peer, crew member) and what it subscribed to."""

    def __init__(self, writer: asyncio.StreamWriter, *, role: Role, peer: PeerCred | None = None) -> None:
        self.writer = writer
        self.role = role
        self.peer = peer
        self.member: CrewMember | None = None
        self.topics: set[str] = set()
        self.closed = False

    def send(self, obj: Any) -> None:
        if self.closed or self.writer.is_closing():
            return
        self.writer.write(msgspec.json.encode(obj) + b"\n")

    def notify(self, topic: str, params: dict[str, Any]) -> None:
        self.send({"jsonrpc": "2.0", "method": "notify", "params": {"topic": topic, **params}})

    def wants(self, topic: str) -> bool:
        if not topic_allowed(self.role, topic):
            return False
        return topic in self.topics or any(t.endswith("*") and topic.startswith(t[:-1]) for t in self.topics)

    def signer(self, claimed: str = "") -> str:
        """The `by` of a change this connection makes: its logged-in crew member, never free text.

        An admin tool that is not logged in may name who it acts for (simulators, maintenance)."""
        if self.member is not None:
            if claimed and claimed not in (self.member.name, self.member.badge):
                raise ApiError(
                    FORBIDDEN, f"this connection is logged in as {self.member.badge}; by={claimed!r} is not allowed"
                )
            return self.member.name
        if self.role is Role.ADMIN:
            return claimed
        raise ApiError(FORBIDDEN, 'log in first: crew.login {"badge": ...}')


@dataclass(frozen=True, slots=True)
class _Entry:
    method: Method[Any, Any]
    handler: Handler


class ApiServer:
    def __init__(
        self, path: Path, *, roles: RoleMap | None = None, max_connections: int = 64, max_in_flight: int = 2048
    ) -> None:
        self.path = Path(path)
        self.roles = roles or RoleMap()
        self.max_connections = max_connections
        self.max_in_flight = max_in_flight
        self._methods: dict[str, _Entry] = {}
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[Connection] = set()
        self.requests_total = 0
        self.errors_total = 0
        self.register(api.NOTIFY_SUBSCRIBE, self._subscribe)
        self.register(api.RPC_METHODS, self._list_methods)
        self.register(api.CREW_LOGIN, self._login)
        self.register(api.CREW_LOGOUT, self._logout)

    def register(self, method: Method[P, Any], handler: Callable[[P, Connection], Awaitable[Any]]) -> None:
        if method.name in self._methods:
            raise ValueError(f"method {method.name} registered twice")
        if not method.roles:
            raise ValueError(f"method {method.name} declares no role")
        self._methods[method.name] = _Entry(method, handler)

    @property
    def methods(self) -> list[str]:
        return sorted(self._methods)

    def declared(self) -> list[Method[Any, Any]]:
        return [self._methods[name].method for name in self.methods]

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
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def publish(self, topic: str, params: dict[str, Any]) -> int:
        """Notify every connection subscribed to `topic` (or a prefix `x.*`) whose role may receive it."""
        n = 0
        for conn in list(self._connections):
            if conn.wants(topic):
                conn.notify(topic, params)
                n += 1
        return n

    # ---- methods of the server itself ------------------------------------------------------------
    async def _subscribe(self, params: Subscribe, conn: Connection) -> Subscribed:
        topics = conn.topics | set(params.topics)
        if len(topics) > api.MAX_TOPICS:
            raise ApiError(INVALID_PARAMS, f"at most {api.MAX_TOPICS} topics per connection")
        conn.topics = topics
        return Subscribed(topics=sorted(topics))

    async def _list_methods(self, params: Empty, conn: Connection) -> list[str]:
        return [name for name, e in sorted(self._methods.items()) if e.method.allows(conn.role)]

    async def _login(self, params: CrewLogin, conn: Connection) -> CrewMember:
        conn.member = self.roles.login(params.badge)
        log.info(
            "crew member %s logged in on the local API (pid %s)", conn.member.badge, conn.peer.pid if conn.peer else "?"
        )
        return conn.member

    async def _logout(self, params: Empty, conn: Connection) -> Empty:
        conn.member = None
        return Empty()

    # ---- transport -------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = peer_credentials(writer.get_extra_info("socket"))
        role = self.roles.role_of(peer)
        refusal = None
        if role is None:
            refusal = ApiError(FORBIDDEN, f"uid {peer.uid if peer else '?'} has no role on this station's API")
        elif len(self._connections) >= self.max_connections:
            refusal = ApiError(UNAVAILABLE, f"too many connections (at most {self.max_connections})")
        if refusal is not None or role is None:
            log.warning("refused a local API connection: %s", refusal)
            writer.write(msgspec.json.encode(_error(None, refusal or ApiError(FORBIDDEN, "no role"))) + b"\n")
            # Read (and drop) what the client sent already, for a moment: closing a socket with unread
            # data resets it, and the client would lose the answer that says why.
            with contextlib.suppress(ConnectionError, OSError, TimeoutError, ValueError):
                async with asyncio.timeout(1.0):
                    while await reader.read(65536):
                        pass
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            return
        conn = Connection(writer, role=role, peer=peer)
        self._connections.add(conn)
        sem = asyncio.Semaphore(self.max_in_flight)
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
                msg = self._decode(conn, line)
                if msg is None:
                    continue
                members = msg if isinstance(msg, list) else [msg]
                for _ in members:  # every member of a batch holds a place, like a request of its own
                    await sem.acquire()
                task = asyncio.create_task(self._handle(conn, msg, sem))
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

    def _decode(self, conn: Connection, line: bytes) -> Any:
        """The request (or batch) of one line; None when it was answered with an error already."""
        error: ApiError | None = None
        msg: Any = None
        try:
            msg = msgspec.json.decode(line)
        except msgspec.DecodeError as exc:
            error = ApiError(PARSE_ERROR, f"not valid JSON: {exc}")
        except RecursionError:
            error = ApiError(INVALID_REQUEST, f"request nested deeper than {MAX_DEPTH} levels")
        if error is None and line.count(b"[") + line.count(b"{") > MAX_DEPTH and _too_deep(msg, MAX_DEPTH):
            error = ApiError(INVALID_REQUEST, f"request nested deeper than {MAX_DEPTH} levels")
        if error is None and isinstance(msg, list) and not msg:
            error = ApiError(INVALID_REQUEST, "empty batch")
        if error is None and isinstance(msg, list) and len(msg) > self.max_in_flight:
            error = ApiError(INVALID_REQUEST, f"a batch of {len(msg)} requests; at most {self.max_in_flight}")
        if error is not None:
            self.errors_total += 1
            conn.send(_error(None, error))
            return None
        return msg

    async def _handle(self, conn: Connection, msg: Any, sem: asyncio.Semaphore) -> None:
        if isinstance(msg, list):
            replies = await asyncio.gather(*(self._handle_one(conn, m, sem) for m in msg))
            batch = [r for r in replies if r is not None]
            if batch:
                conn.send(batch)
        else:
            reply = await self._handle_one(conn, msg, sem)
            if reply is not None:
                conn.send(reply)

    async def _handle_one(self, conn: Connection, msg: Any, sem: asyncio.Semaphore) -> dict[str, Any] | None:
        try:
            return await self._answer(conn, msg)
        finally:
            sem.release()

    async def _answer(self, conn: Connection, msg: Any) -> dict[str, Any] | None:
        self.requests_total += 1
        rid = msg.get("id") if isinstance(msg, dict) else None
        if not isinstance(rid, str | int | None) or isinstance(rid, bool):
            rid = None
            msg = None  # an id must be a string, a number or null
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0" or not isinstance(msg.get("method"), str):
            self.errors_total += 1
            return _error(rid, ApiError(INVALID_REQUEST, 'expected {"jsonrpc": "2.0", "method": ..., "id": ...}'))
        is_notification = "id" not in msg
        name = msg["method"]
        try:
            entry = self._methods.get(name)
            if entry is None:
                raise ApiError(METHOD_NOT_FOUND, f"unknown method {name[:64]!r}")
            if not entry.method.allows(conn.role):
                raise ApiError(FORBIDDEN, f"{name} is not for the {conn.role} role")
            params = entry.method.decode_params(msg.get("params"))
            result = await entry.handler(params, conn)
        except ApiError as exc:
            self.errors_total += 1
            return None if is_notification else _error(rid, exc)
        except Exception as exc:
            self.errors_total += 1
            log.exception("API method %s failed", name)
            return None if is_notification else _error(rid, ApiError(INTERNAL_ERROR, f"internal error: {exc}"))
        return None if is_notification else {"jsonrpc": "2.0", "id": rid, "result": result}


def _too_deep(obj: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


def _error(rid: Any, exc: ApiError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": exc.to_json()}
