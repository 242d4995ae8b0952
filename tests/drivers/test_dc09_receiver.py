"""DC-09 receiver: sans-IO duplicate filter and link supervisor, and real TCP/UDP sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drivers.dc09.codec import Dc09Decoded, Dc09Message, Dc09Token, ResponseKind, encode_frame, encode_response
from drivers.dc09.receiver import (
    Dc09Server,
    DuplicateFilter,
    LinkChange,
    LinkEvent,
    LinkSupervisor,
    start_dc09_server,
)
from drivers.dc09.sender import Dc09ResponseDecoder, Dc09Transmitter

NOW = datetime(2024, 3, 1, 8, 30, 0, tzinfo=UTC)
PANIC = b'\n53350022"SIA-DCS"0001L0#AAA[#AAA|Nri0/ZY0]\r'  # golden vector from protocols.md
NULL = b'\n54230012"NULL"0000L0#AAA[]\r'


def msg(seq: int = 1, data: str = "#AAA|Nri0/PA01", account: str = "AAA") -> Dc09Message:
    return Dc09Message(Dc09Token.SIA_DCS, False, seq, None, "0", account, data)


# --- DuplicateFilter ------------------------------------------------------------------------------


def test_duplicate_filter_delivers_once() -> None:
    f = DuplicateFilter()
    assert f.check(msg(1), now=0.0)
    assert not f.check(msg(1), now=1.0)
    assert not f.check(msg(1, account="aaa"), now=1.0)  # accounts are case-insensitive
    assert f.check(msg(2), now=1.0)
    assert f.check(msg(1, account="BBB"), now=1.0)


def test_duplicate_filter_same_sequence_new_content_is_new() -> None:
    f = DuplicateFilter()
    assert f.check(msg(7, data="#AAA|Nri0/PA01"), now=0.0)
    assert f.check(msg(7, data="#AAA|Nri0/PA02"), now=0.0)


def test_duplicate_filter_memory_and_ttl() -> None:
    f = DuplicateFilter(memory=64, ttl=100.0)
    for seq in range(1, 66):
        f.remember(msg(seq), now=0.0)
    assert not f.is_duplicate(msg(1), now=0.0)  # evicted: the 65th pushed it out
    assert f.is_duplicate(msg(2), now=0.0)
    assert f.is_duplicate(msg(65), now=100.0)
    assert not f.is_duplicate(msg(65), now=100.5)  # older than ttl
    with pytest.raises(ValueError):
        DuplicateFilter(memory=0)


def test_duplicate_filter_bounds_accounts() -> None:
    f = DuplicateFilter(max_accounts=2)
    for account in ("AAA", "BBB", "CCC"):
        f.remember(msg(1, account=account), now=0.0)
    assert not f.is_duplicate(msg(1, account="AAA"), now=0.0)
    assert f.is_duplicate(msg(1, account="CCC"), now=0.0)


# --- LinkSupervisor -------------------------------------------------------------------------------


def test_link_lost_and_restored_reported_once() -> None:
    sup = LinkSupervisor(intervals={"aaa": 60.0})
    assert sup.poll(now=0.0) == []  # watched, never heard: the clock starts now
    assert sup.poll(now=60.0) == []
    assert sup.poll(now=60.5) == [LinkEvent("AAA", LinkChange.LOST, 60.5, 60.5)]
    assert sup.poll(now=500.0) == []  # reported once
    assert sup.lost_accounts() == ["AAA"]
    assert sup.alive("AAA", now=600.0) == LinkEvent("AAA", LinkChange.RESTORED, 600.0, 600.0)
    assert sup.alive("AAA", now=601.0) is None  # reported once
    assert not sup.is_lost("AAA")
    assert sup.poll(now=661.0) == []
    assert [e.change for e in sup.poll(now=661.5)] == [LinkChange.LOST]


def test_any_message_counts_as_life() -> None:
    sup = LinkSupervisor(intervals={"AAA": 10.0})
    sup.poll(now=0.0)
    for t in range(5, 100, 5):
        assert sup.alive("AAA", now=float(t)) is None
        assert sup.poll(now=float(t) + 4.0) == []


def test_default_interval_watches_accounts_once_heard() -> None:
    sup = LinkSupervisor(default_interval=30.0)
    assert sup.poll(now=1000.0) == []
    assert sup.alive("BBB", now=0.0) is None
    assert [(e.account, e.change) for e in sup.poll(now=31.0)] == [("BBB", LinkChange.LOST)]
    assert LinkSupervisor().alive("CCC", now=0.0) is None  # unsupervised
    assert not LinkSupervisor().active
    with pytest.raises(ValueError):
        LinkSupervisor(intervals={"AAA": 0.0})


# --- real sockets ---------------------------------------------------------------------------------


class Sink:
    def __init__(self, *, fail: int = 0) -> None:
        self.messages: list[tuple[Dc09Message, str]] = []
        self.links: list[LinkEvent] = []
        self.fail = fail
        self.link_seen = asyncio.Event()

    def on_message(self, message: Dc09Message, peer: str) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("store unavailable")
        self.messages.append((message, peer))

    def on_link(self, event: LinkEvent) -> None:
        self.links.append(event)
        self.link_seen.set()


@pytest.fixture
def sink() -> Sink:
    return Sink()


def server_for(sink: Sink, **kw: Any) -> Dc09Server:
    kw.setdefault("utc_clock", lambda: NOW)
    return Dc09Server(on_message=sink.on_message, on_link=sink.on_link, **kw)


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.readuntil(b"\r"), 5)


async def tcp_client(server: Dc09Server) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    assert server.tcp_port is not None
    return await asyncio.open_connection("127.0.0.1", server.tcp_port)


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    await writer.wait_closed()


async def test_tcp_ack_and_duplicate_delivered_once(sink: Sink) -> None:
    async with server_for(sink, port_udp=None) as server:
        reader, writer = await tcp_client(server)
        writer.write(PANIC)
        first = await read_frame(reader)
        writer.write(PANIC)  # a retransmission: the panel did not see the first ACK
        second = await read_frame(reader)
        await close(writer)
    assert first == second == encode_response("ACK", sequence=1, account="AAA", prefix="0")
    assert len(sink.messages) == 1
    message, peer = sink.messages[0]
    assert (message.token, message.data) == (Dc09Token.SIA_DCS, "#AAA|Nri0/ZY0")
    assert peer.startswith("127.0.0.1:")
    assert server.stats.duplicates == 1
    assert server.counters.frames_ok == 2


async def test_tcp_bad_crc_gets_no_answer(sink: Sink) -> None:
    bad = PANIC.replace(b"5335", b"5336")
    async with server_for(sink, port_udp=None) as server:
        reader, writer = await tcp_client(server)
        writer.write(bad + NULL)
        reply = await read_frame(reader)  # the first answer is the NULL's: nothing for the bad frame
        await close(writer)
    assert reply == encode_response("ACK", sequence=0, account="AAA", prefix="0")
    assert server.counters.crc_errors == 1
    assert sink.messages == []  # link tests are not delivered


async def test_tcp_split_and_merged_segments(sink: Sink) -> None:
    frames = [
        encode_frame(token="SIA-DCS", sequence=s, account="1234", data=f"#1234|Nri1/PA{s:02d}") for s in (1, 2, 3)
    ]
    stream = b"".join(frames)
    async with server_for(sink, port_udp=None) as server:
        reader, writer = await tcp_client(server)
        for cut in (5, 40, 41, 90, len(stream)):
            writer.write(stream[:cut])
            stream = stream[cut:]
            await writer.drain()
            await asyncio.sleep(0)
        replies = [await read_frame(reader) for _ in range(3)]
        await close(writer)
    assert [m.sequence for m, _ in sink.messages] == [1, 2, 3]
    assert list(replies) == [encode_response("ACK", sequence=s, account="1234", prefix="0") for s in (1, 2, 3)]


async def test_tcp_encrypted_message_gets_encrypted_ack(sink: Sink) -> None:
    key = bytes(range(32))
    tx = Dc09Transmitter(account="5A5A", key=key)
    async with server_for(sink, port_udp=None, keys={"5A5A": key}) as server:
        reader, writer = await tcp_client(server)
        seq, frame = tx.frame("ADM-CID", "#5A5A|1120 01 003", now=NOW - timedelta(seconds=2))
        writer.write(frame)
        (ack,) = tx.feed(await read_frame(reader))
        await close(writer)
    assert (ack.kind, ack.encrypted, ack.sequence, ack.timestamp) == (ResponseKind.ACK, True, seq, NOW)
    assert sink.messages[0][0].data == "#5A5A|1120 01 003"


async def test_tcp_stale_message_gets_nak_and_is_not_delivered(sink: Sink) -> None:
    frame = encode_frame(token="SIA-DCS", sequence=4, account="AAA", data="#AAA|Nri0/PA01", timestamp=NOW)
    rejected: list[tuple[Dc09Decoded, str]] = []
    async with server_for(
        sink,
        port_udp=None,
        utc_clock=lambda: NOW + timedelta(minutes=5),
        on_rejected=lambda decoded, peer: rejected.append((decoded, peer)),
    ) as server:
        reader, writer = await tcp_client(server)
        writer.write(frame)
        (nak,) = Dc09ResponseDecoder().feed(await read_frame(reader))
        await close(writer)
    assert (nak.kind, nak.timestamp) == (ResponseKind.NAK, NOW + timedelta(minutes=5))
    assert sink.messages == []
    assert server.counters.naks == 1
    ((decoded, peer),) = rejected
    assert (decoded.verdict, decoded.reason, decoded.sequence) == (ResponseKind.NAK, "time-window", 4)
    assert decoded.message is not None
    assert decoded.message.data == "#AAA|Nri0/PA01"
    assert peer.startswith("127.0.0.1:")


async def test_failed_hand_off_is_not_acked_and_the_retry_is_delivered() -> None:
    sink = Sink(fail=1)
    async with server_for(sink, port_udp=None) as server:
        reader, writer = await tcp_client(server)
        writer.write(PANIC + NULL)
        first = await read_frame(reader)
        writer.write(PANIC)  # the panel retries
        second = await read_frame(reader)
        await close(writer)
    assert first == encode_response("ACK", sequence=0, account="AAA", prefix="0")  # the NULL's ACK only
    assert second == encode_response("ACK", sequence=1, account="AAA", prefix="0")
    assert len(sink.messages) == 1
    assert server.stats.callback_errors == 1


class UdpClient(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.replies: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.replies.put_nowait(data)

    async def next(self) -> bytes:
        return await asyncio.wait_for(self.replies.get(), 5)


async def test_udp_frames_acked_and_duplicates_delivered_once(sink: Sink) -> None:
    async with server_for(sink, port_tcp=None) as server:
        loop = asyncio.get_running_loop()
        transport, client = await loop.create_datagram_endpoint(
            UdpClient, remote_addr=("127.0.0.1", server.udp_port or 0)
        )
        try:
            second = encode_frame(token="ADM-CID", sequence=2, account="AAA", data="#AAA|1120 01 001")
            transport.sendto(PANIC.replace(b"5335", b"5336"))  # bad CRC: no answer
            transport.sendto(PANIC + second)  # two frames in one datagram
            replies = [await client.next(), await client.next()]
            transport.sendto(PANIC)  # retransmission
            replies.append(await client.next())
            transport.sendto(PANIC[:20])  # a partial frame is dropped with the datagram
            transport.sendto(NULL)
            replies.append(await client.next())
        finally:
            transport.close()
    acks = [Dc09ResponseDecoder().feed(r)[0] for r in replies]
    assert [(a.kind, a.sequence) for a in acks] == [(ResponseKind.ACK, s) for s in (1, 2, 1, 0)]
    assert [m.sequence for m, _ in sink.messages] == [1, 2]
    assert server.counters.crc_errors == 1
    assert server.counters.length_errors == 1
    assert server.stats.duplicates == 1


async def test_link_supervision_through_the_server(sink: Sink) -> None:
    clock = [0.0]
    async with server_for(
        sink, port_udp=None, link_intervals={"AAA": 60.0}, supervision_period=3600.0, monotonic=lambda: clock[0]
    ) as server:
        assert server.poll_links() == []
        clock[0] = 61.0
        assert [e.change for e in server.poll_links()] == [LinkChange.LOST]
        assert server.poll_links() == []
        reader, writer = await tcp_client(server)
        writer.write(NULL)
        await read_frame(reader)
        await close(writer)
    assert [(e.account, e.change) for e in sink.links] == [("AAA", LinkChange.LOST), ("AAA", LinkChange.RESTORED)]


async def test_background_supervision_reports_lost_link(sink: Sink) -> None:
    async with server_for(sink, port_udp=None, link_intervals={"AAA": 0.05}, supervision_period=0.02):
        await asyncio.wait_for(sink.link_seen.wait(), 5)
    assert sink.links[0].change is LinkChange.LOST


async def test_idle_connection_is_closed(sink: Sink) -> None:
    async with server_for(sink, port_udp=None, idle_timeout=0.05) as server:
        reader, writer = await tcp_client(server)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        await close(writer)
        assert server.stats.idle_closed == 1


async def test_connection_limit(sink: Sink) -> None:
    async with server_for(sink, port_udp=None, max_connections=1) as server:
        r1, w1 = await tcp_client(server)
        r2, w2 = await tcp_client(server)
        with contextlib.suppress(ConnectionResetError):
            assert await asyncio.wait_for(r2.read(), 5) == b""
        w1.write(NULL)
        await read_frame(r1)
        await close(w1)
        w2.close()
        assert server.stats.refused_connections == 1


async def test_start_helper_and_settings_are_checked(sink: Sink) -> None:
    server = await start_dc09_server(on_message=sink.on_message, port_udp=None)
    try:
        assert server.tcp_port is not None
        assert server.udp_port is None
    finally:
        await server.close()
    with pytest.raises(ValueError, match="16, 24 or 32"):
        Dc09Server(on_message=sink.on_message, keys={"AAA": b"short"})
    with pytest.raises(ValueError, match="at least one"):
        Dc09Server(on_message=sink.on_message, port_tcp=None, port_udp=None)


# --- an on_message that awaits (the alarm is saved off the event loop before the ACK) -------------


def frame(seq: int, account: str = "AAA") -> bytes:
    return encode_frame(token="SIA-DCS", sequence=seq, account=account, data=f"#{account}|Nri0/PA{seq:02d}")


def ack(seq: int, account: str = "AAA") -> bytes:
    return encode_response("ACK", sequence=seq, account=account, prefix="0")


class AsyncSink:
    """An awaiting hand-off: each message waits for its gate (open unless closed by the test)."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.entered: dict[int, asyncio.Event] = {}
        self.gates: dict[int, asyncio.Event] = {}
        self.fail: set[int] = set()
        self.before_return: dict[int, bytes] = {}
        self.peek: socket.socket | None = None

    def hold(self, seq: int) -> asyncio.Event:
        self.gates[seq] = asyncio.Event()
        return self.gates[seq]

    def entered_event(self, seq: int) -> asyncio.Event:
        return self.entered.setdefault(seq, asyncio.Event())

    async def on_message(self, message: Dc09Message, peer: str) -> None:
        seq = message.sequence
        self.log.append(f"start {message.account} {seq}")
        self.entered_event(seq).set()
        if seq in self.gates:
            await self.gates[seq].wait()
        for _ in range(5):  # an ACK sent too early would reach the client's socket meanwhile
            await asyncio.sleep(0)
        if self.peek is not None:
            self.before_return[seq] = peek(self.peek)
        if seq in self.fail:
            self.fail.discard(seq)
            self.log.append(f"fail {message.account} {seq}")
            raise RuntimeError("store unavailable")
        self.log.append(f"end {message.account} {seq}")


def peek(sock: socket.socket) -> bytes:
    try:
        return sock.recv(4096, socket.MSG_PEEK)
    except BlockingIOError:
        return b""


async def raw_client(server: Dc09Server) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.tcp_port or 0))
    return sock


async def recv_frames(sock: socket.socket, n: int) -> list[bytes]:
    loop, data = asyncio.get_running_loop(), b""
    while data.count(b"\r") < n:
        chunk = await asyncio.wait_for(loop.sock_recv(sock, 4096), 5)
        assert chunk, "connection closed"
        data += chunk
    return [f + b"\r" for f in data.split(b"\r")[:n]]


def async_server(sink: AsyncSink, **kw: Any) -> Dc09Server:
    kw.setdefault("utc_clock", lambda: NOW)
    return Dc09Server(on_message=sink.on_message, **kw)


async def test_awaiting_hand_off_is_acked_only_after_it_returns() -> None:
    sink = AsyncSink()
    gate = sink.hold(1)
    async with async_server(sink, port_udp=None) as server:
        with await raw_client(server) as sock:
            sink.peek = sock
            await asyncio.get_running_loop().sock_sendall(sock, frame(1))
            await asyncio.wait_for(sink.entered_event(1).wait(), 5)
            gate.set()
            assert await recv_frames(sock, 1) == [ack(1)]
    assert sink.before_return == {1: b""}  # nothing had reached the panel while the hand-off ran
    assert sink.log == ["start AAA 1", "end AAA 1"]
    assert (server.stats.delivered, server.stats.callback_errors) == (1, 0)


async def test_frames_of_one_connection_are_handled_and_answered_in_order() -> None:
    sink = AsyncSink()
    gate = sink.hold(1)
    async with async_server(sink, port_udp=None) as server:
        with await raw_client(server) as sock:
            await asyncio.get_running_loop().sock_sendall(sock, frame(1) + NULL + frame(2) + frame(1) + frame(3))
            await asyncio.wait_for(sink.entered_event(1).wait(), 5)
            for _ in range(5):
                await asyncio.sleep(0)
            assert sink.log == ["start AAA 1"]  # the frames behind it wait, the link test too
            assert peek(sock) == b""
            gate.set()
            replies = await recv_frames(sock, 5)
    assert replies == [ack(1), ack(0), ack(2), ack(1), ack(3)]  # the repeated 1 is a retransmission: ACKed again
    assert sink.log == ["start AAA 1", "end AAA 1", "start AAA 2", "end AAA 2", "start AAA 3", "end AAA 3"]
    assert (server.stats.delivered, server.stats.duplicates) == (3, 1)


async def test_a_waiting_connection_does_not_hold_up_another() -> None:
    sink = AsyncSink()
    gate = sink.hold(1)
    async with async_server(sink, port_udp=None) as server:
        with await raw_client(server) as slow, await raw_client(server) as fast:
            loop = asyncio.get_running_loop()
            await loop.sock_sendall(slow, frame(1))
            await asyncio.wait_for(sink.entered_event(1).wait(), 5)
            await loop.sock_sendall(fast, frame(7, account="BBB") + NULL)
            assert await recv_frames(fast, 2) == [ack(7, "BBB"), ack(0)]
            assert not gate.is_set()
            assert peek(slow) == b""
            gate.set()
            assert await recv_frames(slow, 1) == [ack(1)]
    assert sink.log == ["start AAA 1", "start BBB 7", "end BBB 7", "end AAA 1"]


async def test_an_awaiting_hand_off_that_raises_gets_no_ack_and_the_retry_is_delivered() -> None:
    sink = AsyncSink()
    sink.fail.add(1)
    async with async_server(sink, port_udp=None) as server:
        with await raw_client(server) as sock:
            loop = asyncio.get_running_loop()
            await loop.sock_sendall(sock, frame(1) + NULL)
            assert await recv_frames(sock, 1) == [ack(0)]  # the NULL's ACK only
            await loop.sock_sendall(sock, frame(1))  # the panel retries
            assert await recv_frames(sock, 1) == [ack(1)]
    assert sink.log == ["start AAA 1", "fail AAA 1", "start AAA 1", "end AAA 1"]
    assert (server.stats.delivered, server.stats.callback_errors) == (1, 1)


async def test_a_retransmission_on_another_connection_waits_for_the_first_copy() -> None:
    sink = AsyncSink()
    gate = sink.hold(1)
    async with async_server(sink, port_udp=None) as server:
        with await raw_client(server) as first, await raw_client(server) as second:
            loop = asyncio.get_running_loop()
            await loop.sock_sendall(first, frame(1))
            await asyncio.wait_for(sink.entered_event(1).wait(), 5)
            await loop.sock_sendall(second, frame(1))  # the panel gave up on the first connection
            await loop.sock_sendall(second, NULL)
            for _ in range(5):
                await asyncio.sleep(0)
            assert peek(second) == b""  # not ACKed before the first copy is saved
            gate.set()
            assert await recv_frames(second, 2) == [ack(1), ack(0)]
            assert await recv_frames(first, 1) == [ack(1)]
    assert sink.log == ["start AAA 1", "end AAA 1"]
    assert (server.stats.delivered, server.stats.duplicates) == (1, 1)


async def test_udp_datagrams_of_one_sender_wait_in_order_and_others_do_not() -> None:
    sink = AsyncSink()
    gate = sink.hold(1)
    async with async_server(sink, port_tcp=None) as server:
        loop = asyncio.get_running_loop()
        remote = ("127.0.0.1", server.udp_port or 0)
        t1, c1 = await loop.create_datagram_endpoint(UdpClient, remote_addr=remote)
        t2, c2 = await loop.create_datagram_endpoint(UdpClient, remote_addr=remote)
        try:
            t1.sendto(frame(1))
            await asyncio.wait_for(sink.entered_event(1).wait(), 5)
            t1.sendto(frame(2))
            t2.sendto(frame(5, account="BBB"))
            assert await c2.next() == ack(5, "BBB")
            assert c1.replies.empty()
            gate.set()
            assert [await c1.next(), await c1.next()] == [ack(1), ack(2)]
        finally:
            t1.close()
            t2.close()
    assert sink.log == ["start AAA 1", "start BBB 5", "end BBB 5", "end AAA 1", "start AAA 2", "end AAA 2"]


async def test_close_while_a_hand_off_waits_leaves_nothing_running() -> None:
    sink = AsyncSink()
    sink.hold(1)
    server = async_server(sink, port_udp=None)
    await server.start()
    with await raw_client(server) as sock:
        await asyncio.get_running_loop().sock_sendall(sock, frame(1) + frame(2))
        await asyncio.wait_for(sink.entered_event(1).wait(), 5)
        await server.close()
        assert peek(sock) == b""  # never ACKed: the panel sends it again to the next receiver
    assert server._tasks == set()
    assert server._inflight == {}
    assert sink.log == ["start AAA 1"]
