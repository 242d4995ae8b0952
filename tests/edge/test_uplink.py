"""The uplink against a real Mosquitto, the real edge daemon and the real hub (no mocks).

- Birth and last will: the retained status carries a connection counter; the hub follows the station
  online and offline and ignores a stale will.
- PUBACK failure codes: a broker ACL that refuses the station's event topic keeps every event in the
  outbox, shows the fault, and once the broker allows it everything arrives once.
- TLS with a private CA, and username/password on the broker; a wrong password loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import msgspec
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from edge.api.client import EdgeClient, Submitted
from edge.sim.broker import MosquittoProcess, find_mosquitto, free_port
from edge.wire import messages as wire
from tests.support.procs import PYTHON, EdgeProc, HubProc, stored_events, wait_until
from tests.support.require import require
from tests.support.tls import make_pki

pytestmark = pytest.mark.slow

EDGE_OPTS = ["--ack-timeout", "2", "--set", "uplink.reconnect_max=1", "--set", "uplink.reconnect_min=0.2"]


# ---- a broker with our own configuration ---------------------------------------------------------
class ConfiguredBroker(MosquittoProcess):
    """A Mosquitto whose configuration the test writes (ACLs, TLS listeners, passwords). `conf` is
    called at every start with the broker's port, so a restart can change the rules on the same port."""

    def __init__(
        self, workdir: Path, conf: Callable[[ConfiguredBroker], list[str]], *, extra_ports: tuple[int, ...] = ()
    ) -> None:
        super().__init__(workdir)
        self.conf = conf
        self.extra_ports = extra_ports

    def _write_conf(self) -> None:
        lines = [
            *self.conf(self),
            "persistence true",
            f"persistence_location {self.workdir}/",
            "autosave_interval 1",
            # Not `max_queued_messages 0`: with it, mosquitto 2.0.11 drops an MQTT v5 client's connection
            # right after refusing its QoS 1 publish (PUBACK 0x87), so the refusal would look like a link loss.
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "user root",  # as root mosquitto would drop to `mosquitto` and not read our files
        ]
        self.conf_path.write_text("\n".join(lines) + "\n")

    def start(self, *, timeout: float = 10.0) -> None:
        super().start(timeout=timeout)
        for port in self.extra_ports:
            wait_until(lambda p=port: _listening(p), timeout=timeout, interval=0.02, what=f"listener on {port}")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


# ---- a plain MQTT client in the test -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    payload: bytes
    retain: bool


class Probe:
    """A paho client in the test process: subscribes, records what arrives, publishes."""

    def __init__(self, port: int) -> None:
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"probe-{secrets.token_hex(4)}",
            protocol=mqtt.MQTTv5,
        )
        self.received: list[Received] = []
        self._cond = threading.Condition()
        self._subacks: list[list[ReasonCode]] = []
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.received.append(Received(msg.topic, bytes(msg.payload), bool(msg.retain)))
            self._cond.notify_all()

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, codes: list[ReasonCode], props: Any) -> None:
        with self._cond:
            self._subacks.append(codes)
            self._cond.notify_all()

    def subscribe(self, topic: str) -> None:
        with self._cond:
            want = len(self._subacks) + 1
        self.client.subscribe(topic, qos=1)
        with self._cond:
            assert self._cond.wait_for(lambda: len(self._subacks) >= want, timeout=10), f"no SUBACK for {topic}"
            codes = self._subacks[want - 1]
        assert not any(c.is_failure for c in codes), f"subscription to {topic} refused: {codes}"

    def wait_for(self, match: Callable[[Received], bool], *, after: int = 0, timeout: float = 15) -> Received:
        """The first message from index `after` on that matches."""

        def found() -> Received | None:
            return next((m for m in self.received[after:] if match(m)), None)

        with self._cond:
            got = self._cond.wait_for(found, timeout=timeout)
        assert got is not None, f"no matching message within {timeout}s; got {self.received[after:]}"
        return got

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=10)
        assert info.is_published()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _status(msg: Received) -> wire.Status:
    return wire.decode_status(msg.payload)


def retained_status(port: int, station: str) -> Received:
    """What a newcomer subscribing to the station's status topic gets first: the retained message."""
    probe = Probe(port)
    try:
        probe.subscribe(wire.topic(station, "status"))
        return probe.wait_for(lambda m: True, timeout=10)
    finally:
        probe.close()


# ---- the edge's local API and the hub's database ---------------------------------------------------
def edge_status(edge: EdgeProc) -> dict[str, Any]:
    async def q() -> dict[str, Any]:
        async with EdgeClient(edge.socket, timeout=10) as c:
            out: dict[str, Any] = msgspec.to_builtins(await c.status())
            return out

    return asyncio.run(q())


def fault_codes(status: dict[str, Any]) -> set[str]:
    return {str(f["code"]) for f in status["faults"]}


def submit(edge: EdgeProc, count: int, *, first: int = 0) -> dict[str, int]:
    """Submit `count` events (every 5th an alarm); returns event id -> seq for each accepted one."""

    async def go() -> dict[str, int]:
        async with EdgeClient(edge.socket, timeout=20) as c:
            evs = [
                ("test.probe", "alarm", {"n": i}) if i % 5 == 0 else ("demo.tick", "info", {"n": i})
                for i in range(first, first + count)
            ]
            results = await c.submit_many(evs)
        assert all(isinstance(r, Submitted) for r in results), results
        return {r.id: r.seq for r in results if isinstance(r, Submitted)}

    return asyncio.run(go())


def station_row(db_url: str, station: str) -> tuple[str, int] | None:
    """(state, counter) of a station in the hub's SQLite database, read-only."""
    from hub.store import sqlite_path

    path = sqlite_path(db_url).resolve()
    if not path.exists():
        return None
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        row = con.execute("SELECT state, counter FROM stations WHERE station=?", (station,)).fetchone()
    except sqlite3.OperationalError:  # the hub has not created its tables yet
        return None
    finally:
        con.close()
    return None if row is None else (str(row[0]), int(row[1]))


def check_exactly(db_url: str, station: str, accepted: dict[str, int]) -> None:
    """The hub holds exactly the accepted events of `station`, each once, under its seq, in seq order."""
    stored = [e for e in stored_events(db_url) if e["station"] == station]
    got = {str(e["id"]): int(str(e["seq"])) for e in stored}
    assert len(got) == len(stored), "an event id was stored twice"
    assert got == accepted
    assert [int(str(e["seq"])) for e in stored] == sorted(accepted.values())


class Stoppable(Protocol):
    def stop(self) -> object: ...


@pytest.fixture
def procs() -> Iterator[list[Stoppable]]:
    """Processes a test starts (edges, hubs, brokers); stopped in that order whatever happens."""
    started: list[Stoppable] = []
    try:
        yield started
    finally:
        for p in sorted(started, key=lambda p: 0 if isinstance(p, EdgeProc) else 1 if isinstance(p, HubProc) else 2):
            p.stop()


# ---- 1. birth and last will ----------------------------------------------------------------------
def test_birth_will_and_counter_and_the_hub_ignores_a_stale_will(
    tmp_path: Path, mosquitto: MosquittoProcess, procs: list[Stoppable]
) -> None:
    station = "ST-U1"
    status_topic = wire.topic(station, "status")
    db_url = f"sqlite:///{tmp_path}/hub.db"
    hub = HubProc(tmp_path, broker_url=mosquitto.url, db_url=db_url)
    edge = EdgeProc(tmp_path, station=station, broker_url=mosquitto.url, extra=EDGE_OPTS)
    procs += [hub, edge]
    hub.start()
    watcher = Probe(mosquitto.port)
    try:
        watcher.subscribe(status_topic)
        edge.start()

        birth = watcher.wait_for(lambda m: _status(m).state == "online")
        counter = _status(birth).counter
        assert counter > 0
        kept = retained_status(mosquitto.port, station)
        assert kept.retain and _status(kept).state == "online" and _status(kept).counter == counter
        wait_until(lambda: station_row(db_url, station) == ("online", counter), timeout=15, what="hub: online")

        mark = len(watcher.received)
        edge.kill()
        will = watcher.wait_for(lambda m: True, after=mark)
        assert _status(will).state == "offline"
        assert _status(will).counter == counter, "the last will must carry the counter of its connection"
        assert _status(will).reason == "connection lost"
        kept = retained_status(mosquitto.port, station)
        assert kept.retain and _status(kept) == _status(will)
        wait_until(lambda: station_row(db_url, station) == ("offline", counter), timeout=15, what="hub: offline")

        mark = len(watcher.received)
        edge.start()
        rebirth = watcher.wait_for(lambda m: _status(m).state == "online", after=mark)
        counter2 = _status(rebirth).counter
        assert counter2 > counter
        kept = retained_status(mosquitto.port, station)
        assert kept.retain and _status(kept).state == "online" and _status(kept).counter == counter2
        wait_until(lambda: station_row(db_url, station) == ("online", counter2), timeout=15, what="hub: online again")

        # A stale will (the old connection's counter) arrives late: the hub keeps the station online.
        stale = wire.Status(state="offline", counter=counter, ts=wire.utc_now_iso(), reason="connection lost")
        watcher.publish(status_topic, wire.encode(stale), retain=True)
        # The hub handles messages in order: once a later status has landed, the stale one was seen.
        marker = wire.Status(state="online", counter=1, ts=wire.utc_now_iso())
        watcher.publish(wire.topic("ST-U1-MARK", "status"), wire.encode(marker))
        wait_until(lambda: station_row(db_url, "ST-U1-MARK") is not None, timeout=15, what="hub: marker status")
        assert station_row(db_url, station) == ("online", counter2)

        out = subprocess.run(
            [*PYTHON, "hub", "stations", "--db", db_url], capture_output=True, text=True, timeout=60, check=True
        ).stdout
        rows = {r["station"]: r for r in map(json.loads, out.splitlines())}
        assert rows[station]["state"] == "online"
        assert rows[station]["counter"] == counter2
    finally:
        watcher.close()


# ---- 2. PUBACK failure codes ---------------------------------------------------------------------
def _acl_conf(acl_path: Path, *, events_allowed: bool) -> Callable[[ConfiguredBroker], list[str]]:
    def conf(broker: ConfiguredBroker) -> list[str]:
        rules = [
            "topic read police/v1/all/cmd/+",  # anonymous clients (the station): broadcasts
            "",
            "user hub",  # the hub (no password file: the name alone selects its rules)
            "topic readwrite police/#",
            "",
            "pattern write police/v1/%c/status",  # a station: its own topics only (client id = station id)
            "pattern write police/v1/%c/telemetry",
            "pattern write police/v1/%c/rpc/req",
            "pattern read police/v1/%c/ack",
            "pattern read police/v1/%c/rpc/res",
            "pattern read police/v1/%c/cmd/+",
        ]
        if events_allowed:
            rules.append("pattern write police/v1/%c/event")
        acl_path.write_text("\n".join(rules) + "\n")
        return [f"listener {broker.port} 127.0.0.1", "allow_anonymous true", f"acl_file {acl_path}"]

    return conf


def test_refused_publish_keeps_events_in_the_outbox_until_the_broker_allows_them(
    tmp_path: Path, procs: list[Stoppable]
) -> None:
    station = "ST-U2"
    acl = tmp_path / "acl"
    broker = ConfiguredBroker(tmp_path / "broker", _acl_conf(acl, events_allowed=False))
    db_url = f"sqlite:///{tmp_path}/hub.db"
    hub = HubProc(tmp_path, broker_url=broker.url, db_url=db_url)
    hub.argv += ["--username", "hub"]
    edge = EdgeProc(tmp_path, station=station, broker_url=broker.url, extra=EDGE_OPTS)
    procs += [hub, edge, broker]
    broker.start()
    hub.start()
    edge.start()
    # The station may connect and announce itself: the hub sees it online.
    wait_until(
        lambda: (station_row(db_url, station) or ("", 0))[0] == "online",
        timeout=20,
        what="the station's birth at the hub",
    )
    accepted = submit(edge, 40)
    assert sorted(accepted.values()) == list(range(1, 41))

    def refused() -> bool:
        st = edge_status(edge)
        return "uplink.publish_refused" in fault_codes(st) and st["link"]["publish_failures"] > 0

    wait_until(refused, timeout=20, what="the fault uplink.publish_refused")
    st = edge_status(edge)
    fault = next(f for f in st["faults"] if f["code"] == "uplink.publish_refused")
    assert "0x87" in fault["message"], fault  # MQTT v5: PUBACK reason code 0x87 Not authorized
    assert st["link"]["state"] == "connected"
    assert st["outbox"]["depth"] == 40
    assert st["outbox"]["confirmed_total"] == 0
    # Refused again and again, and never taken for a success.
    failures = st["link"]["publish_failures"]
    wait_until(
        lambda: edge_status(edge)["link"]["publish_failures"] > failures,
        timeout=20,
        what="the refused batches to be tried again",
    )
    st = edge_status(edge)
    assert st["outbox"]["depth"] == 40
    assert stored_events(db_url) == []

    # The broker is restarted on the same port with an ACL that lets the station publish events.
    broker.stop()
    broker.conf = _acl_conf(acl, events_allowed=True)
    broker.start()

    def delivered() -> bool:
        return edge_status(edge)["outbox"]["depth"] == 0 and len(stored_events(db_url)) >= 40

    wait_until(delivered, timeout=30, what="the outbox to drain into the hub")
    check_exactly(db_url, station, accepted)
    st = edge_status(edge)
    assert "uplink.publish_refused" not in fault_codes(st)
    assert st["outbox"]["confirmed_total"] == 40
    assert edge.stop() == 0


def test_a_refused_batch_is_not_retried_in_a_hot_loop(tmp_path: Path, procs: list[Stoppable]) -> None:
    """While the broker refuses the station's events, the edge tries again at a measured pace (the
    ack timeout here is 2 s; any backoff of 0.1 s or more passes), not as fast as the broker answers."""
    broker = ConfiguredBroker(tmp_path / "broker", _acl_conf(tmp_path / "acl", events_allowed=False))
    edge = EdgeProc(tmp_path, station="ST-U5", broker_url=broker.url, extra=EDGE_OPTS)
    procs += [edge, broker]
    broker.start()
    edge.start()
    submit(edge, 1)
    wait_until(lambda: edge_status(edge)["link"]["publish_failures"] > 0, timeout=20, what="a refused publish")
    before = edge_status(edge)["link"]["publish_failures"]
    time.sleep(1.0)  # a window to count retries in, not a deadline: the margin is a factor of 100 either way
    after = edge_status(edge)["link"]["publish_failures"]
    assert edge_status(edge)["link"]["state"] == "connected"
    assert after - before <= 10, f"{after - before} refused publishes of one event in about a second"


# ---- 3. TLS, username and password -----------------------------------------------------------------
def _passwd_file(path: Path, user: str, password: str) -> None:
    tool = shutil.which("mosquitto_passwd") or str(Path(find_mosquitto()).parent.parent / "bin" / "mosquitto_passwd")
    require(Path(tool).exists(), "mosquitto_passwd (Debian package mosquitto)")
    subprocess.run([tool, "-c", "-b", str(path), user, password], check=True, capture_output=True, timeout=30)


def test_tls_with_password_and_a_wrong_password_loses_nothing(tmp_path: Path, procs: list[Stoppable]) -> None:
    station = "ST-U3"
    pki = make_pki(tmp_path / "pki")
    passwd = tmp_path / "passwd"
    _passwd_file(passwd, station, "s3cret-pw")
    plain_port = free_port()

    def conf(broker: ConfiguredBroker) -> list[str]:
        return [
            "per_listener_settings true",
            f"listener {broker.port} 127.0.0.1",  # stations: TLS and a password
            f"cafile {pki.ca_file}",
            f"certfile {pki.cert_file}",
            f"keyfile {pki.key_file}",
            "tls_version tlsv1.2",
            "allow_anonymous false",
            f"password_file {passwd}",
            f"listener {plain_port} 127.0.0.1",  # the hub (it has no CA option): plain, loopback only
            "allow_anonymous true",
        ]

    broker = ConfiguredBroker(tmp_path / "broker", conf, extra_ports=(plain_port,))
    tls_url = f"mqtts://127.0.0.1:{broker.port}"
    db_url = f"sqlite:///{tmp_path}/hub.db"
    hub = HubProc(tmp_path, broker_url=f"mqtt://127.0.0.1:{plain_port}", db_url=db_url)
    tls_opts = [*EDGE_OPTS, "--set", f'uplink.ca_file="{pki.ca_file}"', "--set", f'uplink.username="{station}"']
    wrong = EdgeProc(
        tmp_path, station=station, broker_url=tls_url, extra=[*tls_opts, "--set", 'uplink.password="not-the-password"']
    )
    right = EdgeProc(
        tmp_path, station=station, broker_url=tls_url, extra=[*tls_opts, "--set", 'uplink.password="s3cret-pw"']
    )
    procs += [wrong, right, hub, broker]
    broker.start()
    hub.start()
    wrong.start()
    accepted = submit(wrong, 30)

    def refused() -> bool:
        return "uplink.refused" in fault_codes(edge_status(wrong))

    wait_until(refused, timeout=20, what="the fault uplink.refused")
    st = edge_status(wrong)
    assert st["link"]["state"] != "connected"
    assert st["outbox"]["depth"] == 30
    msg = next(f["message"] for f in st["faults"] if f["code"] == "uplink.refused")
    assert "not authorized" in msg.lower() or "password" in msg.lower(), msg  # CONNACK 0x87 or 0x86
    assert wrong.stop() == 0
    assert stored_events(db_url) == []

    right.start()
    wait_until(lambda: len(stored_events(db_url)) >= 30, timeout=30, what="the events sent over TLS")
    accepted |= submit(right, 30, first=30)
    wait_until(
        lambda: edge_status(right)["outbox"]["depth"] == 0 and len(stored_events(db_url)) >= 60,
        timeout=30,
        what="the second lot over TLS",
    )
    check_exactly(db_url, station, accepted)
    st = edge_status(right)
    assert st["link"]["state"] == "connected"
    assert not fault_codes(st) & {"uplink.refused", "uplink.down"}
    assert station_row(db_url, station) is not None


def test_tls_edge_without_the_ca_does_not_connect(tmp_path: Path, procs: list[Stoppable]) -> None:
    """The edge verifies the broker's certificate: without our CA (`uplink.ca_file`) it never connects,
    shows `uplink.down`, and keeps what it accepted."""
    pki = make_pki(tmp_path / "pki")

    def conf(broker: ConfiguredBroker) -> list[str]:
        return [
            f"listener {broker.port} 127.0.0.1",
            f"cafile {pki.ca_file}",
            f"certfile {pki.cert_file}",
            f"keyfile {pki.key_file}",
            "allow_anonymous true",
        ]

    broker = ConfiguredBroker(tmp_path / "broker", conf)
    edge = EdgeProc(tmp_path, station="ST-U4", broker_url=f"mqtts://127.0.0.1:{broker.port}", extra=EDGE_OPTS)
    procs += [edge, broker]
    broker.start()
    edge.start()
    accepted = submit(edge, 5)
    wait_until(lambda: "uplink.down" in fault_codes(edge_status(edge)), timeout=20, what="the fault uplink.down")
    down = [f for f in edge_status(edge)["faults"] if f["code"] == "uplink.down"]
    assert "CERTIFICATE_VERIFY_FAILED" in down[0]["message"].upper().replace(" ", "_"), down  # the real cause
    st = edge_status(edge)
    assert st["link"]["state"] != "connected"
    assert st["link"]["connects"] == 0
    assert st["outbox"]["depth"] == len(accepted) == 5
