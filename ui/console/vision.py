"""The console's view of the station's cameras: watch-listed vehicle hits and the camera status line.

Pure Python, no Qt, no clock of its own (like `model.py`, which embeds a `VisionBoard`).

Hits come as `vision.hits` notifications (`{"hit": {...}}`, the vision component's contract). A hit is a
warning, not an alarm: it shows in an amber banner and sounds the softer warning tone until the crew
presses "Noted", which is local to this console. The most urgent list entries (priority 1) come first,
then the newest. The board keeps the last `MAX_HITS`; the list shows those seen within `RECENT_S` and
every one not yet noted.

The camera line comes from `vision.cameras` (when the daemon has it) and the `camera.<id>` faults: a
camera with an active fault counts as down even before the next `vision.cameras` answer says so.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

__all__ = [
    "CAMERA_POLL_S",
    "CAMERA_POLL_STARTING_S",
    "MAX_HITS",
    "RECENT_S",
    "CameraLineView",
    "CameraView",
    "HitView",
    "VehicleHit",
    "VisionBoard",
    "VisionView",
    "parse_hit",
]

MAX_HITS = 20  # hits kept by the console (the oldest noted ones go first)
RECENT_S = 3600.0  # a noted hit leaves the list an hour after it was seen
CAMERA_POLL_S = 30.0  # ask `vision.cameras` again this often (state changes without a fault: connected, ended)
CAMERA_POLL_STARTING_S = 3.0  # ... and this often while a camera is starting
ONLINE_STATES = frozenset({"connected", "watch_list_installed", "watch_list_rejected"})
STARTING_STATES = frozenset({"starting"})
DEFAULT_PRIORITY = 9  # an entry without a priority sorts after every prioritised one


class VehicleHit(msgspec.Struct, frozen=True):
    """One `vision.hits` notification's `hit` (unknown fields ignored; payloads gain fields, never rename)."""

    camera: str
    plate: str
    camera_name: str = ""
    kind: str = ""
    confidence: float = 0.0
    listed_plate: str = ""
    reason: str = ""
    list_priority: int = DEFAULT_PRIORITY
    list_version: int = 0
    distance: float = 0.0
    seen_at: float = 0.0
    first_seen: float | None = None
    plate_jpeg_b64: str = ""
    privacy: str = ""

    @property
    def key(self) -> str:
        """One vehicle seen by one camera: the same hit sent twice stays one entry."""
        first = self.first_seen if self.first_seen is not None else self.seen_at
        return f"{self.camera}|{self.listed_plate or self.plate}|{first:.3f}"


def parse_hit(obj: Any) -> VehicleHit:
    """Decode a `vision.hits` notification's `hit`; raises ValueError when it is not one."""
    try:
        return msgspec.convert(obj, VehicleHit)
    except msgspec.ValidationError as exc:
        raise ValueError(f"not a vehicle hit: {exc}") from None


@dataclass(frozen=True, slots=True)
class HitView:
    key: str
    plate: str  # as read
    listed_plate: str  # the watch-list entry's plate
    near: bool  # a near match: the read differs from the listed plate
    reason: str
    priority: int  # 1 = most urgent
    camera: str  # the camera's name, else its id
    camera_id: str
    seen_at: float
    clock: str
    confidence: float
    kind: str
    image: bytes  # the plate crop (JPEG), b"" when the daemon sent none or it was not valid base64
    noted: bool


@dataclass(frozen=True, slots=True)
class CameraView:
    id: str
    name: str
    state: str  # the worker's state, or "fault" when only an active camera fault says it is down
    detail: str
    online: bool
    down: bool


@dataclass(frozen=True, slots=True)
class CameraLineView:
    total: int
    online: int
    starting: int
    down: tuple[CameraView, ...]

    @property
    def level(self) -> str:
        return "warning" if self.down else "ok"


@dataclass(frozen=True, slots=True)
class VisionView:
    hits: tuple[HitView, ...]  # recent hits: not yet noted first, then by list priority, newest first
    alert: HitView | None  # the hit the banner shows: the most urgent one not yet noted
    unnoted: int
    cameras: CameraLineView | None  # None: the daemon has no cameras API (or has not answered yet)

    @property
    def alerting(self) -> bool:
        return self.alert is not None


@dataclass(slots=True)
class _Hit:
    hit: VehicleHit
    image: bytes
    received: int  # arrival order, for a stable sort and for dropping the oldest


@dataclass(slots=True)
class VisionBoard:
    hits: dict[str, _Hit] = field(default_factory=dict)
    noted: set[str] = field(default_factory=set)
    cameras: tuple[dict[str, Any], ...] | None = None  # the last `vision.cameras` list; None: no line
    _received: int = 0
    _alerted: set[str] = field(default_factory=set)

    # ---- hits ----------------------------------------------------------------------------------
    def apply_hit(self, obj: Any) -> str:
        """A `vision.hits` notification's `hit`: add it (or update the same hit) and return its key."""
        hit = parse_hit(obj)
        key = hit.key
        old = self.hits.get(key)
        self._received += 1
        self.hits[key] = _Hit(hit, _jpeg(hit.plate_jpeg_b64), old.received if old else self._received)
        while len(self.hits) > MAX_HITS:
            drop = min(self.hits, key=lambda k: (k not in self.noted, self.hits[k].received))
            self.hits.pop(drop)
            self.noted.discard(drop)
            self._alerted.discard(drop)
        return key

    def note(self, key: str) -> None:
        """The crew has seen this hit ("Noted"): it stops sounding and leaves the banner."""
        if key in self.hits:
            self.noted.add(key)

    def tick(self) -> bool:
        """True when a hit not yet noted arrived since the last tick (the tone starts again)."""
        waiting = {k for k in self.hits if k not in self.noted}
        new = waiting - self._alerted
        self._alerted = waiting
        return bool(new)

    # ---- cameras -------------------------------------------------------------------------------
    def load_cameras(self, result: Any) -> None:
        """A `vision.cameras` answer; raises ValueError when it is not one."""
        cams = result.get("cameras") if isinstance(result, dict) else None
        if not isinstance(cams, list) or not all(isinstance(c, dict) and c.get("id") for c in cams):
            raise ValueError(f"not a camera list: {str(result)[:200]}")
        self.cameras = tuple(cams)

    def forget_cameras(self) -> None:
        """The daemon has no cameras API: no camera line."""
        self.cameras = None

    def camera_poll_s(self) -> float | None:
        """How long until the camera list should be asked again; None: do not ask (no cameras API)."""
        if self.cameras is None:
            return None
        if any(str(c.get("state")) in STARTING_STATES for c in self.cameras):
            return CAMERA_POLL_STARTING_S
        return CAMERA_POLL_S

    # ---- what to show --------------------------------------------------------------------------
    def view(self, now: float, clock: Callable[[float, float], str], fault_codes: Iterable[str] = ()) -> VisionView:
        """`clock(epoch, now)` formats a time (the console's `clock_text`); `fault_codes` are the active
        faults (a `camera.<id>` fault marks that camera down)."""
        views = [
            self._hit_view(k, h, now, clock)
            for k, h in self.hits.items()
            if k not in self.noted or now - h.hit.seen_at <= RECENT_S
        ]
        views.sort(key=lambda v: (v.noted, v.priority, -v.seen_at, -self.hits[v.key].received))
        waiting = [v for v in views if not v.noted]
        return VisionView(
            hits=tuple(views),
            alert=waiting[0] if waiting else None,
            unnoted=len(waiting),
            cameras=self._camera_line(set(fault_codes)),
        )

    def _hit_view(self, key: str, h: _Hit, now: float, clock: Callable[[float, float], str]) -> HitView:
        hit = h.hit
        listed = hit.listed_plate or hit.plate
        return HitView(
            key=key,
            plate=hit.plate,
            listed_plate=listed,
            near=listed != hit.plate or hit.distance > 0,
            reason=hit.reason,
            priority=hit.list_priority,
            camera=hit.camera_name or hit.camera,
            camera_id=hit.camera,
            seen_at=hit.seen_at,
            clock=clock(hit.seen_at, now),
            confidence=hit.confidence,
            kind=hit.kind,
            image=h.image,
            noted=key in self.noted,
        )

    def _camera_line(self, faults: set[str]) -> CameraLineView | None:
        if self.cameras is None:
            return None
        views = []
        for c in self.cameras:
            cid, state = str(c["id"]), str(c.get("state") or "unknown")
            fault = f"camera.{cid}" in faults
            online = state in ONLINE_STATES and not fault
            starting = state in STARTING_STATES and not fault
            shown = "fault" if fault and state in ONLINE_STATES | STARTING_STATES else state
            views.append(
                CameraView(
                    cid,
                    str(c.get("name") or cid),
                    shown,
                    str(c.get("detail") or ""),
                    online,
                    not online and not starting,
                )
            )
        return CameraLineView(
            total=len(views),
            online=sum(v.online for v in views),
            starting=sum(not v.online and not v.down for v in views),
            down=tuple(v for v in views if v.down),
        )

    def covers_fault(self, code: str) -> bool:
        """A camera fault the camera line already shows by name (the status strip leaves it out)."""
        if self.cameras is None:
            return False
        for prefix in ("camera.", "device.camera."):
            if code.startswith(prefix) and any(str(c["id"]) == code[len(prefix) :] for c in self.cameras):
                return True
        return False


def _jpeg(b64: str) -> bytes:
    if not b64:
        return b""
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return b""
    return data if data[:3] == b"\xff\xd8\xff" else b""
