"""Which components a daemon runs, from its configuration (the daemon's composition root).

Optional parts are imported only when enabled, so a station without cameras never loads the video
code and a daemon without a touchscreen never loads the kiosk services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge.config.station import EdgeConfig

if TYPE_CHECKING:
    from edge.daemon.core import Component

__all__ = ["build_components"]


def build_components(config: EdgeConfig) -> list[Component]:
    components: list[Component] = []
    if config.sim.rate > 0 or config.sim.test_events:
        import edge.sim.payloads  # noqa: F401 - registers demo.tick and test.probe
    if config.sim.rate > 0:
        from edge.sim.source import SimulatedSource

        components.append(SimulatedSource(config.sim.rate))
    if config.alarms.enabled:
        from edge.alarms.component import AlarmComponent

        components.append(AlarmComponent(config.alarms))
    if config.orders.runs(kiosk=config.kiosk.enabled):  # before the kiosk: it sees the first report
        from edge.orders.component import OrdersComponent

        components.append(OrdersComponent(config.orders))
    if config.kiosk.enabled:
        from edge.kiosk.component import KioskComponent

        components.append(KioskComponent(config.kiosk))
    if config.vision.enabled:
        from edge.vision.component import VisionComponent

        components.append(VisionComponent(config.vision))
    return components
