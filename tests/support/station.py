"""Helpers of the kiosk tests (no tests here): a station of real processes with simulated devices on
ptys, and an ESC/POS decoder written independently of drivers.escpos.receipt (from the command reference)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from drivers.escpos.sim import PrinterSimulator
from drivers.idcard.reader import CardType, Gender, IdCardData
from drivers.idcard.sim import IdCardReaderSimulator
from edge.api.client import EdgeClient
from edge.sim.broker import MosquittoProcess
from edge.wire import messages as wire
from tests.support.commands import CentralKeys, central_keys, signed
from tests.support.procs import EdgeProc, HubProc, wait_until

T = TypeVar("T")
#: Central's command keys for the kiosk tests (one pair per test session).
CENTRAL = central_keys()
#: Another pair: what a stolen station box or an attacker would sign with.
FORGER = central_keys()
ID_NUMBER = "11010519491231002X"


def sample_card() -> IdCardData:
    from datetime import date

    return IdCardData(
        card_type=CardType.RESIDENT,
        name="张三丰",
        gender=Gender.MALE,
        birth_date=date(1949, 12, 31),
        id_number=ID_NUMBER,
        valid_from=date(2010, 1, 1),
        valid_to=date(2030, 1, 1),
        ethnicity_code="01",
        address="北京市东城区景山前街4号",
        issuing_authority="北京市公安局东城分局",
    )


# ---- an ESC/POS decoder of our own ------------------------------------------------------------------
@dataclass
class Printed:
    lines: list[str] = field(default_factory=list)
    qr: list[bytes] = field(default_factory=list)
    cuts: int = 0


def decode_escpos(data: bytes) -> Printed:
    out = Printed()
    pending = bytearray()
    i = 0
    while i < len(data):
        b = data[i]
        if b == 0x0A:
            out.lines.append(pending.decode("gb18030"))
            pending.clear()
            i += 1
        elif b == 0x1B:
            op = data[i + 1]
            if op == 0x40:
                i += 2
            elif op in (0x61, 0x45):
                i += 3
            elif op == 0x64:
                out.lines.append(pending.decode("gb18030"))
                pending.clear()
                out.lines += [""] * (data[i + 2] - 1)
                i += 3
            else:
                raise AssertionError(f"unknown ESC {op:#x}")
        elif b == 0x1D:
            op = data[i + 1]
            if op == 0x21:
                i += 3
            elif op == 0x56:
                out.cuts += 1
                i += 4 if data[i + 2] in (65, 66) else 3
            elif op == 0x28 and data[i + 2] == 0x6B:
                size = data[i + 3] + 256 * data[i + 4]
                body = data[i + 5 : i + 5 + size]
                if body[1] == 80:
                    out.qr.append(bytes(body[3:]))
                i += 5 + size
            else:
                raise AssertionError(f"unknown GS {op:#x}")
        elif b == 0x1C:
            assert data[i + 1] in (0x26, 0x2E)
            i += 2
        elif b < 0x20:
            raise AssertionError(f"stray control byte {b:#x}")
        elif b < 0x80:
            pending.append(b)
            i += 1
        else:
            n = 4 if 0x30 <= data[i + 1] <= 0x39 else 2
            pending += data[i : i + n]
            i += n
    assert not pending
    return out


# ---- a station of real processes --------------------------------------------------------------------
class Station:
    """Mosquitto (the fixture's), the hub, the edge daemon with the kiosk enabled, and a simulated ID card
    reader and receipt printer on ptys served by an asyncio loop in a thread of the test."""

    def __init__(
        self,
        tmp: Path,
        broker: MosquittoProcess,
        *,
        station: str = "ST-K1",
        printer: bool = True,
        extra: list[str] | None = None,
        signing: bool = False,
        hub_extra: list[str] | None = None,
    ) -> None:
        """`signing`: the hub holds central's private key (it signs the commands it sends, see
        hub/outbound.py); `hub_extra`: more hub options (e.g. `--http 127.0.0.1:PORT`)."""
        self.tmp = tmp
        self.broker = broker
        self.station = station
        self.db_url = f"sqlite:///{tmp / 'hub.db'}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="kiosk-sims", daemon=False)
        self.thread.start()
        self.reader = self.run(self._enter(IdCardReaderSimulator()))
        self.printer = self.run(self._enter(PrinterSimulator())) if printer else None
        self.notes: list[tuple[str, dict[str, Any]]] = []
        private_key, public_key = CENTRAL.write(tmp)
        opts = [
            "--set",
            "kiosk.enabled=true",
            "--set",
            f"kiosk.id_reader.port={self.reader.port}",
            "--set",
            f'commands.public_key_file="{public_key}"',
            "--set",
            "kiosk.retry_interval=0.5",
            "--set",
            "kiosk.hub_timeout=3",
            "--set",
            "uplink.reconnect_max=1",
            "--set",
            "uplink.reconnect_min=0.2",
            "--ack-timeout",
            "2",
        ]
        if self.printer is not None:
            opts += ["--set", f"kiosk.printer.port={self.printer.port}", "--set", "kiosk.printer.status_interval=5"]
        self.edge = EdgeProc(tmp, station=station, broker_url=broker.url, extra=opts + (extra or []))
        hub_opts = ["--signing-key-file", str(private_key)] if signing else []
        self.hub = HubProc(tmp, broker_url=broker.url, db_url=self.db_url, extra=hub_opts + (hub_extra or []))
        self.client: EdgeClient | None = None

    async def _enter(self, sim: Any) -> Any:
        return await sim.__aenter__()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        fut: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout)

    def start(self, *, hub: bool = True) -> Station:
        if hub:
            self.hub.start()
        self.edge.start()
        self.connect()
        return self

    def ready(self) -> bool:
        """The daemon opens its socket before its components start: wait for the kiosk's methods."""
        return "kiosk.catalogue" in self.call("rpc.methods")

    def connect(self) -> None:
        async def go() -> EdgeClient:
            c = EdgeClient(self.edge.socket, on_notify=lambda t, p: self.notes.append((t, p)), timeout=20)
            await c.connect()
            await c.subscribe("kiosk.*", "faults")
            return c

        self.client = self.run(go())
        wait_until(self.ready, timeout=20, interval=0.05, what="the kiosk component")

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        assert self.client is not None
        return self.run(self.client.call(method, params))

    def link_state(self) -> str:
        return str(self.call("status.get")["link"]["state"])

    def wait_linked(self) -> None:
        wait_until(lambda: self.link_state() == "connected", timeout=20, what="uplink connected")

    def notes_of(self, topic: str) -> list[dict[str, Any]]:
        return [p for t, p in list(self.notes) if t == topic]

    def close(self) -> None:
        try:
            if self.client is not None:
                self.run(self.client.close())
            self.edge.stop()
            self.hub.stop()
            for sim in (self.reader, self.printer):
                if sim is not None:
                    self.run(sim.__aexit__(None, None, None))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()


def publish_command(broker_url: str, topic: str, cmd: wire.Command, *, retain: bool = True) -> None:
    host, port = broker_url.removeprefix("mqtt://").split(":")
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"central-{wire.new_event_id()}",
        protocol=mqtt.MQTTv5,
    )
    c.connect(host, int(port))
    c.loop_start()
    try:
        c.publish(topic, wire.encode(cmd), qos=1, retain=retain).wait_for_publish(timeout=10)
    finally:
        c.disconnect()
        c.loop_stop()


def notice_command(
    scope: str, notices: list[dict[str, Any]], *, keys: CentralKeys | None = CENTRAL, issued_at: str | None = None
) -> wire.Command:
    """A `kiosk.notices` command for SCOPE (`all` or a station id), signed by KEYS (None: unsigned)."""
    args = {"scope": scope, "issued_at": issued_at or wire.utc_now_iso(), "notices": notices}
    return signed(keys, "kiosk.notices", args, targets=[scope])


def notice(
    nid: str, kind: str = "anti_fraud", zh: str = "警惕冒充公检法诈骗", en: str = "Beware of fake police calls"
) -> dict[str, Any]:
    return {
        "id": nid,
        "kind": kind,
        "title": {"zh": zh, "en": en},
        "body": {"zh": "公检法机关不会电话要求转账。", "en": "Police never ask for money transfers by phone."},
        "published": wire.utc_now_iso(),
    }
