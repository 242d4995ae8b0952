"""What the uplink's users need without the MQTT library: the broker address (the request errors are
`edge.wire.errors`)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["BrokerAddress", "parse_broker_url"]


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool


def parse_broker_url(url: str) -> BrokerAddress:
    """`mqtt://host:1883`, `mqtts://host:8883` (TLS); `tcp://` and `ssl://` are accepted aliases."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in {"mqtt", "tcp", "mqtts", "ssl"} or not parts.hostname:
        raise ValueError(f"broker URL must look like mqtt://HOST:PORT or mqtts://HOST:PORT, got {url!r}")
    tls = scheme in {"mqtts", "ssl"}
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise ValueError(f"bad port in broker URL {url!r}") from exc
    return BrokerAddress(parts.hostname, port, tls)
