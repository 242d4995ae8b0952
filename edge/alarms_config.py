"""The `[alarms]` section of the station configuration."""

from __future__ import annotations

from pydantic import Field

from edge.config_base import Strict

__all__ = ["AlarmsSection"]


class AlarmsSection(Strict):
    enabled: bool = Field(default=False, description="Run the alarms component.")
