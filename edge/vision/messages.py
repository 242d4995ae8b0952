"""What a camera worker sends to its parent: small frozen dataclasses of primitives (+ JPEG bytes).

Pure: the daemon imports this to receive messages without loading OpenCV. Every message has
`camera_id` and `time` (epoch seconds). `to_dict()` gives a JSON-ready dict without image bytes
(their sizes instead); the bytes stay on the object for the outbox and the crew console.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from edge.vision.tracker import Box
from edge.vision.watchlist import WatchEntry

__all__ = ["CameraStatus", "CameraTelemetry", "PlateHit", "PlateReadMessage", "Snapshot", "WorkerMessage"]


def _plain(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(obj).__name__}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, bytes):
            out[f"{f.name}_bytes"] = len(value)
        elif isinstance(value, Box | WatchEntry):
            out[f.name] = asdict(value)
        elif isinstance(value, Snapshot):
            out[f.name] = value.to_dict()
        else:
            out[f.name] = value
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    jpeg: bytes  # the scene, privacy-filtered, at most `max_width` wide
    plate_jpeg: bytes  # the plate alone at full resolution
    box: Box  # the plate in snapshot pixels
    width: int
    height: int
    privacy: str  # "outside-vehicle-pixelated" (+ "+faces-blurred" with the face detector)

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlateHit:
    """A watch-listed vehicle was read: the payload of a `vision.plate_hit` warning event."""

    camera_id: str
    time: float  # epoch seconds of the frame that completed the read
    first_seen: float  # epoch seconds of the vehicle's first analysed sighting
    plate: str  # what was read (normalised, no separator)
    kind: str  # PlateKind value: blue, yellow, green, white, black
    confidence: float  # 0..1, voted over the track
    entry: WatchEntry  # the watch-list entry matched (plate, reason, priority, list_version)
    distance: float  # 0 for an exact match; OCR-confusion-weighted edit distance otherwise
    track_id: int
    observations: int  # analysed frames that saw this vehicle before the read
    box: Box  # the plate in the snapshot's pixels
    snapshot: Snapshot

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlateReadMessage:
    """A read that is not a hit; sent only when the worker runs with `keep_reads=True`."""

    camera_id: str
    time: float
    first_seen: float
    plate: str
    kind: str
    confidence: float
    track_id: int
    observations: int
    box: Box  # frame pixels

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraTelemetry:
    """Counters since the worker started, sent every `telemetry_interval_s` and at the end."""

    camera_id: str
    time: float
    connected: bool
    frames_in: int  # frames decoded from the source
    frames_analysed: int
    frames_dropped: int  # replaced by a newer frame before the analyser took them
    lag_ms: float  # capture to end of analysis, last analysed frame
    lag_ms_max: float
    analyse_ms_mean: float
    reconnects: int
    candidates: int
    reads: int  # vehicles read (hits included)
    hits: int
    watch_list_version: int
    watch_list_entries: int

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraStatus:
    """A state change: starting, connected, disconnected, ended (end of a file), stopped, failed.

    `disconnected` is sent once when the source goes away and `connected` once when it returns.
    """

    camera_id: str
    time: float
    state: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


WorkerMessage = PlateHit | PlateReadMessage | CameraTelemetry | CameraStatus
