"""Placeholder until this component lands: enabling it fails start-up with a clear message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge.vision_config import VisionSection

if TYPE_CHECKING:
    from edge.daemon import EdgeDaemon

__all__ = ["VisionComponent"]


class VisionComponent:
    name = "VisionComponent"
    critical = False

    def __init__(self, config: VisionSection) -> None:
        self.config = config

    async def start(self, daemon: EdgeDaemon) -> None:
        raise RuntimeError("VisionComponent is not available in this build yet")

    async def stop(self) -> None:
        return None
