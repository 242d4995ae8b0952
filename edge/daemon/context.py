"""The daemon's side of the component contract: a `ComponentContext` over the daemon's parts."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from edge.api.server import ApiServer, Handler
from edge.component.context import CommandHandler, EventHandler
from edge.spine.records import StoredEvent
from edge.system.faults import FaultBoard
from edge.wire.api.base import Method
from edge.wire.messages import Priority

__all__ = ["DaemonContext"]

log = logging.getLogger(__name__)


class DaemonContext:
    """What the daemon lends its components: one object per daemon, shared by all of them."""

    def __init__(
        self,
        *,
        station: str,
        station_name: str,
        data_dir: Path,
        api: ApiServer,
        faults: FaultBoard,
        emit: Callable[[str, Priority, dict[str, Any]], Awaitable[StoredEvent]],
        call_hub: Callable[..., Awaitable[Any]],
        uplink_state: Callable[[], str],
    ) -> None:
        self._station = station
        self._station_name = station_name
        self._data_dir = data_dir
        self._api = api
        self._faults = faults
        self._emit = emit
        self._call_hub = call_hub
        self._uplink_state = uplink_state
        self.device_states: dict[str, str] = {}
        self.cameras: dict[str, dict[str, Any]] = {}
        self.command_handlers: dict[str, CommandHandler] = {}
        self.event_handlers: dict[str, list[EventHandler]] = {}

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
        return self._api.path

    @property
    def faults(self) -> FaultBoard:
        return self._faults

    @property
    def methods(self) -> list[str]:
        return self._api.methods

    @property
    def devices(self) -> dict[str, str]:
        return dict(self.device_states)

    @property
    def uplink_state(self) -> str:
        return self._uplink_state()

    def register(self, method: Method[Any, Any], handler: Handler) -> None:
        self._api.register(method, handler)

    def publish(self, topic: str, params: dict[str, Any]) -> None:
        self._api.publish(topic, params)

    def on_command(self, name: str, handler: CommandHandler) -> None:
        if name in self.command_handlers:
            raise ValueError(f"command {name} handled twice")
        self.command_handlers[name] = handler

    def on_event(self, type_: str, handler: EventHandler) -> None:
        self.event_handlers.setdefault(type_, []).append(handler)

    async def emit(self, type_: str, priority: Priority, data: dict[str, Any]) -> StoredEvent:
        stored = await self._emit(type_, priority, data)
        await self.stored(type_, stored, data)
        return stored

    async def stored(self, type_: str, stored: StoredEvent, data: dict[str, Any]) -> None:
        """An event is on disk: tell the components that asked (`on_event`). The event stands whatever they
        do; a handler that fails is logged and the next one still runs."""
        for handler in self.event_handlers.get(type_, ()):
            try:
                await handler(type_, stored, data)
            except Exception:
                log.exception("a handler of %s event %d failed", type_, stored.seq)

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
        return await self._call_hub(method, params, timeout=timeout)
