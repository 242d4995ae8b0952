"""Configuration sections of the optional parts of the daemon, one module each.

Each part owns its section's model in its own module (`edge/config/alarms.py`, ...); this module only
gathers them so that `edge/config/station.py` stays the one place that defines the file's top level.
"""

from __future__ import annotations

from edge.config.alarms import AlarmsSection
from edge.config.kiosk import KioskSection
from edge.config.orders import OrdersSection
from edge.config.vision import VisionSection

__all__ = ["AlarmsSection", "KioskSection", "OrdersSection", "VisionSection"]
