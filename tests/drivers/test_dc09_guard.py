"""DC-09 receiver defences: policy refusals (DUH), per-address connection limits, the first-frame deadline,
rate-limited refusal logs, the per-account cleartext opt-out. Sans-IO parts, then real sockets on 127.0.0.x."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from datetime import UTC, datetime

import pytest

from drivers.dc09.codec import Dc09Decoded, Dc09Decoder, Dc09Message, ResponseKind, encode_frame, encode_response
from drivers.dc09.guard import ConnectionQuota, Refusal, RefusalLog, SourceRate, peer_host
from drivers.dc09.receiver import Dc09Server, LinkEvent

NOW = datetime(2024, 3, 1, 8, 30, 0, tzinfo=UTC)
KEY = bytes(range(16))
ATTACKER = "127.0.0.2"  # the whole of 127/8 is loopback on Linux: a second source address


def frame(seq: int, account: str = "AAA", *, key: bytes | None = None) -> bytes:
    return encode_frame(
        token="SIA-DCS",
        sequence=seq,
        account=account,
        data=f"#{account}|Nri0/PA{seq:02d}",
        key=key,
        timestamp=NOW if key else None,
        rng=lambda n: b"\0" * n,
    )


def ack(seq: int, account: str = "AAA") -> bytes:
    return encode_response("ACK", sequence=seq, account=account, prefix="0")


# --- sans-IO ---------------------------------------------------------------------------------------


def test_refusal_log_writes_one_line_per_key_per_interval_with_counts() -> None:
    log = RefusalLog(interval=60.0, max_keys=2)
    lines = [log.note("account 1234", "DUH unlisted", now=float(t) / 10) for t in range(500)]
    assert [line for line in lines if line] == ["account 1234: DUH unlisted"]
    assert log.flush(now=59.0) == []
    assert log.flush(now=60.0) == ["account 1234: 499 more refused in 60 s: DUH unlisted x499"]
    # made-up accounts beyond max_keys share one key ("other": its first line at once, then counted)
    for i in range(100):
        log.note(f"account {i:04X}", "DUH unlisted", now=100.0)
    assert log.flush(now=160.0) == ["other: 97 more refused in 60 s: DUH unlisted x97"]


def test_peer_host_and_connection_quota() -> None:
    assert peer_host("10.1.2.3:5000") == "10.1.2.3"
    assert peer_host("[fe80::1]:5000") == "fe80::1"
    quota = ConnectionQuota(2)
    assert quota.acquire("a") and quota.acquire("a") and not quota.acquire("a") and quota.acquire("b")
    quota.release("a")
    assert quota.acquire("a") and quota.open("a") == 2
    with pytest.raises(ValueError, match="per_host"):
        ConnectionQuota(0)


def test_keyed_account_cleartext_refused_unless_allowed() -> None:
    strict = Dc09Decoder(keys={"AAA": KEY, "BBB": KEY}, require_encryption=True, cleartext_allowed=["bbb"])
    [refused, legacy, sealed] = strict.feed(frame(1) + frame(2, "BBB") + frame(3, key=KEY), now=NOW)
    assert (refused.verdict, refused.reason) == (ResponseKind.DUH, "encryption-required")
    assert legacy.verdict is ResponseKind.ACK and sealed.verdict is ResponseKind.ACK


# --- real sockets ----------------------------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.messages: list[Dc09Message] = []
        self.rejected: list[Dc09Decoded] = []
        self.links: list[LinkEvent] = []

    def on_message(self, message: Dc09Message, peer: str) -> None:
        self.messages.append(message)

    def on_rejected(self, decoded: Dc09Decoded, peer: str) -> None:
        self.rejected.append(decoded)


def only_aaa_from_localhost(message: Dc09Message, peer: str) -> Refusal | None:
    if message.account.upper() != "AAA":
        return Refusal("unlisted-account", counts_as_life=True)
    return None if peer_host(peer) == "127.0.0.1" else Refusal("source-not-allowed")


async def exchange(port: int, data: bytes, *, source: str = "127.0.0.1") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    try:
        writer.write(data)
        return await asyncio.wait_for(reader.readuntil(b"\r"), 5)
    finally:
        writer.close()
        await writer.wait_closed()


async def test_screened_frames_are_answered_duh_not_delivered_and_reported() -> None:
    sink = Sink()
    async with Dc09Server(
        on_message=sink.on_message,
        on_rejected=sink.on_rejected,
        port_udp=None,
        screen=only_aaa_from_localhost,
        utc_clock=lambda: NOW,
        link_intervals={"AAA": 60},
    ) as server:
        assert server.tcp_port is not None
        assert await exchange(server.tcp_port, frame(1)) == ack(1)
        unlisted = await exchange(server.tcp_port, frame(2, "BBB"))
        spoofed = await exchange(server.tcp_port, frame(3), source=ATTACKER)
    assert unlisted == encode_response("DUH", sequence=2, account="BBB", prefix="0")
    assert spoofed == encode_response("DUH", sequence=3, account="AAA", prefix="0")
    assert [m.sequence for m in sink.messages] == [1]
    assert [(r.account, r.reason) for r in sink.rejected] == [
        ("BBB", "unlisted-account"),
        ("AAA", "source-not-allowed"),
    ]
    assert sink.rejected[1].message is not None  # kept for diagnostics (a refused panic is shown as such)
    assert server.stats.screened == 2 and server.counters.duhs == 2


async def test_a_spoofed_frame_does_not_keep_a_link_alive() -> None:
    sink = Sink()
    clock = [0.0]
    async with Dc09Server(
        on_message=sink.on_message,
        port_tcp=None,
        screen=only_aaa_from_localhost,
        utc_clock=lambda: NOW,
        monotonic=lambda: clock[0],
        link_intervals={"AAA": 60},
    ) as server:
        assert server.udp_port is not None
        loop = asyncio.get_running_loop()
        for source, seq, at in (("127.0.0.1", 1, 0.0), (ATTACKER, 2, 50.0)):  # the panel, then a spoofer
            clock[0] = at
            transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, local_addr=(source, 0))
            try:
                transport.sendto(frame(seq), ("127.0.0.1", server.udp_port))
                for _ in range(500):
                    if len(sink.messages) + server.stats.screened == seq:
                        break
                    await asyncio.sleep(0.01)
            finally:
                transport.close()
        assert server.stats.screened == 1
        clock[0] = 61.0  # 61 s after the panel's frame, 11 s after the spoofed one
        [lost] = server.poll_links()
    assert lost.account == "AAA" and [m.sequence for m in sink.messages] == [1]


async def test_idle_connections_from_one_address_do_not_keep_the_panel_out(caplog: pytest.LogCaptureFixture) -> None:
    """64 idle or trickling connections from one address; the real panel (another address) still gets its ACK."""
    sink = Sink()
    caplog.set_level(logging.INFO, logger="drivers.dc09.receiver")
    async with Dc09Server(
        on_message=sink.on_message,
        port_udp=None,
        utc_clock=lambda: NOW,
        max_connections=16,
        max_connections_per_host=4,
        first_frame_timeout=60.0,
    ) as server:
        assert server.tcp_port is not None
        loop = asyncio.get_running_loop()
        hogs: list[socket.socket] = []
        try:
            for _ in range(64):
                sock = socket.socket()
                sock.setblocking(False)
                sock.bind((ATTACKER, 0))
                await loop.sock_connect(sock, ("127.0.0.1", server.tcp_port))
                await loop.sock_sendall(sock, b"\n5335")  # the start of a frame, never finished
                hogs.append(sock)
            for _ in range(500):  # every connection has been admitted or refused by the server
                if server.stats.connections + server.stats.refused_connections >= 64:
                    break
                await asyncio.sleep(0.01)
            assert server.active_connections == 4
            assert server.stats.refused_per_host == 60
            assert await exchange(server.tcp_port, frame(7)) == ack(7)  # the school's panel
        finally:
            for sock in hogs:
                sock.close()
    assert [m.sequence for m in sink.messages] == [7]
    refusal_lines = [r for r in caplog.records if "TCP connections from 127.0.0.2" in r.getMessage()]
    assert len(refusal_lines) == 1  # 60 refusals, one log line (the rest are counted)


async def test_a_connection_without_an_accepted_frame_is_closed_at_the_first_frame_deadline() -> None:
    sink = Sink()
    async with Dc09Server(
        on_message=sink.on_message,
        port_udp=None,
        utc_clock=lambda: NOW,
        idle_timeout=60.0,
        first_frame_timeout=0.2,
        screen=only_aaa_from_localhost,
    ) as server:
        assert server.tcp_port is not None
        slow_r, slow_w = await asyncio.open_connection("127.0.0.1", server.tcp_port)
        refused_r, refused_w = await asyncio.open_connection("127.0.0.1", server.tcp_port)
        good_r, good_w = await asyncio.open_connection("127.0.0.1", server.tcp_port)
        good_w.write(frame(1))
        assert await asyncio.wait_for(good_r.readuntil(b"\r"), 5) == ack(1)
        refused_w.write(frame(2, "BBB"))  # answered (DUH), but not an accepted frame
        await asyncio.wait_for(refused_r.readuntil(b"\r"), 5)

        async def trickle() -> None:
            with contextlib.suppress(ConnectionError):
                for byte in frame(3):
                    slow_w.write(bytes([byte]))
                    await asyncio.sleep(0.05)

        trickling = asyncio.create_task(trickle())
        with contextlib.suppress(ConnectionResetError):
            assert await asyncio.wait_for(slow_r.read(), 5) == b""
        with contextlib.suppress(ConnectionResetError):
            assert await asyncio.wait_for(refused_r.read(), 5) == b""
        trickling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await trickling
        assert server.stats.first_frame_closed == 2
        assert server.active_connections == 1  # the panel that sent an accepted frame stays connected
        good_w.write(frame(4))
        assert await asyncio.wait_for(good_r.readuntil(b"\r"), 5) == ack(4)
        for w in (slow_w, refused_w, good_w):
            w.close()


def test_source_rate_allows_a_burst_then_the_rate_per_address() -> None:
    rate = SourceRate(5.0, burst=20, max_sources=2)
    assert sum(rate.allow("10.0.0.9", now=0.0) for _ in range(100)) == 20  # the burst, then nothing
    assert rate.allow("10.0.0.1", now=0.0)  # another address is not affected
    assert sum(rate.allow("10.0.0.9", now=2.0) for _ in range(100)) == 10  # 2 s at 5/s
    # full table: a new address is refused until one of the tracked ones is back at a full bucket
    while rate.allow("10.0.0.1", now=2.0):
        pass
    assert not rate.allow("10.0.0.2", now=2.0)
    assert rate.allow("10.0.0.2", now=100.0) and rate.tracked() <= 2
    assert all(SourceRate(None).allow("x", now=0.0) for _ in range(1000))
