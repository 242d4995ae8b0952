"""The incident as the daemon sends it (the incidents API contract), decoded into typed values.

Unknown fields are ignored (payloads gain fields, they never rename them); a wrong type is a
`ValueError`. States and kinds stay plain strings so that a console older than the daemon still shows
an incident whose state or kind it does not know yet (as open, with the raw name).
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "OPEN_STATES",
    "STATE_ORDER",
    "TARGETS",
    "Deadlines",
    "Incident",
    "Source",
    "Step",
    "Targets",
    "parse_incident",
]

TARGETS = ("respond", "arrive", "resolve")
OPEN_STATES = ("raised", "acknowledged", "dispatched", "on_scene")
STATE_ORDER = {"raised": 0, "acknowledged": 1, "dispatched": 2, "on_scene": 3, "closed": 4}


class Source(msgspec.Struct, frozen=True):
    kind: str = "manual"  # dc09 | modbus | kiosk | manual
    site: str = ""
    site_en: str = ""
    point: str = ""
    point_en: str = ""
    account: str = ""
    zone: int | None = None


class Targets(msgspec.Struct, frozen=True):
    respond_s: float = 60.0
    arrive_s: float = 180.0
    resolve_s: float = 300.0


class Deadlines(msgspec.Struct, frozen=True):
    respond: float | None = None
    arrive: float | None = None
    resolve: float | None = None


class Step(msgspec.Struct, frozen=True):
    at: float
    what: str
    by: str = ""
    detail: str = ""


class Incident(msgspec.Struct, frozen=True):
    id: str
    state: str
    kind: str = "emergency"
    source: Source = Source()
    raised_at: float = 0.0
    acked_at: float | None = None
    dispatched_at: float | None = None
    on_scene_at: float | None = None
    closed_at: float | None = None
    outcome: str | None = None
    presses: int = 1
    restored: bool = False
    unit: str = ""
    targets: Targets = Targets()
    deadlines: Deadlines = Deadlines()
    missed: tuple[str, ...] = ()
    escalations: int = 0
    rev: int = 0  # grows with every change (0: a daemon that does not send it)
    timeline: tuple[Step, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.state != "closed"

    @property
    def progress(self) -> tuple[int, int, int]:
        """Orders two versions of one incident: the higher revision, else the later state or longer timeline."""
        return self.rev, STATE_ORDER.get(self.state, 0), len(self.timeline)

    def target_s(self, name: str) -> float:
        return float(getattr(self.targets, f"{name}_s"))

    def deadline(self, name: str) -> float:
        """The absolute deadline of a 1-3-5 target: the daemon's, or raised_at + target if it sent none."""
        value: float | None = getattr(self.deadlines, name)
        return value if value is not None else self.raised_at + self.target_s(name)

    def met_at(self, name: str) -> float | None:
        """When a target was met, as the engine counts it: respond by dispatching (1 min), arrive on scene
        (3 min), resolve by closing (5 min); closing meets every target still open."""
        steps = {"respond": (self.dispatched_at, self.on_scene_at, self.closed_at),
                 "arrive": (self.on_scene_at, self.closed_at), "resolve": (self.closed_at,)}[name]
        times = [t for t in steps if t is not None]
        return min(times) if times else None


def parse_incident(obj: Any) -> Incident:
    """Decode one contract `Incident` object; raises ValueError when it is not one."""
    try:
        return msgspec.convert(obj, Incident)
    except msgspec.ValidationError as exc:
        raise ValueError(f"not an incident: {exc}") from None
