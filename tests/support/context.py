"""A component context for tests: the daemon's own `DaemonContext`, recording what a component emits and
publishes instead of passing it to an outbox and socket clients."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec

from edge.api.server import ApiServer, Handler
from edge.component.context import CommandHandler
from edge.daemon.context import DaemonContext
from edge.spine.records import StoredEvent
from edge.system.faults import FaultBoard
from edge.wire import payloads
from edge.wire.api.base import Method
from edge.wire.errors import HubUnavailableError
from edge.wire.messages import Priority, new_event_id

__all__ = ["FakeContext"]


class FakeContext(DaemonContext):
    """A `ComponentContext` without a daemon: no socket is opened, no outbox, no hub."""

    def __init__(self, data_dir: Path, *, station: str = "ST-T", station_name: str = "") -> None:
        super().__init__(
            station=station,
            station_name=station_name,
            data_dir=data_dir,
            api=ApiServer(data_dir / "edge.sock"),  # never started: only its path is used
            faults=FaultBoard(),
            emit=self._record,
            call_hub=self._no_hub,
            uplink_state=lambda: self.link,
        )
        self.handlers: dict[str, Handler] = {}
        self.declared: dict[str, Method[Any, Any]] = {}
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.link = "disabled"
        self._seq = 0

    @property
    def commands(self) -> dict[str, CommandHandler]:
        return self.command_handlers

    @property
    def methods(self) -> list[str]:
        return sorted(self.handlers)

    def register(self, method: Method[Any, Any], handler: Handler) -> None:
        assert method.name not in self.handlers, f"{method.name} registered twice"
        self.handlers[method.name] = handler
        self.declared[method.name] = method

    def publish(self, topic: str, params: dict[str, Any]) -> None:
        self.published.append((topic, params))

    async def _record(self, type_: str, priority: Priority, data: dict[str, Any]) -> StoredEvent:
        assert priority is Priority.ALARM or not type_.startswith("alarm.raised")
        data = payloads.validate(type_, data)
        self.events.append((type_, data))
        self._seq += 1
        return StoredEvent(seq=self._seq, id=new_event_id(), priority=priority, accepted=time.time(), body=b"")

    async def _no_hub(self, method: str, params: dict[str, Any], *, timeout: float = 5.0) -> Any:
        raise HubUnavailableError("no hub in this test")

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Call a registered API method as a client would (without a connection): params decoded by the
        method's contract, the answer as the JSON the client would get."""
        decoded = self.declared[method].decode_params(params)
        result = await self.handlers[method](decoded, None)  # type: ignore[arg-type]
        return msgspec.to_builtins(result)
