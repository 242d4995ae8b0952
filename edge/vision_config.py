"""The `[vision]` section of the station configuration."""

from __future__ import annotations

from pydantic import Field

from edge.config_base import Strict

__all__ = ["VisionSection"]


class VisionSection(Strict):
    enabled: bool = Field(default=False, description="Run the vision component.")
