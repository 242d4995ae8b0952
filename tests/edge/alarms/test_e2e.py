"""End-to-end tests of one-key alarms with real parts: a real Mosquitto, the hub and the edge daemon as
processes, real DC-09 frames over TCP/UDP sockets, a pymodbus RTU module simulator on a pty pair, and
the crew console's client (an `EdgeClient` subscribed to `incidents`). Targets are seconds, not minutes.
No test asserts a duration: waits are "until it happened", with a generous give-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from drivers.dc09.sender import Dc09Transmitter
from drivers.modbus.sim import ModbusIoSimulator
from edge.api.client import ApiError, EdgeClient
from edge.sim.broker import MosquittoProcess, free_port
from edge.sim.school import PanelLink, SchoolPanel
from tests.support.procs import EdgeProc, HubProc, stored_events

pytestmark = [pytest.mark.slow]

KEY = "000102030405060708090a0b0c0d0e0f"
STATION = "ST-ALARM"


def write_config(
    path: Path, *, port: int, targets: tuple[float, float, float] = (60, 180, 300), extra: str = ""
) -> Path:
    respond, arrive, resolve = targets
    path.write_text(
        f"""
[alarms]
enabled = true
rejected_report_s = 1

[alarms.dc09]
host = "127.0.0.1"
port_tcp = {port}
port_udp = {port}

[alarms.targets]
respond_s = {respond}
arrive_s = {arrive}
resolve_s = {resolve}

[[alarms.schools]]
account = "1234"
name = "阳光小学"
name_en = "Sunshine Primary School"
key = "{KEY}"
points = [{{ zone = 1, name = "正门一键报警", name_en = "Main gate button" }}]
{extra}
""",
        encoding="utf-8",
    )
    return path


class Crew:
    """The console's view: an EdgeClient subscribed to incidents, links and faults."""

    def __init__(self, socket: Path) -> None:
        self.notes: list[dict[str, Any]] = []
        self.client = EdgeClient(socket, on_notify=lambda topic, params: self.notes.append(params), timeout=10)

    async def __aenter__(self) -> Crew:
        await self.client.connect()
        await self.client.subscribe("incidents", "alarm.links", "faults")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()

    def of(self, topic: str, **match: Any) -> list[dict[str, Any]]:
        return [n for n in self.notes if n.get("topic") == topic and all(n.get(k) == v for k, v in match.items())]

    def changes(self, incident_id: str | None = None) -> list[str]:
        return [n["change"] for n in self.of("incidents") if incident_id is None or n["incident"]["id"] == incident_id]


async def until(predicate: Callable[[], Any], what: str, give_up: float = 20.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def station(
    tmp_path: Path, mosquitto: MosquittoProcess, config: Path, hub: bool = True
) -> AsyncIterator[tuple[EdgeProc, HubProc | None]]:
    db_url = f"sqlite:///{tmp_path / 'hub.db'}"
    hub_proc = HubProc(tmp_path, broker_url=mosquitto.url, db_url=db_url) if hub else None
    edge = EdgeProc(tmp_path, station=STATION, broker_url=mosquitto.url, extra=["--config", str(config)])
    try:
        if hub_proc is not None:
            hub_proc.start()
        await start_edge(edge)
        yield edge, hub_proc
    finally:
        edge.stop()
        if hub_proc is not None:
            hub_proc.stop()


async def start_edge(edge: EdgeProc) -> None:
    """Start the daemon and wait until the alarms component listens (the API socket comes up first)."""
    await asyncio.to_thread(edge.start)

    async def ready() -> bool:
        with contextlib.suppress(OSError, ApiError):
            async with EdgeClient(edge.socket, timeout=5) as client:
                return "dc09" in (await client.status()).devices
        return False

    for _ in range(500):
        if await ready():
            return
        if not edge.alive:
            break
        await asyncio.sleep(0.02)
    raise AssertionError(f"the alarms component did not start:\n{edge.log()[-3000:]}")


def hub_alarm_events(db_url: str, incident_id: str) -> list[dict[str, Any]]:
    out = []
    for event in stored_events(db_url):
        data = event.get("data")
        if isinstance(data, dict) and data.get("incident_id") == incident_id:
            out.append(event)
    return out


async def test_school_panic_is_acked_reaches_the_crew_and_the_hub_with_its_timeline(
    tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    port = free_port()
    config = write_config(tmp_path / "station.toml", port=port)
    async with station(tmp_path, mosquitto, config) as (edge, hub), Crew(edge.socket) as crew:
        assert hub is not None
        panel = SchoolPanel(Dc09Transmitter(account="1234", key=bytes.fromhex(KEY)))
        link = PanelLink(host="127.0.0.1", port=port, keys={"1234": bytes.fromhex(KEY)})
        await link.open()
        try:
            _, frame = panel.frame("panic")
            answer = await link.exchange(frame, timeout=10)
            assert answer is not None
            assert (answer.kind, answer.encrypted) == ("ACK", True)
            raised = await until(lambda: crew.of("incidents", change="raised"), "the crew to be told")
            incident = raised[0]["incident"]
            assert incident["source"]["site"] == "阳光小学"
            assert incident["source"]["point_en"] == "Main gate button"
            assert incident["kind"] == "panic"
            assert incident["state"] == "raised"
            # a second press of the same button merges; a restore marks it
            _, again = panel.frame("panic")
            assert (await link.exchange(again, timeout=10)).kind == "ACK"  # type: ignore[union-attr]
            _, restore = panel.frame("restore")
            assert (await link.exchange(restore, timeout=10)).kind == "ACK"  # type: ignore[union-attr]
        finally:
            await link.close()
        iid = incident["id"]
        await until(lambda: crew.changes(iid) == ["raised", "merged", "restored"], "merge and restore")
        c = crew.client
        await c.call("incidents.ack", {"id": iid, "by": "7701"})
        await c.call("incidents.dispatch", {"id": iid, "unit": "巡逻 3", "by": "7701"})
        await c.call("incidents.arrive", {"id": iid, "by": "巡逻 3"})
        closed = await c.call("incidents.close", {"id": iid, "outcome": "real", "note": "", "by": "7701"})
        assert closed["state"] == "closed"
        assert closed["presses"] == 2
        assert closed["restored"] is True
        with pytest.raises(ApiError) as err:
            await c.call("incidents.close", {"id": iid, "outcome": "real"})
        assert err.value.code == -32009
        assert (await c.call("incidents.list", {}))["incidents"] == []
        assert crew.changes(iid)[-4:] == ["acknowledged", "dispatched", "on_scene", "closed"]

        timeline = [
            "alarm.raised",
            "alarm.merged",
            "alarm.restored",
            "alarm.acknowledged",
            "alarm.dispatched",
            "alarm.on_scene",
            "alarm.closed",
        ]

        def stored() -> list[dict[str, Any]]:
            # all of them, in the station's order: the first batches may reach a hub that is still
            # subscribing and arrive by the relay's resend after the later ones (seen in CI); none is lost
            events = hub_alarm_events(hub.db_url, iid)
            return events if [e["type"] for e in events] == timeline else []

        events = await until(stored, "the whole incident at the hub", give_up=60.0)
        assert all(e["priority"] == 3 for e in events)
        final = events[-1]["data"]["incident"]
        assert [t["what"] for t in final["timeline"]] == [
            "raised",
            "merged",
            "restored",
            "acknowledged",
            "dispatched",
            "on_scene",
            "closed",
        ]
        assert final["unit"] == "巡逻 3"
        assert final["outcome"] == "real"


async def test_modbus_button_raises_an_incident_and_the_siren_follows_policy(
    tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    sim = ModbusIoSimulator(port="pty")
    await sim.start()
    try:
        extra = f"""
[[alarms.modbus]]
name = "gate-io"
port = "{sim.client_port}"
poll_interval_s = 0.05
latch_address = 16
siren_coil = 0
strobe_coil = 1
buttons = [{{ input = 2, site = "阳光小学", site_en = "Sunshine Primary School", point = "东门一键报警" }}]
"""
        config = write_config(tmp_path / "station.toml", port=free_port(), extra=extra)
        async with station(tmp_path, mosquitto, config, hub=False) as (edge, _), Crew(edge.socket) as crew:
            await until(lambda: sim.polls_served > 2, "the daemon to poll the module")
            assert not sim.coil(0)
            sim.tap(2)  # shorter than a poll: only the latch remembers it
            raised = await until(lambda: crew.of("incidents", change="raised"), "a Modbus alarm")
            incident = raised[0]["incident"]
            assert incident["source"]["kind"] == "modbus"
            assert incident["source"]["point"] == "东门一键报警"
            await until(lambda: sim.coil(0) and sim.coil(1), "siren and strobe on")
            await crew.client.call("incidents.ack", {"id": incident["id"]})
            await until(lambda: not sim.coil(0), "siren off on acknowledge")
            assert sim.coil(1)  # strobe policy "open": until the incident is closed
            assert (await crew.client.call("alarms.siren", {"on": True})) == {"on": True}
            await until(lambda: sim.coil(0), "manual siren on")
            await crew.client.call("alarms.siren", {"on": False})
            await until(lambda: not sim.coil(0) and not sim.coil(1), "manual siren and strobe off")
            # unplug the module: one device fault, cleared once when it answers again
            await sim.stop()
            await until(lambda: crew.of("faults", code="device.modbus.gate-io", active=True), "device fault")
            status = await crew.client.status()
            assert status.devices["modbus.gate-io"].startswith("fault:")
            await sim.start()
            await until(lambda: crew.of("faults", code="device.modbus.gate-io", active=False), "fault cleared")
            assert len(crew.of("faults", code="device.modbus.gate-io", active=True)) == 1
            assert len(crew.of("alarm.links", account="gate-io", state="lost")) == 1
    finally:
        await sim.close()


async def test_daemon_killed_mid_incident_resumes_with_its_deadlines_and_escalates(
    tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    port = free_port()
    config = write_config(tmp_path / "station.toml", port=port, targets=(3, 8, 60))
    async with station(tmp_path, mosquitto, config) as (edge, hub):
        assert hub is not None
        async with Crew(edge.socket) as crew:
            incident = await crew.client.call(
                "incidents.raise", {"kind": "emergency", "site": "站前广场", "point": "自助终端", "source": "kiosk"}
            )
            iid = incident["id"]
            await crew.client.call("incidents.ack", {"id": iid, "by": "7702"})
        edge.kill()  # SIGKILL: no clean shutdown
        await start_edge(edge)
        async with Crew(edge.socket) as crew:
            resumed = await crew.client.call("incidents.get", {"id": iid})
            assert resumed["deadlines"] == incident["deadlines"]
            assert resumed["state"] == "acknowledged"
            # respond (dispatch) within 3 s and arrive within 8 s are missed: each escalates once
            await until(
                lambda: (
                    "arrive"
                    in (crew.of("incidents", change="escalated") or [{}])[-1].get("incident", {}).get("missed", [])
                ),
                "the arrive escalation after the restart",
            )
            got = await crew.client.call("incidents.get", {"id": iid})
            assert got["missed"] == ["respond", "arrive"]
            assert got["escalations"] == 2

        def at_hub() -> list[dict[str, Any]]:
            events = hub_alarm_events(hub.db_url, iid)
            escalated = [e for e in events if e["type"] == "alarm.escalated"]
            return events if len({e["data"]["target"] for e in escalated}) == 2 else []

        events = await until(at_hub, "both escalations at the hub")
        changes = {(e["data"]["incident"]["rev"], e["type"]) for e in events}
        assert (1, "alarm.raised") in changes
        assert (2, "alarm.acknowledged") in changes
        targets = sorted(e["data"]["target"] for e in events if e["type"] == "alarm.escalated")
        assert sorted(set(targets)) == ["arrive", "respond"]


async def test_link_loss_and_return_are_reported_once_and_naks_are_visible(
    tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    port = free_port()
    extra = """
[[alarms.schools]]
account = "2001"
name = "明德中学"
link_test_interval_s = 1.5

[[alarms.schools]]
account = "3001"
name = "时钟错误小学"
time_check = false
"""
    config = write_config(tmp_path / "station.toml", port=port, extra=extra)
    async with station(tmp_path, mosquitto, config) as (edge, hub), Crew(edge.socket) as crew:
        assert hub is not None
        school = SchoolPanel(Dc09Transmitter(account="2001"))
        udp = PanelLink(host="127.0.0.1", port=port, udp=True)
        await udp.open()

        async def keep_alive() -> None:
            while True:
                await udp.exchange(school.frame("link")[1], timeout=5)
                await asyncio.sleep(0.3)

        alive: asyncio.Task[None] | None = None
        try:
            # listed with a 1.5 s interval and never heard: lost once, restored once by its first link test
            await until(lambda: crew.of("alarm.links", account="2001", state="lost"), "link lost")
            links = (await crew.client.call("alarms.links", {}))["links"]
            assert {row["account"]: row["state"] for row in links}["2001"] == "lost"
            alive = asyncio.create_task(keep_alive())
            await until(lambda: crew.of("alarm.links", account="2001", state="ok"), "link restored")
            # a panel whose clock is an hour behind: NAK, shown as a fault; a time-exempt one is delivered
            wrong = SchoolPanel(Dc09Transmitter(account="1234", key=bytes.fromhex(KEY)), clock_offset=-3600)
            _, frame = wrong.frame("panic")
            assert (await udp.exchange(frame, timeout=10)).kind == "NAK"  # type: ignore[union-attr]
            fault = await until(lambda: crew.of("faults", code="alarm.dc09.refused.1234", active=True), "NAK fault")
            assert "NOT delivered" in fault[0]["message"]
            assert crew.of("incidents") == []
            exempt = SchoolPanel(Dc09Transmitter(account="3001"), clock_offset=-3600)
            _, frame = exempt.frame("panic")
            await udp.exchange(frame, timeout=10)
            raised = await until(lambda: crew.of("incidents", change="raised"), "the exempt panel's alarm")
            assert raised[0]["incident"]["source"]["site"] == "时钟错误小学"

            def reported() -> list[dict[str, Any]]:
                events = [e for e in stored_events(hub.db_url) if str(e["type"]).startswith("alarm.")]
                types = [e["type"] for e in events]
                return events if "alarm.rejected_frame" in types and "alarm.link_restored" in types else []

            events = await until(reported, "link and refusal reports at the hub")
            await asyncio.sleep(0.5)  # a second "lost" report would come within a supervision period
            assert len(crew.of("alarm.links", account="2001", state="lost")) == 1
            assert len(crew.of("alarm.links", account="2001", state="ok")) == 1
        finally:
            if alive is not None:
                alive.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await alive
            await udp.close()
        types = [e["type"] for e in events]
        assert types.count("alarm.link_lost") == 1
        assert types.count("alarm.link_restored") == 1
        rejected = [e["data"] for e in events if e["type"] == "alarm.rejected_frame"]
        assert any(r["account"] == "1234" and r["naks"] >= 1 and r["panic_refused"] for r in rejected)
        assert json.dumps(events, ensure_ascii=False).count("时钟错误小学") >= 1
