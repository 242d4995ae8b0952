"""Which components a daemon runs, from its configuration (the daemon's composition root).

Optional parts are imported only when enabled, so a station without cameras never loads the video
code and a daemon without a touchscreen never loads the kiosk services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge.config import EdgeConfig

if TYPE_CHECKING:
    from edge.daemon import Component

__all__ = ["build_components"]


def build_components(config: EdgeConfig) -> list[Component]:
    components: list[Component] = []
    if config.sim.rate > 0:
        from edge.sim import SimulatedSource

        components.append(SimulatedSource(config.sim.rate))
    if config.alarms.enabled:
        from edge.alarms import AlarmComponent

        components.append(AlarmComponent(config.alarms))
    if config.kiosk.enabled:
        from edge.kiosk_service import KioskComponent

        components.append(KioskComponent(config.kiosk))
    if config.vision.enabled:
        from edge.vision.component import VisionComponent

        components.append(VisionComponent(config.vision))
    return components
