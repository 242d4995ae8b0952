"""A plain MQTT v5 client for tests: publish what a (hostile) station would, and watch what the hub sends."""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


class TestClient:
    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, url: str, *, client_id: str = "", subscribe: tuple[str, ...] = ()) -> None:
        parts = urlsplit(url)
        self._lock = threading.Lock()
        self.messages: list[tuple[str, bytes]] = []
        self._subscribed = threading.Event()
        self._topics = subscribe
        c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        c.on_message = self._on_message
        c.on_connect = self._on_connect
        c.on_subscribe = lambda *a: self._subscribed.set()
        c.max_inflight_messages_set(1000)
        c.max_queued_messages_set(0)
        c.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
        c.loop_start()
        self.client = c
        if subscribe and not self._subscribed.wait(10):
            raise TimeoutError("no SUBACK from the broker")

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if self._topics:
            client.subscribe([(t, 1) for t in self._topics])

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload)))

    def received(self, topic: str | None = None) -> list[bytes]:
        with self._lock:
            return [p for t, p in self.messages if topic is None or t == topic]

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False, wait: bool = True) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if wait and qos > 0:
            info.wait_for_publish(30)

    def wait_for(self, topic: str, count: int = 1, timeout: float = 30) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while len(self.received(topic)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {count} messages on {topic}")
            time.sleep(0.05)
        return self.received(topic)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
