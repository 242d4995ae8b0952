"""Configuration sections of the optional parts of the daemon, one module each.

Each part owns its section's model in its own module (`edge/alarms_config.py`, ...); this module only
gathers them so that `edge/config.py` stays the one place that defines the file's top level.
"""

from __future__ import annotations

from edge.alarms_config import AlarmsSection
from edge.kiosk_config import KioskSection
from edge.vision_config import VisionSection

__all__ = ["AlarmsSection", "KioskSection", "VisionSection"]
