"""What the uplink's users need without the MQTT library: the broker address and the request errors."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["BrokerAddress", "HubUnavailableError", "RemoteHubError", "parse_broker_url"]


class HubUnavailableError(Exception):
    """A request to the hub could not be answered: the link is down or the hub did not answer in time."""


class RemoteHubError(Exception):
    """The hub answered a request with an error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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
