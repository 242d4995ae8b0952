"""DC-09 from the street: the intake's policy on real sockets (127.0.0.x), with the real alarm component.

Cleartext for a keyed account, an unlisted account, a source address outside a school's allow-list, a
spoofed flood of panics from one account, and many idle connections from one address while the school's
panel (the simulator) still gets its ACK.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from drivers.dc09.codec import Dc09Token, ResponseKind
from drivers.dc09.contact_id import EventQualifier, build_adm_cid_data
from drivers.dc09.sender import Dc09ResponseDecoder, Dc09Transmitter
from edge.alarms.component import AlarmComponent
from edge.config.alarms import AlarmsSection
from edge.sim.school import PanelLink, SchoolPanel
from tests.support.context import FakeContext

KEY = "000102030405060708090a0b0c0d0e0f"
ATTACKER = "127.0.0.2"  # the whole of 127/8 is loopback on Linux: a second source address
SCHOOLS: list[dict[str, Any]] = [
    {"account": "1234", "name": "阳光小学", "key": KEY},
    {"account": "2001", "name": "明德中学"},  # a cleartext panel (no key)
    {"account": "3001", "name": "旧城小学", "key": KEY, "allow_cleartext": True},  # a legacy panel
    {"account": "4001", "name": "海湾小学", "sources": ["127.0.0.1/32"]},
]


def config(report_s: float = 0.2, **dc09: Any) -> AlarmsSection:
    return AlarmsSection.model_validate(
        {
            "enabled": True,
            "rejected_report_s": report_s,
            "schools": SCHOOLS,
            "dc09": {"host": "127.0.0.1", "port_tcp": 0, "port_udp": 0, **dc09},
        }
    )


@pytest.fixture
async def station(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[tuple[AlarmComponent, FakeContext]]:
    """`@pytest.mark.report_s(S)`: another report period (a test counting per-period lines takes one no
    scan can outlast, however loaded the machine: the counts do not depend on its speed)."""
    mark = request.node.get_closest_marker("report_s")
    report_s = float(mark.args[0]) if mark else 0.2
    comp = AlarmComponent(
        config(
            report_s,
            alarm_limit=5,
            max_connections_per_host=4,
            first_frame_timeout_s=30,
            udp_rate_per_host=10_000,  # the floods here stand for many spoofed addresses (see the test of the rate)
            udp_burst_per_host=100_000,
        )
    )
    ctx = FakeContext(tmp_path)
    await comp.start(ctx)
    try:
        yield comp, ctx
    finally:
        await comp.stop()


def ports(comp: AlarmComponent) -> tuple[int, int]:
    server = comp.dc09.server
    assert server is not None and server.tcp_port is not None and server.udp_port is not None
    return server.tcp_port, server.udp_port


def panel(account: str, *, key: str | None = None, zone: int = 1) -> SchoolPanel:
    return SchoolPanel(Dc09Transmitter(account=account, key=bytes.fromhex(key) if key else None), zone=zone)


async def press(comp: AlarmComponent, school: SchoolPanel, *, source: str = "127.0.0.1") -> ResponseKind | None:
    """One panic over TCP from ``source``; the receiver's answer."""
    tcp, _ = ports(comp)
    _, frame = school.frame("panic")
    reader, writer = await asyncio.open_connection("127.0.0.1", tcp, local_addr=(source, 0))
    try:
        writer.write(frame)
        data = await asyncio.wait_for(reader.readuntil(b"\r"), 5)
    finally:
        writer.close()
        await writer.wait_closed()
    [answer] = Dc09ResponseDecoder(keys={school.tx.account: bytes.fromhex(KEY)}).feed(data)
    return answer.kind


def incidents(comp: AlarmComponent, account: str) -> int:
    return sum(1 for i in comp.book if i.source.account == account)


async def until(predicate: Any, what: str) -> Any:
    for _ in range(500):
        if result := predicate():
            return result
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


def fault(ctx: FakeContext, code: str) -> str:
    return next((f.message for f in ctx.faults.active() if f.code == code), "")


async def test_cleartext_for_a_keyed_account_is_refused_and_counted(
    station: tuple[AlarmComponent, FakeContext],
) -> None:
    comp, ctx = station
    assert await press(comp, panel("1234")) is ResponseKind.DUH  # cleartext, but the school has a key
    assert incidents(comp, "1234") == 0
    assert "cleartext frames refused" in fault(ctx, "alarm.dc09.refused.1234")
    report = await until(lambda: [d for t, d in ctx.events if t == "alarm.rejected_frame"], "the counter event")
    assert report[0]["account"] == "1234" and report[0]["reasons"] == {"encryption-required": 1}
    assert await press(comp, panel("1234", key=KEY)) is ResponseKind.ACK  # encrypted: accepted
    assert await press(comp, panel("3001")) is ResponseKind.ACK  # allow_cleartext: the legacy panel's opt-out
    assert incidents(comp, "1234") == 1 and incidents(comp, "3001") == 1


@pytest.mark.report_s(600)
async def test_unlisted_accounts_are_refused_with_one_rate_limited_fault(
    station: tuple[AlarmComponent, FakeContext], caplog: pytest.LogCaptureFixture
) -> None:
    comp, ctx = station
    caplog.set_level(logging.INFO)
    updates: list[str] = []
    ctx.faults.subscribe(lambda code, f: updates.append(code) if code.endswith(".unlisted") else None)
    for i in range(100):  # a scan of made-up accounts
        assert await press(comp, panel(f"9{i:03d}")) is ResponseKind.DUH
    assert not list(comp.book)
    text = fault(ctx, "alarm.dc09.refused.unlisted")
    assert "account 9000" in text and "not listed in alarms.schools" in text
    assert len(updates) == 1  # once per report period (here one period holds the whole scan), not per frame
    lines = [r for r in caplog.records if r.name == "drivers.dc09.receiver" and "unlisted" in r.getMessage()]
    assert len(lines) == 33  # one per account for the first 32 (RefusalLog.max_keys), then one shared line
    assert comp.dc09.server is not None and comp.dc09.server.stats.screened == 100


async def test_a_frame_from_outside_the_schools_sources_is_refused_and_counted(
    station: tuple[AlarmComponent, FakeContext],
) -> None:
    comp, ctx = station
    assert await press(comp, panel("4001"), source=ATTACKER) is ResponseKind.DUH
    assert incidents(comp, "4001") == 0
    assert "from 127.0.0.2, outside the school's sources" in fault(ctx, "alarm.dc09.refused.4001")
    assert await press(comp, panel("4001")) is ResponseKind.ACK
    assert incidents(comp, "4001") == 1
    report = await until(lambda: [d for t, d in ctx.events if t == "alarm.rejected_frame"], "the counter event")
    assert report[0]["reasons"] == {"source-not-allowed": 1}


class Flood(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answers: list[ResponseKind] = []
        self.decoder = Dc09ResponseDecoder()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.answers.extend(a.kind for a in self.decoder.feed(data))


async def test_a_spoofed_udp_flood_opens_a_bounded_number_of_incidents(
    station: tuple[AlarmComponent, FakeContext], caplog: pytest.LogCaptureFixture
) -> None:
    comp, ctx = station
    _, udp = ports(comp)
    caplog.set_level(logging.INFO)
    tx = Dc09Transmitter(account="2001")
    flood = Flood()
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: flood, remote_addr=("127.0.0.1", udp)
    )
    try:
        for batch in range(10):  # 500 panics of 500 zones, in batches (no loss in the socket buffers)
            for zone in range(batch * 50 + 1, batch * 50 + 51):
                data = build_adm_cid_data(account="2001", qualifier=EventQualifier.NEW, code=120, group=1, zone=zone)
                transport.sendto(tx.frame(Dc09Token.ADM_CID, data)[1])
            await until(lambda n=batch: len(flood.answers) >= (n + 1) * 50, "the batch's answers")
    finally:
        transport.close()
    assert flood.answers == [ResponseKind.ACK] * 500  # the panel (real or not) stops resending
    assert incidents(comp, "2001") == 5  # alarm_limit per window
    assert comp.dc09.rate.refused == {"2001": 495}
    flood_fault = fault(ctx, "alarm.dc09.refused.2001")  # its count is updated once per report period
    assert "明德中学 (2001)" in flood_fault and "alarms over the limit of 5 per 60 s not raised" in flood_fault
    report = await until(lambda: [d for t, d in ctx.events if t == "alarm.rejected_frame"], "the counter event")
    assert sum(r["reasons"].get("rate-limited", 0) for r in report) >= 1
    assert len([r for r in caplog.records if "2001" in r.getMessage()]) < 10  # no line per frame
    # a genuine press of another school is unaffected
    assert await press(comp, panel("1234", key=KEY)) is ResponseKind.ACK
    assert incidents(comp, "1234") == 1


async def test_idle_connections_from_one_address_do_not_keep_the_schools_panel_out(
    station: tuple[AlarmComponent, FakeContext],
) -> None:
    comp, _ = station
    tcp, _ = ports(comp)
    server = comp.dc09.server
    assert server is not None
    loop = asyncio.get_running_loop()
    hogs: list[socket.socket] = []
    link = PanelLink(host="127.0.0.1", port=tcp, keys={"1234": bytes.fromhex(KEY)})
    try:
        for i in range(64):
            sock = socket.socket()
            sock.setblocking(False)
            sock.bind((ATTACKER, 0))
            await loop.sock_connect(sock, ("127.0.0.1", tcp))
            if i % 2:
                await loop.sock_sendall(sock, b"\n9EC4")  # slow: a frame that never ends
            hogs.append(sock)
        await until(lambda: server.stats.connections + server.stats.refused_connections >= 64, "all 64 handled")
        assert server.active_connections == 4 and server.stats.refused_per_host == 60
        await link.open()
        answer = await link.exchange(panel("1234", key=KEY).frame("panic")[1], timeout=5)
        assert answer is not None and answer.kind is ResponseKind.ACK and answer.encrypted
    finally:
        await link.close()
        for sock in hogs:
            sock.close()
    assert incidents(comp, "1234") == 1


def test_config_defaults_and_errors() -> None:
    dc = config().dc09
    assert dc is not None
    assert dc.host == "127.0.0.1" and dc.require_encryption and dc.max_connections_per_host == 8
    with pytest.raises(ValidationError, match=r"schools\.0\.sources\.0"):
        AlarmsSection.model_validate({"schools": [{"account": "1234", "name": "x", "sources": ["10.0.0.1/8"]}]})


async def test_a_datagram_flood_from_one_address_is_dropped_unread_and_other_panels_are_answered(
    tmp_path: Path,
) -> None:
    """The default per-address UDP rate (5/s, bursts of 20): a flood from one address costs a lookup per
    datagram (no decryption, no answer, no incident past the burst); a panel elsewhere still gets its ACK."""
    comp = AlarmComponent(config(alarm_limit=1000))
    ctx = FakeContext(tmp_path)
    await comp.start(ctx)
    try:
        _, udp = ports(comp)
        server = comp.dc09.server
        assert server is not None
        tx = Dc09Transmitter(account="2001")
        flood = Flood()
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: flood, local_addr=(ATTACKER, 0), remote_addr=("127.0.0.1", udp)
        )
        started = time.monotonic()
        try:
            for batch in range(6):  # 300 panics from one address, in batches (no loss in the socket buffers)
                for zone in range(batch * 50 + 1, batch * 50 + 51):
                    data = build_adm_cid_data(
                        account="2001", qualifier=EventQualifier.NEW, code=120, group=1, zone=zone
                    )
                    transport.sendto(tx.frame(Dc09Token.ADM_CID, data)[1])
                await until(lambda n=batch: server.stats.datagrams >= (n + 1) * 50, "the batch to arrive")
            elapsed = time.monotonic() - started
            assert await press(comp, panel("1234", key=KEY)) is ResponseKind.ACK  # another address: answered
        finally:
            transport.close()
        allowed = 20 + 5 * elapsed + 1  # the burst, then the rate over the time the flood took
        assert server.stats.datagrams_dropped >= 300 - allowed
        assert len(flood.answers) <= allowed and incidents(comp, "2001") <= allowed
        assert incidents(comp, "1234") == 1
    finally:
        await comp.stop()
