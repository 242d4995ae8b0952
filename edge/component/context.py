"""What a component is, and the narrow context the daemon hands it (instead of the whole daemon).

A component (alarms, kiosk services, vision, the event simulator) is started with a `ComponentContext`:
it can register local API methods, push notifications to subscribed clients, handle commands from
central, emit durable events, raise and clear faults, report the state of its devices and cameras,
ask central a question, react to another part's events once they are on disk (`on_event`: the event,
never the part that emitted it), and read its data directory and the uplink's state. Nothing else of the daemon
is reachable, so a component can be tested with a small fake context and cannot reach into another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from edge.api.server import Handler
from edge.spine.records import StoredEvent
from edge.system.faults import FaultBoard
from edge.wire.api.base import Method
from edge.wire.messages import Command, Priority

__all__ = ["CommandHandler", "Component", "ComponentContext", "EventHandler"]

CommandHandler = Callable[[Command], Awaitable[None]]
#: Called with an event's type, its stored record and its data, after the event is on disk.
EventHandler = Callable[[str, StoredEvent, dict[str, Any]], Awaitable[None]]


class ComponentContext(Protocol):
    """The daemon as a component sees it."""

    @property
    def station(self) -> str:
        """The station id (also its MQTT client id)."""

    @property
    def station_name(self) -> str:
        """The station's display name ("" when not configured)."""

    @property
    def data_dir(self) -> Path:
        """The daemon's state directory; a component keeps its files here."""

    @property
    def socket_path(self) -> Path:
        """The local API socket (for a component that calls another one as any client would)."""

    @property
    def faults(self) -> FaultBoard:
        """Raise and clear visible faults (log, telemetry, API)."""

    @property
    def methods(self) -> list[str]:
        """The local API methods registered so far."""

    @property
    def devices(self) -> dict[str, str]:
        """A copy of every device's reported state."""

    @property
    def uplink_state(self) -> str:
        """`connected`, `connecting`, `down` or `disabled`."""

    def register(self, method: Method[Any, Any], handler: Handler) -> None:
        """Offer a local API method declared in the wire contract (`edge.wire.api`)."""

    def publish(self, topic: str, params: dict[str, Any]) -> None:
        """Push a notification to the API clients subscribed to `topic`."""

    def on_command(self, name: str, handler: CommandHandler) -> None:
        """Handle a command central pushes under `name` (already decoded; verification is the handler's)."""

    def on_event(self, type_: str, handler: EventHandler) -> None:
        """Be told of every event of `type_` once it is on disk (emitted by any component or submitted on
        the API), before its emitter gets it back. A handler that raises is logged; the event stands."""

    async def emit(self, type_: str, priority: Priority, data: dict[str, Any]) -> StoredEvent:
        """Submit one event (validated against its registered schema); returns it once it is on disk."""

    def set_device(self, name: str, state: str | None) -> None:
        """Report a device's state (`ok`, `starting`, `fault: ...`); None removes it."""

    def set_camera(self, name: str, figures: dict[str, Any] | None) -> None:
        """Report a camera's telemetry figures; None removes it."""

    async def call_hub(self, method: str, params: dict[str, Any], *, timeout: float = 5.0) -> Any:
        """Ask central; raises HubUnavailableError when it cannot answer, ApiError when it refuses."""


class Component(Protocol):
    """A part of the station the daemon runs. A critical one stops start-up when it fails."""

    name: str
    critical: bool

    async def start(self, ctx: ComponentContext) -> None: ...
    async def stop(self) -> None: ...
