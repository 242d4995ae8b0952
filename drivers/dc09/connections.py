"""The DC-09 receiver's transports: one lane of frames per peer, TCP connections, the UDP endpoint.

:class:`~drivers.dc09.receiver.ReceiverCore` owns the codec settings, the duplicate filter and
supervision; the classes here move bytes between sockets and the sans-IO decoder and keep each
peer's frames (a TCP connection, a UDP sender) handled and answered in their order (see the
receiver's docstring for the rules).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol, cast

from drivers.dc09.codec import Dc09Decoded, Dc09Decoder
from drivers.dc09.guard import peer_host

__all__ = ["Lane", "Pending", "ReceiverCore", "ServerStats", "TcpConnection", "UdpEndpoint", "peer_name"]

_LOG = logging.getLogger("drivers.dc09.receiver")


@dataclass(slots=True)
class ServerStats:
    """Transport-level counts (the codec's own are in :attr:`Dc09Server.counters`)."""

    delivered: int = 0
    duplicates: int = 0
    callback_errors: int = 0
    connections: int = 0
    refused_connections: int = 0  # all refused connections, those over the per-address limit included
    refused_per_host: int = 0
    first_frame_closed: int = 0  # closed: no accepted frame within first_frame_timeout
    screened: int = 0  # frames the application's screen refused (answered DUH)
    idle_closed: int = 0
    datagrams: int = 0
    datagrams_dropped: int = 0  # over a source address's rate (SourceRate): not parsed, not answered

    def as_dict(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}


class ReceiverCore(Protocol):
    """What the transports need of :class:`~drivers.dc09.receiver.Dc09Server`."""

    stats: ServerStats
    _idle_timeout: float | None
    _first_frame_timeout: float | None
    _connections: set[TcpConnection]
    _utc: Callable[[], datetime]

    def _step(self, result: Dc09Decoded, peer: str) -> bytes | Pending | None: ...

    def _spawn(self, coro: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]: ...

    def _new_decoder(self) -> Dc09Decoder: ...

    def _admit(self, conn: TcpConnection, host: str) -> bool: ...

    def _release(self, conn: TcpConnection, host: str) -> None: ...

    def _screened(self, result: Dc09Decoded, peer: str) -> Dc09Decoded: ...

    def _log_refusal(self, key: str, what: str) -> None: ...

    def _datagram_allowed(self, host: str) -> bool: ...


def peer_name(addr: Any) -> str:
    if isinstance(addr, tuple) and len(addr) >= 2:
        host, port = addr[0], addr[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(addr)


class Lane:
    """The frames of one peer (a TCP connection, a UDP sender), handled and answered in their order.

    Frames are handled at once while every hand-off is synchronous; when one is awaited, the frames
    behind it queue and a task of this lane works through them.
    """

    def __init__(
        self, server: ReceiverCore, send: Callable[[bytes], None], on_idle: Callable[[], object] | None = None
    ) -> None:
        self._server = server
        self._send = send
        self._on_idle = on_idle
        self._queue: deque[tuple[Dc09Decoded, str]] = deque()
        self._task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None

    def feed(self, results: list[Dc09Decoded], peer: str) -> None:
        if self._task is not None:
            self._queue.extend((result, peer) for result in results)
            return
        for i, result in enumerate(results):
            step = self._server._step(result, peer)
            if isinstance(step, Pending):
                self._queue.extend((r, peer) for r in results[i + 1 :])
                self._task = self._server._spawn(self._drain(step), name=f"dc09-lane-{peer}")
                return
            if step is not None:
                self._send(step)

    async def _drain(self, pending: Pending) -> None:
        try:
            while True:
                reply = await pending.settle()
                if reply is not None:
                    self._send(reply)
                while self._queue:
                    result, peer = self._queue.popleft()
                    step = self._server._step(result, peer)
                    if isinstance(step, Pending):
                        pending = step
                        break
                    if step is not None:
                        self._send(step)
                else:
                    return
        finally:
            self._task = None
            self._queue.clear()
            if self._on_idle is not None:
                self._on_idle()


@dataclass(slots=True)
class Pending:
    """A frame whose answer waits for a hand-off task: its own, or (a retransmission) the first copy's."""

    server: ReceiverCore
    result: Dc09Decoded
    peer: str
    hand_off: asyncio.Task[None]
    first: bool

    async def settle(self) -> bytes | None:
        """The answer to send once the hand-off is over (None: no ACK, the panel sends it again)."""
        await asyncio.wait([self.hand_off])  # waits without taking on the hand-off's error or cancellation
        if not self.hand_off.cancelled() and self.hand_off.exception() is None:
            if not self.first:
                self.server.stats.duplicates += 1
            return self.result.reply
        if self.first:
            return None
        step = self.server._step(self.result, self.peer)  # the first copy failed: this one is delivered
        return await step.settle() if isinstance(step, Pending) else step


class TcpConnection(asyncio.Protocol):
    def __init__(self, server: ReceiverCore) -> None:
        self._server = server
        self._decoder = server._new_decoder()
        self._transport: asyncio.Transport | None = None
        self._peer = "?"
        self._host = "?"
        self._idle: asyncio.TimerHandle | None = None
        self._first: asyncio.TimerHandle | None = None
        self._lane = Lane(server, self._send)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport = cast(asyncio.Transport, transport)
        addr = transport.get_extra_info("peername")
        self._peer = peer_name(addr)
        self._host = str(addr[0]) if isinstance(addr, tuple) and addr else self._peer
        if not self._server._admit(self, self._host):
            transport.abort()
            return
        self._arm_idle()
        deadline = self._server._first_frame_timeout
        if deadline is not None:
            self._first = asyncio.get_running_loop().call_later(deadline, self._no_first_frame)

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        self._arm_idle()
        results = [self._server._screened(r, self._peer) for r in self._decoder.feed(data, now=self._server._utc())]
        if self._first is not None and any(r.accepted for r in results):
            self._first.cancel()
            self._first = None
        self._lane.feed(results, self._peer)

    def _send(self, reply: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._idle, self._first):
            if timer is not None:
                timer.cancel()
        self._idle = self._first = None
        self._decoder.flush()
        self._server._release(self, self._host)

    def _no_first_frame(self) -> None:
        self._first = None
        self._server.stats.first_frame_closed += 1
        self._server._log_refusal(
            f"TCP connections from {self._host}",
            f"closed, no accepted frame within {self._server._first_frame_timeout:.0f} s",
        )
        if self._transport is not None:
            self._transport.abort()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _arm_idle(self) -> None:
        timeout = self._server._idle_timeout
        if timeout is None:
            return
        if self._idle is not None:
            self._idle.cancel()
        self._idle = asyncio.get_running_loop().call_later(timeout, self._on_idle)

    def _on_idle(self) -> None:
        self._idle = None
        self._server.stats.idle_closed += 1
        _LOG.info("DC-09 TCP connection from %s closed after %.0f s idle", self._peer, self._server._idle_timeout)
        self.close()


class UdpEndpoint(asyncio.DatagramProtocol):
    def __init__(self, server: ReceiverCore) -> None:
        self._server = server
        self._decoder = server._new_decoder()
        self._transport: asyncio.DatagramTransport | None = None
        self._lanes: dict[str, Lane] = {}  # only senders with frames waiting behind an awaited hand-off

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._server.stats.datagrams += 1
        peer = peer_name(addr)
        if not self._server._datagram_allowed(peer_host(peer)):
            self._server.stats.datagrams_dropped += 1
            self._server._log_refusal(f"udp {peer_host(peer)}", "datagrams over the per-address rate dropped")
            return
        results = [self._server._screened(r, peer) for r in self._decoder.feed(data, now=self._server._utc())]
        self._decoder.flush()  # one datagram, whole frames: never carry bytes to the next sender
        lane = self._lanes.get(peer)
        if lane is None:
            lane = Lane(
                self._server, lambda reply: self._sendto(reply, addr), on_idle=lambda: self._lanes.pop(peer, None)
            )
        lane.feed(results, peer)
        if lane.busy:
            self._lanes[peer] = lane

    def _sendto(self, reply: bytes, addr: tuple[str | Any, int]) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        _LOG.warning("DC-09 UDP endpoint error: %s", exc)
