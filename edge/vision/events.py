"""Payload schemas of the vision events."""

from __future__ import annotations

import msgspec

from edge.wire import payloads

__all__ = ["PlateHitData", "WatchListInstalled"]


class PlateHitData(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`vision.plate_hit` (warning): a watch-listed vehicle passed a camera."""

    camera: str
    camera_name: str = ""
    plate: str  # as read
    kind: str  # blue, yellow, green, white, black
    confidence: float
    listed_plate: str  # the watch-list entry it matched
    reason: str  # why the vehicle is listed
    list_priority: int
    list_version: int
    distance: float  # 0 exact; OCR-confusion-weighted edit distance otherwise
    seen_at: float  # epoch seconds of the frame that completed the read
    first_seen: float
    box: list[float]  # x, y, w, h in the snapshot's pixels
    snapshot_jpeg_b64: str = ""  # privacy-filtered scene (outside the vehicle pixelated, faces blurred)
    plate_jpeg_b64: str = ""
    privacy: str = ""


class WatchListInstalled(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`vision.watchlist_installed` (info): a watch list from central is in force at this station."""

    version: int
    entries: int
    command_id: str = ""


class WatchListRefused(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`vision.watchlist_refused` (warning): a pushed watch list was not installed, and why."""

    reason: str
    command_id: str = ""


class CameraFault(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`vision.camera_fault` (warning) when a camera's worker fails or its stream is lost; `restored` after."""

    camera: str
    state: str  # disconnected, failed, restarting, gave_up, restored
    detail: str = ""


payloads.register("vision.plate_hit", PlateHitData)
payloads.register("vision.watchlist_installed", WatchListInstalled)
payloads.register("vision.watchlist_refused", WatchListRefused)
payloads.register("vision.camera_fault", CameraFault)
