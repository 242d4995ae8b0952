"""The broker configuration we ship (deploy/mosquitto/), run by a real Mosquitto on a free loopback port,
with a CA and certificates made by `hub.pki` (what `police-kiosk pki` does), and an MQTT v5 client that
reports the broker's answers (CONNACK, PUBACK and SUBACK reason codes)."""

from __future__ import annotations

import os
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from edge.sim.broker import MosquittoProcess
from hub.pki import init_ca, issue
from tests.support.paths import ROOT

__all__ = ["ShippedBroker", "ShippedPki", "TlsClient", "handshake_refused", "make_shipped_pki"]

SHIPPED = ROOT / "deploy" / "mosquitto"
INSTALL_DIR = "/etc/mosquitto/police-kiosk/"


@dataclass(frozen=True, slots=True)
class ShippedPki:
    directory: Path
    ca_file: Path

    def cert(self, name: str) -> tuple[Path, Path]:
        return self.directory / f"{name}.pem", self.directory / f"{name}.key"


def make_shipped_pki(directory: Path, *, stations: tuple[str, ...], hubs: tuple[str, ...] = ("hub",)) -> ShippedPki:
    """Central's CA, the broker's certificate for 127.0.0.1 and a certificate per station and hub name."""
    ca = init_ca(directory)
    issue(directory, "server", "server", hosts=["127.0.0.1"])
    for s in stations:
        issue(directory, "station", s)
    for h in hubs:
        issue(directory, "hub", h)
    return ShippedPki(directory, ca)


class ShippedBroker(MosquittoProcess):
    """Mosquitto running deploy/mosquitto/police-kiosk.conf and its ACL as shipped; only the install
    directory (to the PKI's), the listener's port and address (a free loopback port), and where it logs
    and persists are changed."""

    def __init__(self, workdir: Path, pki: ShippedPki) -> None:
        super().__init__(workdir)
        self.pki = pki

    @property
    def url(self) -> str:
        return f"mqtts://127.0.0.1:{self.port}"

    def _write_conf(self) -> None:
        install = self.workdir / "etc"
        install.mkdir(exist_ok=True)
        (install / "acl").write_text((SHIPPED / "acl").read_text())
        for name in ("ca", "server"):
            for ext in ("pem", "key"):
                src = self.pki.directory / f"{name}.{ext}"
                if src.exists() and not (name == "ca" and ext == "key"):
                    (install / f"{name}.{ext}").write_bytes(src.read_bytes())
        shipped = (SHIPPED / "police-kiosk.conf").read_text()
        assert "listener 8883\n" in shipped and INSTALL_DIR in shipped, "the shipped file changed shape"
        conf = shipped.replace(INSTALL_DIR, f"{install}/")
        conf = conf.replace("listener 8883\n", f"listener {self.port} 127.0.0.1\n")
        conf += "\n".join(
            [
                "",
                "# ---- added by the test harness ----",
                "persistence true",
                f"persistence_location {self.workdir}/",
                "autosave_interval 1",
                "log_dest stderr",
                "log_type error",
                "log_type warning",
                "log_type notice",
                *(["user root"] if os.geteuid() == 0 else []),
                "",
            ]
        )
        self.conf_path.write_text(conf)


class TlsClient:
    """A paho MQTT v5 client presenting a certificate (or none); records every answer of the broker."""

    def __init__(self, port: int, *, ca_file: Path, cert: tuple[Path, Path] | None, client_id: str = "") -> None:
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.client.tls_set(
            ca_certs=str(ca_file), certfile=str(cert[0]) if cert else None, keyfile=str(cert[1]) if cert else None
        )
        self._cond = threading.Condition()
        self.connack: ReasonCode | None = None
        self.disconnects: list[ReasonCode] = []
        self.pubacks: dict[int, ReasonCode] = {}
        self.subacks: dict[int, list[ReasonCode]] = {}
        self.received: list[tuple[str, bytes]] = []
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.port = port

    # callbacks (paho's thread)
    def _on_connect(self, c: mqtt.Client, u: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        with self._cond:
            self.connack = reason
            self._cond.notify_all()

    def _on_disconnect(self, c: mqtt.Client, u: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        with self._cond:
            self.disconnects.append(reason)
            self._cond.notify_all()

    def _on_publish(self, c: mqtt.Client, u: Any, mid: int, reason: ReasonCode, props: Any) -> None:
        with self._cond:
            self.pubacks[mid] = reason
            self._cond.notify_all()

    def _on_subscribe(self, c: mqtt.Client, u: Any, mid: int, codes: list[ReasonCode], props: Any) -> None:
        with self._cond:
            self.subacks[mid] = codes
            self._cond.notify_all()

    def _on_message(self, c: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.received.append((msg.topic, bytes(msg.payload)))
            self._cond.notify_all()

    # the test's side
    def connect(self, timeout: float = 15) -> ReasonCode | None:
        """Connect and wait for the CONNACK (None: the broker closed the connection without one); raises
        ssl.SSLError/OSError when the TLS handshake fails at once."""
        self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        with self._cond:
            answered = self._cond.wait_for(lambda: self.connack is not None or self.disconnects, timeout=timeout)
            assert answered, "neither a CONNACK nor a disconnect"
            return self.connack

    def publish(self, topic: str, payload: bytes = b"{}", *, timeout: float = 15) -> ReasonCode:
        info = self.client.publish(topic, payload, qos=1)
        with self._cond:
            assert self._cond.wait_for(lambda: info.mid in self.pubacks, timeout=timeout), f"no PUBACK for {topic}"
            return self.pubacks[info.mid]

    def subscribe(self, topic: str, *, timeout: float = 15) -> ReasonCode:
        _, mid = self.client.subscribe(topic, qos=1)
        assert mid is not None
        with self._cond:
            assert self._cond.wait_for(lambda: mid in self.subacks, timeout=timeout), f"no SUBACK for {topic}"
            return self.subacks[mid][0]

    def wait_for(self, topic: str, *, timeout: float = 15) -> bytes:
        def found() -> bytes | None:
            return next((p for t, p in self.received if t == topic), None)

        with self._cond:
            got = self._cond.wait_for(found, timeout=timeout)
        assert got is not None, f"nothing on {topic} within {timeout}s; got {self.received}"
        return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def handshake_refused(port: int, *, ca_file: Path, cert: tuple[Path, Path] | None) -> bool:
    """True when the broker refuses the TLS handshake or closes before the MQTT CONNACK."""
    client = TlsClient(port, ca_file=ca_file, cert=cert)
    try:
        connack = client.connect(timeout=15)
    except (ssl.SSLError, OSError):
        return True
    finally:
        client.close()
    return connack is None or connack.is_failure
