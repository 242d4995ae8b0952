"""The alarms component's methods, and the incident as the API sends it.

`Incident` is the API's view, lenient by design: unknown fields are ignored (payloads gain fields, they
never rename them) and states and kinds are plain strings, so a console older than the daemon still
shows an incident whose state or kind it does not know yet. The engine's own record
(`edge.alarms.incidents.Incident`) is strict and encodes to the same JSON.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from edge.wire.api.base import CREW, Empty, Method, Params, Short, Text

__all__ = [
    "ALARMS_LINKS",
    "ALARMS_SIREN",
    "CALL_KINDS",
    "INCIDENTS_ACK",
    "INCIDENTS_ARRIVE",
    "INCIDENTS_CLOSE",
    "INCIDENTS_DISPATCH",
    "INCIDENTS_GET",
    "INCIDENTS_LIST",
    "INCIDENTS_RAISE",
    "OPEN_STATES",
    "STATE_ORDER",
    "Deadlines",
    "Incident",
    "IncidentClose",
    "IncidentDispatch",
    "IncidentId",
    "IncidentList",
    "IncidentQuery",
    "IncidentRaise",
    "IncidentRef",
    "LinkRow",
    "Links",
    "Siren",
    "Source",
    "Step",
    "Targets",
]

#: Kinds that are a call for an officer, not an alarm (as `edge.alarms.model.CALL_KINDS`): the same
#: targets and escalation, but no siren, and the console announces them with the softer tone.
CALL_KINDS = frozenset({"officer_call"})
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
        steps = {
            "respond": (self.dispatched_at, self.on_scene_at, self.closed_at),
            "arrive": (self.on_scene_at, self.closed_at),
            "resolve": (self.closed_at,),
        }[name]
        times = [t for t in steps if t is not None]
        return min(times) if times else None


class IncidentQuery(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    include_closed: bool = False


class IncidentList(msgspec.Struct, frozen=True, kw_only=True):
    incidents: list[Incident]


class IncidentId(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An incident to read."""

    id: Short


class IncidentRef(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An incident to acknowledge or mark on scene.

    `by` is taken only from an admin tool's connection that is not logged in; a crew connection's
    changes are signed by its logged-in member (`crew.login`), and a different `by` is refused."""

    id: Short
    by: Short = ""


class IncidentDispatch(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Short
    unit: Annotated[str, msgspec.Meta(max_length=32)] = ""
    by: Short = ""


class IncidentClose(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Short
    outcome: Literal["real", "false_alarm", "test"]
    note: Text = ""
    by: Short = ""


class IncidentRaise(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["panic", "duress", "holdup", "emergency", "officer_call"] = "emergency"
    site: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    site_en: Short = ""
    point: Short = ""
    point_en: Short = ""
    source: Literal["kiosk", "manual"] = "manual"
    by: Short = ""


class LinkRow(msgspec.Struct, frozen=True, kw_only=True):
    account: str
    site: str
    state: str
    kind: str
    since: float


class Links(msgspec.Struct, frozen=True, kw_only=True):
    links: list[LinkRow]


class Siren(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    on: bool


INCIDENTS_LIST: Method[IncidentQuery, IncidentList] = Method(
    "incidents.list", IncidentQuery, IncidentList, CREW, "Open incidents (or all kept)."
)
INCIDENTS_GET: Method[IncidentId, Incident] = Method(
    "incidents.get", IncidentId, Incident, CREW, "One incident (-32004 if unknown)."
)
INCIDENTS_ACK: Method[IncidentRef, Incident] = Method(
    "incidents.ack", IncidentRef, Incident, CREW, "Acknowledge (-32009 if not allowed now)."
)
INCIDENTS_DISPATCH: Method[IncidentDispatch, Incident] = Method(
    "incidents.dispatch", IncidentDispatch, Incident, CREW, "Dispatch a unit."
)
INCIDENTS_ARRIVE: Method[IncidentRef, Incident] = Method(
    "incidents.arrive", IncidentRef, Incident, CREW, "The unit is on scene."
)
INCIDENTS_CLOSE: Method[IncidentClose, Incident] = Method(
    "incidents.close", IncidentClose, Incident, CREW, "Close with an outcome."
)
INCIDENTS_RAISE: Method[IncidentRaise, Incident] = Method(
    "incidents.raise", IncidentRaise, Incident, CREW, "Raise an alarm by hand."
)
ALARMS_LINKS: Method[Empty, Links] = Method(
    "alarms.links", Empty, Links, CREW, "Supervised alarm links and their state."
)
ALARMS_SIREN: Method[Siren, Siren] = Method(
    "alarms.siren", Siren, Siren, CREW, "Switch the siren (-32009 if manual control is off)."
)
