"""A component context for tests: records what a component emits, publishes and reports."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec

from edge.api.server import Handler
from edge.component.context import CommandHandler
from edge.spine.records import StoredEvent
from edge.system.faults import FaultBoard
from edge.wire import payloads
from edge.wire.api.base import Method
from edge.wire.messages import Priority, new_event_id

__all__ = ["FakeContext"]


class FakeContext:
    """Implements `edge.component.context.ComponentContext` without a daemon (no socket, no outbox)."""

    def __init__(self, data_dir: Path, *, station: str = "ST-T", station_name: str = "") -> None:
        self._data_dir = data_dir
        self._station = station
        self._station_name = station_name
        self._faults = FaultBoard()
        self.handlers: dict[str, Handler] = {}
        self.declared: dict[str, Method[Any, Any]] = {}
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.commands: dict[str, CommandHandler] = {}
        self.device_states: dict[str, str] = {}
        self.cameras: dict[str, dict[str, Any]] = {}
        self.link = "disabled"
        self._seq = 0

    @property
    def station(self) -> str:
        return self._station

    @property
    def station_name(self) -> str:
        return self._station_name

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    @property
    def socket_path(self) -> Path:
        return self._data_dir / "edge.sock"

    @property
    def faults(self) -> FaultBoard:
        return self._faults

    @property
    def methods(self) -> list[str]:
        return sorted(self.handlers)

    @property
    def devices(self) -> dict[str, str]:
        return dict(self.device_states)

    @property
    def uplink_state(self) -> str:
        return self.link

    def register(self, method: Method[Any, Any], handler: Handler) -> None:
        assert method.name not in self.handlers, f"{method.name} registered twice"
        self.handlers[method.name] = handler
        self.declared[method.name] = method

    def publish(self, topic: str, params: dict[str, Any]) -> None:
        self.published.append((topic, params))

    def on_command(self, name: str, handler: CommandHandler) -> None:
        self.commands[name] = handler

    async def emit(self, type_: str, priority: Priority, data: dict[str, Any]) -> StoredEvent:
        assert priority is Priority.ALARM or not type_.startswith("alarm.raised")
        data = payloads.validate(type_, data)
        self.events.append((type_, data))
        self._seq += 1
        return StoredEvent(seq=self._seq, id=new_event_id(), priority=priority, accepted=time.time(), body=b"")

    def set_device(self, name: str, state: str | None) -> None:
        if state is None:
            self.device_states.pop(name, None)
        else:
            self.device_states[name] = state

    def set_camera(self, name: str, figures: dict[str, Any] | None) -> None:
        if figures is None:
            self.cameras.pop(name, None)
        else:
            self.cameras[name] = dict(figures)

    async def call_hub(self, method: str, params: dict[str, Any], *, timeout: float = 5.0) -> Any:
        from edge.spine.uplink import HubUnavailableError

        raise HubUnavailableError("no hub in this test")

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Call a registered API method as a client would (without a connection): params decoded by the
        method's contract, the answer as the JSON the client would get."""
        decoded = self.declared[method].decode_params(params)
        result = await self.handlers[method](decoded, None)  # type: ignore[arg-type]
        return msgspec.to_builtins(result)
