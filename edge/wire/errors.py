"""The one coded error of the system, and its codes (JSON-RPC 2.0 plus ours).

The same `ApiError` is raised by a local API handler (the server answers it), raised by the client when
the daemon answers an error, raised by the uplink when central answers an error, raised by a hub RPC
handler (central answers it) and handed to the UIs' callbacks. Two subclasses name the conditions a
caller handles apart: `DaemonUnavailableError` (no daemon to ask) and `HubUnavailableError` (central
cannot answer now: fall back to a durable event).

    try:
        await client.incidents.ack(IncidentRef(id=iid))
    except ApiError as exc:
        if exc.code == NOT_FOUND: ...
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CONFLICT",
    "DAEMON_UNAVAILABLE",
    "FORBIDDEN",
    "HUB_ERROR",
    "HUB_UNAVAILABLE",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "NOT_FOUND",
    "OUTBOX_FULL",
    "PARSE_ERROR",
    "UNAVAILABLE",
    "ApiError",
    "DaemonUnavailableError",
    "HubUnavailableError",
]

#: JSON-RPC 2.0.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
#: Ours (-32000 to -32099, the range JSON-RPC leaves to the server).
DAEMON_UNAVAILABLE = -32000  # client side only: the daemon is not running or the connection was lost
OUTBOX_FULL = -32001
UNAVAILABLE = -32002  # a device or store of the station cannot do it now
FORBIDDEN = -32003  # the connection's role may not call this method (or is not logged in)
NOT_FOUND = -32004
CONFLICT = -32009
HUB_UNAVAILABLE = -32010  # central cannot answer now: fall back to a durable event
HUB_ERROR = -32011  # central answered with an error (its code in data.hub_code)


class ApiError(Exception):
    """An error with a code: what a JSON-RPC error object carries (`code`, `message`, optional `data`)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def __str__(self) -> str:
        return f"{self.message} (code {self.code})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.message!r})"

    @property
    def unavailable(self) -> bool:
        """True when nobody answered (the daemon or central is away), not when something was refused."""
        return self.code in (DAEMON_UNAVAILABLE, HUB_UNAVAILABLE)

    def to_json(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return err

    @classmethod
    def from_json(cls, err: Any) -> ApiError:
        """The error object of a JSON-RPC answer; a malformed one is an internal error, never a crash."""
        if not isinstance(err, dict):
            return cls(INTERNAL_ERROR, f"malformed error object: {err!r}"[:200])
        code = err.get("code")
        return cls(
            code if isinstance(code, int) and not isinstance(code, bool) else INTERNAL_ERROR,
            str(err.get("message", "")),
            err.get("data"),
        )


class DaemonUnavailableError(ApiError):
    """The daemon is not running, or the connection to it was lost."""

    def __init__(self, message: str) -> None:
        super().__init__(DAEMON_UNAVAILABLE, message)


class HubUnavailableError(ApiError):
    """A request to central could not be answered: the link is down or central did not answer in time."""

    def __init__(self, message: str) -> None:
        super().__init__(HUB_UNAVAILABLE, message)
