"""The vision component's methods (the crew console's cameras panel)."""

from __future__ import annotations

from typing import Any

import msgspec

from edge.wire.api.base import CREW, Empty, Method

__all__ = ["VISION_CAMERAS", "VISION_WATCHLIST", "CameraInfo", "Cameras", "WatchListInfo"]


class CameraInfo(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    state: str
    detail: str
    hits: int
    restarts_recent: int
    telemetry: dict[str, Any]


class Cameras(msgspec.Struct, frozen=True, kw_only=True):
    cameras: list[CameraInfo]


class WatchListInfo(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    entries: int


VISION_CAMERAS: Method[Empty, Cameras] = Method(
    "vision.cameras", Empty, Cameras, CREW, "Each camera's state and figures."
)
VISION_WATCHLIST: Method[Empty, WatchListInfo] = Method(
    "vision.watchlist", Empty, WatchListInfo, CREW, "The installed watch list's version."
)
