"""The broker configuration we ship (deploy/mosquitto/), on a real Mosquitto, with certificates from
`police-kiosk pki`: who may connect, publish and read what (issue 12)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.pki import init_ca, issue
from tests.support.shipped_broker import ShippedBroker, TlsClient, handshake_refused, make_shipped_pki

NOT_AUTHORIZED = 0x87


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShippedBroker]:
    root = tmp_path_factory.mktemp("shipped-broker")
    pki = make_shipped_pki(root / "pki", stations=("ST-A", "ST-B"), hubs=("hub", "hub-commands"))
    broker = ShippedBroker(root / "broker", pki)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def clients(shipped: ShippedBroker) -> Iterator[dict[str, TlsClient]]:
    """Connected clients with each certificate, client id as the certificate's name unless said otherwise."""
    made: dict[str, TlsClient] = {}

    def connect(name: str, client_id: str | None = None) -> TlsClient:
        c = TlsClient(
            shipped.port,
            ca_file=shipped.pki.ca_file,
            cert=shipped.pki.cert(name),
            client_id=name if client_id is None else client_id,
        )
        made[f"{name}/{client_id}"] = c
        reason = c.connect()
        assert reason is not None and not reason.is_failure, f"{name} refused: {reason}"
        return c

    pool: dict[str, TlsClient] = {}
    for name in ("hub", "ST-A", "ST-B", "hub-commands"):
        pool[name] = connect(name)
    pool["connect"] = connect  # type: ignore[assignment]
    try:
        yield pool
    finally:
        for c in made.values():
            c.close()


def test_anonymous_clients_are_refused(shipped: ShippedBroker) -> None:
    assert handshake_refused(shipped.port, ca_file=shipped.pki.ca_file, cert=None)


def test_a_certificate_from_another_ca_is_refused(shipped: ShippedBroker, tmp_path: Path) -> None:
    init_ca(tmp_path / "rogue", name="police-kiosk central CA")  # same name, another key
    issue(tmp_path / "rogue", "station", "ST-A")
    rogue = (tmp_path / "rogue" / "ST-A.pem", tmp_path / "rogue" / "ST-A.key")
    assert handshake_refused(shipped.port, ca_file=shipped.pki.ca_file, cert=rogue)


def test_a_station_publishes_its_own_topics_and_the_hub_receives_them(clients: dict[str, TlsClient]) -> None:
    hub, a = clients["hub"], clients["ST-A"]
    for leaf in ("event", "status", "telemetry", "rpc/req"):
        assert not hub.subscribe(f"police/v1/+/{leaf}").is_failure
    for leaf in ("event", "status", "telemetry", "rpc/req"):
        assert not a.publish(f"police/v1/ST-A/{leaf}", leaf.encode()).is_failure
        assert hub.wait_for(f"police/v1/ST-A/{leaf}") == leaf.encode()


@pytest.mark.parametrize(
    "topic",
    [
        "police/v1/ST-B/event",  # posing as another station
        "police/v1/ST-B/status",  # ... or faking its last will
        "police/v1/ST-A/ack",  # acks come from the hub only
        "police/v1/ST-B/ack",
        "police/v1/ST-A/cmd/kiosk.notices",  # commands too
        "police/v1/all/cmd/vision.watchlist",
        "police/v1/ST-B/rpc/res",  # and responses
        "police/v1/ST-A/rpc/res",
        "police/v1/hub/event",
        "somewhere/else",
    ],
)
def test_a_station_cannot_publish_outside_its_own_topics(clients: dict[str, TlsClient], topic: str) -> None:
    hub, b = clients["hub"], clients["ST-B"]
    assert not hub.subscribe("police/v1/+/event").is_failure
    a = clients["ST-A"]
    reason = a.publish(topic, b"forged")
    assert reason.value == NOT_AUTHORIZED, (topic, reason)
    # nothing arrives anywhere: a probe that could read it would have it by the time a later message lands
    assert not a.publish("police/v1/ST-A/event", b"after").is_failure
    assert hub.wait_for("police/v1/ST-A/event") == b"after"
    assert all(t != topic for t, _ in hub.received + b.received)


def test_a_station_reads_only_its_own_acks_commands_responses_and_broadcasts(clients: dict[str, TlsClient]) -> None:
    hub, a = clients["hub"], clients["ST-A"]
    own = ("police/v1/ST-A/ack", "police/v1/ST-A/cmd/x", "police/v1/ST-A/rpc/res", "police/v1/all/cmd/x")
    others = (
        "police/v1/ST-B/ack",
        "police/v1/ST-B/cmd/x",
        "police/v1/ST-B/rpc/res",
        "police/v1/ST-B/event",
        "police/v1/ST-B/status",
    )
    for topic in ("police/v1/ST-A/ack", "police/v1/ST-A/cmd/+", "police/v1/ST-A/rpc/res", "police/v1/all/cmd/+"):
        assert not a.subscribe(topic).is_failure, topic
    # Mosquitto 2.0 grants a subscription outside the ACL but never delivers on it: the `read` rules filter
    for topic in (
        "police/v1/ST-B/ack",
        "police/v1/ST-B/cmd/+",
        "police/v1/ST-B/rpc/res",
        "police/v1/+/event",
        "police/v1/#",
        "#",
    ):
        a.subscribe(topic)
    for topic in others:
        assert not hub.publish(topic, b"not-for-a").is_failure or topic.endswith(("event", "status")), topic
    assert not clients["ST-B"].publish("police/v1/ST-B/event", b"not-for-a").is_failure
    for topic in own:  # only the hub may write these; published after the others, so they arrive after them
        assert not hub.publish(topic, b"from-hub").is_failure, topic
    for topic in own:
        assert a.wait_for(topic) == b"from-hub"
    assert [t for t, p in a.received if p == b"not-for-a"] == []


def test_the_command_tool_may_publish_commands_and_nothing_else(clients: dict[str, TlsClient]) -> None:
    tool = clients["hub-commands"]
    assert not tool.publish("police/v1/all/cmd/kiosk.notices").is_failure
    assert not tool.publish("police/v1/ST-A/cmd/kiosk.notices").is_failure
    for topic in ("police/v1/ST-A/ack", "police/v1/ST-A/event", "police/v1/ST-A/rpc/res"):
        assert tool.publish(topic).value == NOT_AUTHORIZED, topic


def test_a_station_cannot_take_over_another_stations_client_id(clients: dict[str, TlsClient]) -> None:
    b, hub = clients["ST-B"], clients["hub"]
    connect = clients["connect"]
    intruder = connect("ST-A", "ST-B")  # type: ignore[operator]  # asks for ST-B's id; gets its own name
    assert intruder.connack is not None and not intruder.connack.is_failure
    # ST-B is still connected and still served: it was not kicked off its session
    assert not b.publish("police/v1/ST-B/event", b"still-here").is_failure
    assert not hub.subscribe("police/v1/ST-B/ack").is_failure
    assert not hub.publish("police/v1/ST-B/ack", b"ack-b").is_failure
    assert not b.subscribe("police/v1/ST-B/ack").is_failure
    assert not hub.publish("police/v1/ST-B/ack", b"ack-b2").is_failure
    assert b.wait_for("police/v1/ST-B/ack") in (b"ack-b", b"ack-b2")
    assert b.disconnects == []
    # and the intruder, whatever id it asked for, still speaks only as ST-A
    assert intruder.publish("police/v1/ST-B/event", b"as-b").value == NOT_AUTHORIZED
