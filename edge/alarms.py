"""Placeholder until this component lands: enabling it fails start-up with a clear message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge.alarms_config import AlarmsSection

if TYPE_CHECKING:
    from edge.daemon import EdgeDaemon

__all__ = ["AlarmComponent"]


class AlarmComponent:
    name = "AlarmComponent"
    critical = False

    def __init__(self, config: AlarmsSection) -> None:
        self.config = config

    async def start(self, daemon: EdgeDaemon) -> None:
        raise RuntimeError("AlarmComponent is not available in this build yet")

    async def stop(self) -> None:
        return None
