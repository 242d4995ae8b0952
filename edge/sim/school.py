"""Simulators of alarm inputs: school panels sending SIA DC-09 (`sim school`) and a Modbus I/O module
with panic buttons (`sim modbus`).

    police-kiosk sim school --host 127.0.0.1 --port 12000 [--udp] --account 1234 [--key HEX]
                            [--panic] [--restore] [--format cid|sia] [--zone 1] [--count N]
                            [--link-test-interval S] [--schools N] [--connections K] [--clock-offset S]
    police-kiosk sim modbus --port socket://127.0.0.1:5020|pty|/dev/ttyUSB1 [--unit 1] [--press N]
                            [--hold S] [--duration S]

`sim school` sends real frames (Contact ID in ADM-CID, or SIA DCS; encrypted with --key) and waits
for each answer. One round per school is a panic (--panic), a restore (--restore), or else a link test
(NULL); --count rounds are spaced --link-test-interval seconds apart (0 rounds: until Ctrl-C). With
--schools N the accounts are ACCOUNT, ACCOUNT+1, ... (hex). It prints one line per answer and exits 1
if any frame went unanswered or was refused. --clock-offset shifts the panel's clock (to see NAKs).

`sim modbus` serves pymodbus's RTU server as an 8-in/8-out module (latching inputs, latch coils from
16); it prints the port the daemon should open, presses --press N after start (released after --hold
seconds), and reads `press N`, `release N`, `tap N`, `status` lines from standard input.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from drivers.dc09.codec import Dc09Response, Dc09Token
from drivers.dc09.contact_id import EventQualifier, build_adm_cid_data
from drivers.dc09.sender import Dc09ResponseDecoder, Dc09Transmitter
from drivers.dc09.sia_dcs import build_sia_dcs

if TYPE_CHECKING:
    from drivers.modbus.sim import ModbusIoSimulator

__all__ = ["PanelLink", "SchoolPanel", "command", "school_accounts"]


class PanelLink:
    """One TCP connection (or UDP socket) to a DC-09 receiver; one frame at a time, waiting for its answer."""

    def __init__(self, *, host: str, port: int, udp: bool = False, keys: dict[str, bytes] | None = None) -> None:
        self.host, self.port, self.udp = host, port, udp
        self._decoder = Dc09ResponseDecoder(keys=keys)
        self._answers: asyncio.Queue[Dc09Response] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._udp: asyncio.DatagramTransport | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        if self.udp:
            link = self

            class _Proto(asyncio.DatagramProtocol):
                def datagram_received(self, data: bytes, addr: object) -> None:
                    link._received(data)

            self._udp, _ = await loop.create_datagram_endpoint(_Proto, remote_addr=(self.host, self.port))
            return
        reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._reader_task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(4096):
                self._received(data)

    def _received(self, data: bytes) -> None:
        for answer in self._decoder.feed(data):
            self._answers.put_nowait(answer)

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task

    async def exchange(self, frame: bytes, *, timeout: float) -> Dc09Response | None:
        """Send one frame; the first answer within ``timeout`` seconds, or None."""
        async with self._lock:
            while not self._answers.empty():
                self._answers.get_nowait()  # a late answer to an earlier frame
            if self._udp is not None:
                self._udp.sendto(frame)
            else:
                assert self._writer is not None
                self._writer.write(frame)
            try:
                return await asyncio.wait_for(self._answers.get(), timeout)
            except TimeoutError:
                return None


Action = Literal["panic", "restore", "link"]


@dataclass(slots=True)
class SchoolPanel:
    """The frames of one simulated school panel."""

    tx: Dc09Transmitter
    fmt: Literal["cid", "sia"] = "cid"
    zone: int = 1
    clock_offset: float = 0.0
    timestamps: bool = True

    def content(self, action: Action) -> tuple[Dc09Token, str]:
        """The token and data block of ``action``."""
        if action == "link":
            return Dc09Token.NULL, ""
        if self.fmt == "cid":
            q = EventQualifier.NEW if action == "panic" else EventQualifier.RESTORE
            return Dc09Token.ADM_CID, build_adm_cid_data(
                account=self.tx.account, qualifier=q, code=120, group=1, zone=self.zone
            )
        code = "PA" if action == "panic" else "PR"
        return Dc09Token.SIA_DCS, build_sia_dcs(account=self.tx.account, code=code, zone=f"{self.zone:02d}", area="1")

    def frame(self, action: Action, *, sequence: int | None = None) -> tuple[int, bytes]:
        """The next frame of ``action`` (or a retransmission of ``sequence``), stamped with the panel's clock."""
        now = datetime.now(UTC) + timedelta(seconds=self.clock_offset) if self.timestamps else None
        token, data = self.content(action)
        return self.tx.frame(token, data, now=now, sequence=sequence)


def school_accounts(first: str, count: int) -> list[str]:
    """``first``, ``first``+1, ... in hex, as wide as ``first``."""
    base = int(first, 16)
    return [f"{base + i:0{len(first)}X}" for i in range(count)]


async def _run_school(args: argparse.Namespace) -> int:
    key = bytes.fromhex(args.key) if args.key else None
    accounts = school_accounts(args.account, args.schools)
    panels = [
        SchoolPanel(
            Dc09Transmitter(account=a, key=key),
            fmt=args.format,
            zone=args.zone,
            clock_offset=args.clock_offset,
            timestamps=not args.no_timestamp or key is not None,
        )
        for a in accounts
    ]
    links = [
        PanelLink(host=args.host, port=args.port, udp=args.udp, keys=dict.fromkeys(accounts, key) if key else None)
        for _ in range(max(1, args.connections))
    ]
    actions: list[Action] = []
    if args.panic:
        actions.append("panic")
    if args.restore:
        actions.append("restore")
    if not actions:
        actions.append("link")
    failures = sent = 0
    try:
        for link in links:
            await link.open()
        rounds = 0
        while args.count == 0 or rounds < args.count:
            if rounds:
                await asyncio.sleep(args.link_test_interval)
            rounds += 1

            async def one_link(i: int, link: PanelLink) -> int:
                bad = 0
                for panel in panels[i :: len(links)]:
                    for action in actions:
                        bad += await _send(panel, link, action, args)
                return bad

            results = await asyncio.gather(*(one_link(i, link) for i, link in enumerate(links)))
            failures += sum(results)
            sent += len(panels) * len(actions)
    finally:
        for link in links:
            await link.close()
        print(f"{sent} frames to {len(panels)} school(s): {sent - failures} acknowledged, {failures} not", flush=True)
    return 1 if failures else 0


async def _send(panel: SchoolPanel, link: PanelLink, action: Action, args: argparse.Namespace) -> int:
    seq, frame = panel.frame(action)
    what = f"account {panel.tx.account} seq {seq:04d} {action}" + (f" zone {panel.zone}" if action != "link" else "")
    for attempt in range(args.retries + 1):
        t0 = time.perf_counter()
        answer = await link.exchange(frame, timeout=args.timeout)
        ms = (time.perf_counter() - t0) * 1000
        if answer is None:
            print(
                f"{what}: no answer within {args.timeout:g} s" + (", sending again" if attempt < args.retries else "")
            )
            if attempt < args.retries:
                seq, frame = panel.frame(action, sequence=seq)
            continue
        if answer.kind == "NAK":
            skew = ""
            if answer.timestamp is not None:
                offset = datetime.now(UTC) + timedelta(seconds=panel.clock_offset) - answer.timestamp
                skew = (
                    f" (receiver time {answer.timestamp:%H:%M:%S}; our clock is off by {offset.total_seconds():+.0f} s)"
                )
            print(f"{what}: NAK in {ms:.1f} ms{skew}")
            return 1
        if answer.kind != "ACK" or not args.quiet:
            print(f"{what}: {'*' if answer.encrypted else ''}{answer.kind} in {ms:.1f} ms")
        return 0 if answer.kind == "ACK" else 1
    return 1


async def _run_modbus(args: argparse.Namespace) -> int:
    from drivers.modbus.sim import ModbusIoSimulator

    sim = ModbusIoSimulator(port=args.port, unit=args.unit)
    await sim.start()
    loop = asyncio.get_running_loop()
    reading = False
    try:
        print(
            f"Modbus I/O module simulator, unit {args.unit}: the daemon opens {sim.client_port or args.port}",
            flush=True,
        )
        with contextlib.suppress(OSError, ValueError, PermissionError):
            loop.add_reader(sys.stdin.fileno(), _console_line, sim, loop)
            reading = True
        if args.press is not None:
            await asyncio.sleep(args.settle)
            sim.press(args.press)
            print(f"pressed input {args.press}", flush=True)
            await asyncio.sleep(args.hold)
            sim.release(args.press)
            print(f"released input {args.press}; module: {sim.command('status')}", flush=True)
        if args.duration > 0:
            await asyncio.sleep(args.duration)
        else:
            await asyncio.Event().wait()
    finally:
        if reading:
            with contextlib.suppress(ValueError):
                loop.remove_reader(sys.stdin.fileno())
        await sim.close()
    return 0


def _console_line(sim: ModbusIoSimulator, loop: asyncio.AbstractEventLoop) -> None:
    line = sys.stdin.readline()
    if not line:  # end of input: keep serving, stop reading
        loop.remove_reader(sys.stdin.fileno())
    elif line.strip():
        print(sim.command(line), flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="police-kiosk sim", description="Alarm input simulators.")
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("school", help="a school panel sending SIA DC-09 frames")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--udp", action="store_true", help="send over UDP (default TCP)")
    s.add_argument("--account", default="1234", help="the panel's account (hex); the first with --schools")
    s.add_argument("--key", help="AES key as hex (32/48/64 characters): encrypted frames")
    s.add_argument("--panic", action="store_true", help="send a panic alarm")
    s.add_argument("--restore", action="store_true", help="send a panic restore")
    s.add_argument("--format", choices=["cid", "sia"], default="cid", help="Contact ID (ADM-CID) or SIA DCS")
    s.add_argument("--zone", type=int, default=1, help="zone (button) number")
    s.add_argument("--count", type=int, default=1, help="rounds to send (0: until Ctrl-C)")
    s.add_argument("--link-test-interval", type=float, default=1.0, help="seconds between rounds")
    s.add_argument("--schools", type=int, default=1, help="simulate N schools (accounts ACCOUNT, ACCOUNT+1, ...)")
    s.add_argument("--connections", type=int, default=1, help="TCP connections (or UDP sockets) to use")
    s.add_argument("--clock-offset", type=float, default=0.0, help="panel clock error in seconds (NAK demo)")
    s.add_argument("--no-timestamp", action="store_true", help="send cleartext frames without a timestamp")
    s.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for an answer")
    s.add_argument("--retries", type=int, default=1, help="retransmissions of an unanswered frame")
    s.add_argument("--quiet", action="store_true", help="print only failures and a summary")
    m = sub.add_parser("modbus", help="a Modbus RTU I/O module with panic buttons (pymodbus server)")
    m.add_argument("--port", required=True, help="socket://HOST:PORT, pty, or a serial device")
    m.add_argument("--unit", type=int, default=1)
    m.add_argument("--press", type=int, help="press this input once after start")
    m.add_argument("--hold", type=float, default=0.5, help="seconds the --press button is held")
    m.add_argument("--settle", type=float, default=1.0, help="seconds to wait before --press")
    m.add_argument("--duration", type=float, default=0.0, help="exit after this many seconds (0: run until Ctrl-C)")
    return parser


def main() -> int:
    """``python -m edge.sim.school school|modbus ...`` (until `police-kiosk sim` routes here)."""
    return command("sim", sys.argv[1:])


def command(name: str, argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.what == "school":
            return asyncio.run(_run_school(args))
        return asyncio.run(_run_modbus(args))
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError) as exc:
        print(f"police-kiosk sim {args.what}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
