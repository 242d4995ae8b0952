"""The hub's MQTT client (paho-mqtt 2.x, MQTT v5). The only module of the hub that imports paho.

Callbacks only put messages on a queue; the service thread does the work. Events and telemetry come
through a shared subscription (`$share/GROUP/...`), so several hub processes split the load (liveness lives in the
database, so heartbeats are shared too); status
topics are subscribed normally by every hub (retained messages are not delivered on shared
subscriptions, and every hub should know every station's state).
"""

from __future__ import annotations

import contextlib
import logging
import queue
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge.wire.messages import PREFIX

__all__ = ["HubMqtt", "Inbound", "publish_once"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Inbound:
    topic: str
    payload: bytes


def _tls(c: mqtt.Client, tls: bool, *, ca_file: str | None, cert_file: str | None, key_file: str | None) -> None:
    """TLS for mqtts://, with the hub's client certificate when given (its identity is its broker user)."""
    if (cert_file is None) != (key_file is None):
        raise ValueError("a client certificate needs both its certificate and its key file")
    if cert_file is not None and not tls:
        raise ValueError("a client certificate needs an mqtts:// broker URL")
    if tls:
        c.tls_set(ca_certs=ca_file, certfile=cert_file, keyfile=key_file)


class HubMqtt:
    def __init__(
        self,
        url: str,
        *,
        client_id: str,
        group: str,
        inbox: queue.Queue[Inbound | None],
        username: str | None = None,
        password: str | None = None,
        session_expiry: int = 86400,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"mqtt", "tcp", "mqtts", "ssl"} or not parts.hostname:
            raise ValueError(f"broker URL must look like mqtt://HOST:PORT, got {url!r}")
        self.host = parts.hostname
        self.tls = parts.scheme in {"mqtts", "ssl"}
        self.port = parts.port or (8883 if self.tls else 1883)
        self.group = group
        self.inbox = inbox
        self.session_expiry = session_expiry
        self.connected = False
        c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        c.max_inflight_messages_set(64)
        if username is not None:
            c.username_pw_set(username, password)
        _tls(c, self.tls, ca_file=ca_file, cert_file=cert_file, key_file=key_file)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_socket_open = _no_delay  # paho leaves Nagle on: small alarms and acks would wait
        c.reconnect_delay_set(1, 10)
        self.client = c

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.session_expiry
        self.client.connect_async(self.host, self.port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=qos, retain=retain)

    def publish_confirmed(self, topic: str, payload: bytes, *, retain: bool = False, timeout: float = 5.0) -> None:
        """Publish at QoS 1 and return once the broker has acknowledged it (PUBACK); raise otherwise."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise ConnectionError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise TimeoutError(f"the broker did not acknowledge {topic} within {timeout:.0f} s")

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Properties | None
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the hub: %s", reason)
            return
        self.connected = True
        client.subscribe(
            [
                (f"$share/{self.group}/{PREFIX}/+/event", 1),
                (f"$share/{self.group}/{PREFIX}/+/telemetry", 0),
                (f"$share/{self.group}/{PREFIX}/+/heartbeat", 0),
                (f"$share/{self.group}/{PREFIX}/+/rpc/req", 1),
                (f"{PREFIX}/+/status", 1),
            ]
        )
        log.info("hub connected to %s:%d", self.host, self.port)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Properties | None
    ) -> None:
        if self.connected:
            log.warning("hub lost the broker: %s", reason)
        self.connected = False

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put(Inbound(msg.topic, bytes(msg.payload)))


def _no_delay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """Disable Nagle's algorithm on the broker connection (paho does not): an alarm is one small
    message, and Nagle plus delayed ACKs can hold it back for tens of milliseconds."""
    import socket

    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def publish_once(
    url: str,
    topic: str,
    payload: bytes,
    *,
    retain: bool = False,
    client_id: str = "",
    username: str | None = None,
    password: str | None = None,
    timeout: float = 10.0,
    ca_file: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
) -> None:
    """Connect, publish one QoS 1 message, wait for its PUBACK (a failure code raises), disconnect."""
    parts = urlsplit(url)
    if parts.scheme not in {"mqtt", "tcp", "mqtts", "ssl"} or not parts.hostname:
        raise ValueError(f"broker URL must look like mqtt://HOST:PORT, got {url!r}")
    tls = parts.scheme in {"mqtts", "ssl"}
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if username is not None:
        c.username_pw_set(username, password)
    _tls(c, tls, ca_file=ca_file, cert_file=cert_file, key_file=key_file)
    result: list[ReasonCode] = []
    c.on_publish = lambda client, userdata, mid, reason, props: result.append(reason)
    c.connect(parts.hostname, parts.port or (8883 if tls else 1883))
    c.loop_start()
    try:
        info = c.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise TimeoutError(f"no PUBACK from the broker within {timeout} s")
        if result and result[0].is_failure:
            raise RuntimeError(f"the broker refused the message: {result[0]}")
    finally:
        c.disconnect()
        c.loop_stop()
