"""The `[vision]` section: cameras (body-cams' streams, street cameras, files) and the watch list.

[vision]
enabled = true
# watch lists pushed by central are verified with [commands] public_key_file

[[vision.cameras]]
id = "gate-east"
source = "rtsp://10.0.0.21/stream1"
analyses_per_second = 5
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from edge.config.base import Strict

__all__ = ["CameraSection", "VisionSection"]

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


class CameraSection(Strict):
    id: str = Field(description="Short unique camera id (letters, digits, _.-): in events, faults and telemetry.")
    source: str = Field(description="rtsp:// or http:// URL, a video file, or a capture device index such as 0.")
    name: str = Field(default="", max_length=64, description="Where the camera looks, shown to the crew.")
    analyses_per_second: Annotated[float, Field(gt=0, le=30)] = Field(
        default=5.0, description="Frames analysed per second (picked by time; the rest are skipped and counted)."
    )
    threads: int = Field(default=1, ge=1, le=16, description="onnxruntime threads for this camera's worker.")
    keep_reads: bool = Field(default=False, description="Also report reads that are not watch-list hits.")
    loop: bool = Field(default=False, description="Files only: play again from the start at the end.")
    min_plate_width: int = Field(default=80, ge=20, le=1000, description="Smallest plate width read, in pixels.")
    match_max_distance: Annotated[float, Field(ge=0, le=3)] = Field(
        default=0.5, description="Watch-list near match: 0 exact only, 0.5 one OCR-confusable character."
    )

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID_RE.match(v):
            raise ValueError("must be 1-32 letters, digits, '_', '.', '-'")
        return v


class VisionSection(Strict):
    enabled: bool = Field(default=False, description="Run the vision component.")
    cameras: list[CameraSection] = Field(default_factory=list, description="Cameras, each in its own process.")
    watch_list: Path | None = Field(default=None, description="Watch-list file; default DATA_DIR/watchlist.json.")
    restart_budget: int = Field(
        default=5, ge=0, le=100, description="Restarts of a crashed camera worker allowed per 10 minutes."
    )
    snapshot_max_bytes: int = Field(
        default=120_000,
        ge=10_000,
        le=180_000,
        description="Largest snapshot JPEG sent with a hit (bigger ones are dropped).",
    )

    @model_validator(mode="before")
    @classmethod
    def _old_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and {"command_key", "command_key_file"} & set(data):
            raise ValueError(
                "vision.command_key(_file) is gone: central signs commands with Ed25519 now; "
                "set commands.public_key_file to central's public key"
            )
        return data

    @model_validator(mode="after")
    def _unique(self) -> VisionSection:
        ids = [c.id for c in self.cameras]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"cameras: id {sorted(dup)[0]!r} is used twice")
        return self
