"""Placeholder until this component lands: enabling it fails start-up with a clear message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge.kiosk_config import KioskSection

if TYPE_CHECKING:
    from edge.daemon import EdgeDaemon

__all__ = ["KioskComponent"]


class KioskComponent:
    name = "KioskComponent"
    critical = False

    def __init__(self, config: KioskSection) -> None:
        self.config = config

    async def start(self, daemon: EdgeDaemon) -> None:
        raise RuntimeError("KioskComponent is not available in this build yet")

    async def stop(self) -> None:
        return None
