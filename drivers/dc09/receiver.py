"""SIA DC-09 alarm receiver: thin asyncio TCP and UDP transports around the sans-IO codec.

* TCP: one :class:`~drivers.dc09.codec.Dc09Decoder` per connection (frames may be split across segments
  or several may share one); connections may stay open (DC-09 2013) and are closed after
  ``idle_timeout`` seconds without data.
* UDP: one datagram holds one or more whole frames; a partial frame left at its end is dropped.

For every frame with a good CRC and length the receiver sends the codec's answer back to the peer
(ACK, encrypted ``*ACK``, NAK with its time, or DUH); bad CRC or length: no answer, a counter goes
up. An accepted message is handed to ``on_message(msg, peer)`` *before* it is acknowledged: if the
callback raises, the receiver logs it and sends no ACK, so the panel will send the message again.
``on_message`` may be a coroutine function (or return an awaitable): the receiver awaits it and ACKs
once it has returned, so a handler can save the alarm off the event loop (a worker thread) before the
panel hears the ACK. Frames of one TCP connection (of one UDP sender) are handled and answered in
their order; while one awaits, the frames behind it wait, other connections do not. A message that is
still being handed over when its retransmission arrives (from any connection) is not delivered twice:
the retransmission waits for it and is ACKed if it succeeded, delivered again if it failed. A
repeated sequence number with the same content (a retransmission) is acknowledged again and not
delivered a second time (:class:`~drivers.dc09.supervision.DuplicateFilter`). ``NULL`` link tests
are acknowledged and count as life but are not delivered unless ``deliver_link_tests``.

Defences (:mod:`drivers.dc09.guard`): ``screen(message, peer)`` lets the application refuse a parsed
frame by policy (an unlisted account, a source address not allowed): it is answered DUH, not delivered,
and passed to ``on_rejected``. ``max_connections_per_host`` bounds the open TCP connections of one
source address (``max_connections`` all of them); a TCP connection that has sent no accepted frame
``first_frame_timeout`` seconds after it opened is closed, however much it trickles. Refusals
(frames, connections) are logged at most once per account or address per ``log_interval`` seconds,
then as counts.

Supervision (:class:`~drivers.dc09.supervision.LinkSupervisor`) runs every ``supervision_period``
seconds; each "link lost" and "link restored" transition is logged once and passed to ``on_link``.
Logs name accounts, sequence numbers and peers, never message data.

Use::

    server = Dc09Server(on_message=handle, host="192.168.50.1", port_tcp=12000, port_udp=12000)
    await server.start()
    ...
    await server.close()           # or: async with Dc09Server(...) as server: ...
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any, Self

from drivers.dc09.codec import CrcFormat, Dc09Counters, Dc09Decoded, Dc09Decoder, Dc09Message, ResponseKind
from drivers.dc09.connections import Pending, ServerStats, TcpConnection, UdpEndpoint
from drivers.dc09.guard import ConnectionQuota, RefusalLog, Screen, SourceRate, refuse
from drivers.dc09.supervision import DuplicateFilter, LinkChange, LinkEvent, LinkSupervisor

__all__ = [
    "Dc09Server",
    "DuplicateFilter",
    "LinkChange",
    "LinkEvent",
    "LinkSupervisor",
    "Screen",
    "ServerStats",
    "start_dc09_server",
]

_LOG = logging.getLogger(__name__)

OnMessage = Callable[[Dc09Message, str], Awaitable[None] | None]
OnLink = Callable[[LinkEvent], None]
OnRejected = Callable[[Dc09Decoded, str], None]


_InflightKey = tuple[str, int, str, str, tuple[str, ...]]


def _inflight_key(message: Dc09Message) -> _InflightKey:
    """What makes two frames the same message (as :class:`DuplicateFilter` compares them)."""
    return message.account.upper(), message.sequence, message.token.value, message.data, message.extended


async def _await(outcome: Awaitable[None]) -> None:
    await outcome


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Dc09Server:
    """DC-09 receiver on TCP and/or UDP (a port of ``None`` disables that transport; 0 picks one).

    ``on_rejected(decoded, peer)`` (optional) hears of every NAK and DUH the receiver sends: a panel
    whose clock is wrong has its alarms NAKed until it corrects it, so the application should at
    least show it (``decoded.message`` holds the NAKed message; DUH carries only account, sequence
    and reason).

    Codec settings (``keys``, ``crc_format``, ``max_age``, ``max_ahead``, ``check_time``, ``time_check_exempt``,
    ``require_encryption``) are those of :class:`~drivers.dc09.codec.Dc09Decoder`. ``duplicate_memory``
    and ``duplicate_ttl`` tune the :class:`DuplicateFilter`; ``link_intervals`` and
    ``default_link_interval`` the :class:`LinkSupervisor`. ``screen``, ``max_connections_per_host``,
    ``first_frame_timeout``, ``udp_rate_per_host``/``udp_burst_per_host`` (datagrams per second and burst
    per source address, :class:`~drivers.dc09.guard.SourceRate`; None: no limit) and ``log_interval``: see
    the module's docstring. ``utc_clock`` (for the time window)
    and ``monotonic`` (for duplicates and supervision) can be replaced in tests.
    """

    def __init__(
        self,
        *,
        on_message: OnMessage,
        host: str = "127.0.0.1",
        port_tcp: int | None = 0,
        port_udp: int | None = 0,
        on_link: OnLink | None = None,
        on_rejected: OnRejected | None = None,
        keys: Mapping[str, bytes] | None = None,
        crc_format: CrcFormat = "auto",
        max_age: float = 40.0,
        max_ahead: float = 20.0,
        check_time: bool = True,
        time_check_exempt: Collection[str] = (),
        require_encryption: bool = False,
        cleartext_allowed: Collection[str] = (),
        screen: Screen | None = None,
        duplicate_memory: int = 64,
        duplicate_ttl: float | None = 600.0,
        link_intervals: Mapping[str, float] | None = None,
        default_link_interval: float | None = None,
        supervision_period: float = 1.0,
        deliver_link_tests: bool = False,
        idle_timeout: float | None = 300.0,
        max_connections: int = 256,
        max_connections_per_host: int | None = None,
        first_frame_timeout: float | None = None,
        udp_rate_per_host: float | None = None,
        udp_burst_per_host: float = 20.0,
        log_interval: float = 60.0,
        utc_clock: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if port_tcp is None and port_udp is None:
            raise ValueError("enable at least one of port_tcp and port_udp")
        self._on_message = on_message
        self._on_link = on_link
        self._on_rejected = on_rejected
        self._host = host
        self._port_tcp = port_tcp
        self._port_udp = port_udp
        self._decoder_settings: dict[str, Any] = {
            "keys": dict(keys or {}),
            "crc_format": crc_format,
            "max_age": max_age,
            "max_ahead": max_ahead,
            "check_time": check_time,
            "require_encryption": require_encryption,
            "time_check_exempt": tuple(time_check_exempt),
            "cleartext_allowed": tuple(cleartext_allowed),
        }
        self._screen = screen
        Dc09Decoder(**self._decoder_settings)  # fail now on a bad key or setting, not per connection
        self.counters = Dc09Counters()
        self.stats = ServerStats()
        self.duplicates = DuplicateFilter(memory=duplicate_memory, ttl=duplicate_ttl)
        self.supervisor = LinkSupervisor(intervals=link_intervals, default_interval=default_link_interval)
        self._supervision_period = supervision_period
        self._deliver_link_tests = deliver_link_tests
        self._idle_timeout = idle_timeout
        self._max_connections = max_connections
        self.quota = ConnectionQuota(max_connections_per_host)
        self.udp_rate = SourceRate(udp_rate_per_host, burst=udp_burst_per_host)
        self._first_frame_timeout = first_frame_timeout
        self.refusals = RefusalLog(interval=log_interval)
        self._log_flush: asyncio.Task[None] | None = None
        self._utc = utc_clock
        self._monotonic = monotonic
        self._connections: set[TcpConnection] = set()
        self._tcp: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._supervision: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # hand-offs being awaited and the lanes behind them
        self._inflight: dict[_InflightKey, asyncio.Task[None]] = {}

    @property
    def tcp_port(self) -> int | None:
        """The bound TCP port once started (useful with ``port_tcp=0``)."""
        if self._tcp is None or not self._tcp.sockets:
            return None
        return int(self._tcp.sockets[0].getsockname()[1])

    @property
    def udp_port(self) -> int | None:
        if self._udp is None:
            return None
        return int(self._udp.get_extra_info("sockname")[1])

    @property
    def active_connections(self) -> int:
        return len(self._connections)

    async def start(self) -> None:
        if self._tcp is not None or self._udp is not None:
            raise RuntimeError("DC-09 server already started")
        loop = asyncio.get_running_loop()
        try:
            if self._port_tcp is not None:
                self._tcp = await loop.create_server(
                    lambda: TcpConnection(self), self._host, self._port_tcp, reuse_address=True
                )
            if self._port_udp is not None:
                self._udp, _ = await loop.create_datagram_endpoint(
                    lambda: UdpEndpoint(self), local_addr=(self._host, self._port_udp)
                )
        except BaseException:
            await self.close()
            raise
        if self.supervisor.active:
            self._supervision = asyncio.create_task(self._supervise(), name="dc09-supervision")
        self._log_flush = asyncio.create_task(self._flush_refusals(), name="dc09-refusal-log")
        _LOG.info("DC-09 receiver on %s (tcp %s, udp %s)", self._host, self.tcp_port, self.udp_port)

    async def close(self) -> None:
        for periodic in (self._supervision, self._log_flush):
            if periodic is not None:
                periodic.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await periodic
        self._supervision = self._log_flush = None
        if self._tcp is not None:
            self._tcp.close()
            for conn in list(self._connections):
                conn.close()
            await self._tcp.wait_closed()
            self._tcp = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        for task in list(self._tasks):  # unanswered hand-offs: their panels send them again
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.sleep(0)  # let connection_lost callbacks run

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def poll_links(self) -> list[LinkEvent]:
        """Run one supervision check now (the background task calls this periodically)."""
        events = self.supervisor.poll(now=self._monotonic())
        for event in events:
            self._emit_link(event)
        return events

    # --- internals shared by the protocols ---------------------------------------------------------

    def _new_decoder(self) -> Dc09Decoder:
        return Dc09Decoder(counters=self.counters, **self._decoder_settings)

    def _admit(self, conn: TcpConnection, host: str) -> bool:
        if len(self._connections) >= self._max_connections:
            self._refuse_connection(host, f"{len(self._connections)} connections open in all")
            return False
        if not self.quota.acquire(host):
            self.stats.refused_per_host += 1
            self._refuse_connection(host, f"{self.quota.open(host)} connections open from this address")
            return False
        self.stats.connections += 1
        self._connections.add(conn)
        return True

    def _release(self, conn: TcpConnection, host: str) -> None:
        if conn in self._connections:
            self._connections.discard(conn)
            self.quota.release(host)

    def _refuse_connection(self, host: str, why: str) -> None:
        self.stats.refused_connections += 1
        self._log_refusal(f"TCP connections from {host}", f"refused, {why}")

    def _datagram_allowed(self, host: str) -> bool:
        return self.udp_rate.allow(host, now=self._monotonic())

    def _log_refusal(self, key: str, what: str) -> None:
        line = self.refusals.note(key, what, now=self._monotonic())
        if line is not None:
            _LOG.warning("DC-09 %s", line)

    def _screened(self, result: Dc09Decoded, peer: str) -> Dc09Decoded:
        """The codec's verdict, or a DUH when the application's ``screen`` refuses the message."""
        if self._screen is None or result.message is None or result.verdict is ResponseKind.DUH:
            return result
        refusal = self._screen(result.message, peer)
        if refusal is None:
            return result
        self.stats.screened += 1
        self.counters.duhs += 1
        return refuse(result, refusal)

    def _step(self, result: Dc09Decoded, peer: str) -> bytes | Pending | None:
        """Handle one decoded frame: the answer to send now, a hand-off to await first, or no answer."""
        now = self._monotonic()
        live = result.account and result.counts_as_life
        restored = self.supervisor.alive(result.account, now=now) if live else None
        if restored is not None:
            self._emit_link(restored)
        if result.verdict is not ResponseKind.ACK or result.message is None:
            self._log_refusal(
                f"account {result.account.upper() or '?'}", f"{result.verdict} {result.reason} (last from {peer})"
            )
            self._notify_rejected(result, peer)
            return result.reply
        message = result.message
        if message.is_link_test and not self._deliver_link_tests:
            return result.reply
        if self.duplicates.is_duplicate(message, now=now):
            self.stats.duplicates += 1
            return result.reply
        key = _inflight_key(message)
        running = self._inflight.get(key)
        if running is not None:  # a retransmission of a message still being handed over
            return Pending(self, result, peer, running, first=False)
        try:
            outcome = self._on_message(message, peer)
        except Exception as exc:  # noqa: BLE001 - a failed hand-off must not ACK: the panel sends it again
            self._hand_off_failed(message, exc)
            return None
        if outcome is not None and inspect.isawaitable(outcome):
            task = self._spawn(_await(outcome), name=f"dc09-hand-off-{message.account}-{message.sequence:04d}")
            self._inflight[key] = task
            task.add_done_callback(lambda t: self._handed_off(t, message, key, now))
            return Pending(self, result, peer, task, first=True)
        self.stats.delivered += 1
        self.duplicates.remember(message, now=now)
        return result.reply

    def _handed_off(self, task: asyncio.Task[None], message: Dc09Message, key: _InflightKey, now: float) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._hand_off_failed(message, exc)
            return
        self.stats.delivered += 1
        self.duplicates.remember(message, now=now)

    def _hand_off_failed(self, message: Dc09Message, exc: BaseException) -> None:
        self.stats.callback_errors += 1
        _LOG.error(
            "DC-09 on_message failed for account %s seq %04d: not acknowledged",
            message.account,
            message.sequence,
            exc_info=exc,
        )

    def _spawn(self, coro: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _notify_rejected(self, result: Dc09Decoded, peer: str) -> None:
        if self._on_rejected is None:
            return
        try:
            self._on_rejected(result, peer)
        except Exception:  # noqa: BLE001 - a faulty listener must not stop the answers
            _LOG.exception("DC-09 on_rejected callback failed for account %s", result.account)

    def _emit_link(self, event: LinkEvent) -> None:
        if event.change is LinkChange.LOST:
            _LOG.warning("DC-09 link lost: account %s silent for %.0f s", event.account, event.silence)
        else:
            _LOG.info("DC-09 link restored: account %s after %.0f s", event.account, event.silence)
        if self._on_link is not None:
            try:
                self._on_link(event)
            except Exception:  # noqa: BLE001 - a faulty listener must not stop supervision
                _LOG.exception("DC-09 on_link callback failed for account %s", event.account)

    async def _flush_refusals(self) -> None:
        while True:
            await asyncio.sleep(self.refusals.interval)
            for line in self.refusals.flush(now=self._monotonic()):
                _LOG.warning("DC-09 %s", line)

    async def _supervise(self) -> None:
        while True:
            await asyncio.sleep(self._supervision_period)
            self.poll_links()


async def start_dc09_server(**settings: Any) -> Dc09Server:
    """Create a :class:`Dc09Server` with these keyword settings and start it."""
    server = Dc09Server(**settings)
    await server.start()
    return server
