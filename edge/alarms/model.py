"""The incident model: the typed values of the incident book and its events (see :mod:`edge.alarms.incidents`).

Frozen msgspec Structs: the local API's and the events' ``incident`` is :class:`Incident` as it is
here. :class:`Budget` is what survives a restart of a running timer (the time left to each target).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

import msgspec

__all__ = [
    "CALL_KINDS",
    "CHANGE_EVENT",
    "KINDS",
    "OUTCOMES",
    "STATES",
    "STATE_RANK",
    "TARGETS",
    "Budget",
    "Change",
    "ChangeName",
    "Deadlines",
    "Incident",
    "IncidentConflictError",
    "IncidentNotFoundError",
    "Kind",
    "Outcome",
    "Source",
    "SourceKind",
    "State",
    "Target",
    "Targets",
    "TimelineEntry",
    "budgets_of",
    "new_incident_id",
    "time_left",
]

State = Literal["raised", "acknowledged", "dispatched", "on_scene", "closed"]
Kind = Literal["panic", "duress", "holdup", "emergency", "officer_call"]
SourceKind = Literal["dc09", "modbus", "kiosk", "manual"]
Outcome = Literal["real", "false_alarm", "test"]
ChangeName = Literal["raised", "merged", "acknowledged", "dispatched", "on_scene", "closed", "restored", "escalated"]
Target = Literal["respond", "arrive", "resolve"]

STATES: Final[tuple[State, ...]] = ("raised", "acknowledged", "dispatched", "on_scene", "closed")
KINDS: Final[tuple[Kind, ...]] = ("panic", "duress", "holdup", "emergency", "officer_call")
#: Calls for an officer (a resident pressed "call the officer on duty" at the kiosk), not alarms: less
#: urgent, but held to the same targets and escalated the same way. They never switch the siren or the
#: strobe on (:class:`~edge.alarms.outputs.SirenPolicy`); the console announces them with the softer tone.
CALL_KINDS: Final[frozenset[Kind]] = frozenset({"officer_call"})
OUTCOMES: Final[tuple[Outcome, ...]] = ("real", "false_alarm", "test")
#: The outbox event type of each change.
CHANGE_EVENT: Final[dict[str, str]] = {
    "raised": "alarm.raised",
    "merged": "alarm.merged",
    "acknowledged": "alarm.acknowledged",
    "dispatched": "alarm.dispatched",
    "on_scene": "alarm.on_scene",
    "closed": "alarm.closed",
    "restored": "alarm.restored",
    "escalated": "alarm.escalated",
}
STATE_RANK: Final = {s: i for i, s in enumerate(STATES)}


class IncidentNotFoundError(KeyError):
    """No incident with this id (or it was closed long ago and forgotten)."""


class IncidentConflictError(ValueError):
    """The transition is not allowed from the incident's state (closing twice, ack of a closed one...)."""


class Source(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where the alarm came from. ``account`` is the DC-09 account or the Modbus module name."""

    kind: SourceKind
    site: str = ""
    site_en: str = ""
    point: str = ""
    point_en: str = ""
    account: str = ""
    zone: int | None = None

    @property
    def merge_key(self) -> str | None:
        """Presses with the same key merge into one open incident; None: never merge (manual)."""
        if self.kind == "manual":
            return None
        if self.kind in ("dc09", "modbus"):
            return f"{self.kind}|{self.account}|{self.zone}"
        return f"{self.kind}|{self.site}|{self.point}"


class Targets(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    respond_s: float = 60.0
    arrive_s: float = 180.0
    resolve_s: float = 300.0


class Deadlines(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    respond: float
    arrive: float
    resolve: float


class Budget(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Seconds left to each target at wall time ``at`` (negative: overdue). What survives a restart."""

    at: float
    respond: float
    arrive: float
    resolve: float


TARGETS: Final[tuple[Target, ...]] = ("respond", "arrive", "resolve")


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    at: float
    what: str
    by: str = ""
    detail: str = ""


class Incident(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The incident as the console and central see it (the local API's and the events' ``incident``)."""

    id: str
    state: State
    kind: Kind
    source: Source
    raised_at: float
    acked_at: float | None = None
    dispatched_at: float | None = None
    on_scene_at: float | None = None
    closed_at: float | None = None
    outcome: Outcome | None = None
    presses: int = 1
    restored: bool = False
    unit: str = ""
    targets: Targets
    deadlines: Deadlines
    missed: list[Target] = msgspec.field(default_factory=list)
    escalations: int = 0
    rev: int = 1  # grows with every change: (id, rev) identifies a change, e.g. a re-sent event
    timeline: list[TimelineEntry] = msgspec.field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.state != "closed"

    @property
    def alarm(self) -> bool:
        """An alarm (panic, duress, hold-up, emergency), not a call for an officer (:data:`CALL_KINDS`)."""
        return self.kind not in CALL_KINDS

    def met(self, target: Target) -> bool:
        """Whether the step a target asks for has been done."""
        if target == "respond":
            return self.dispatched_at is not None or self.closed_at is not None
        if target == "arrive":
            return self.on_scene_at is not None or self.closed_at is not None
        return self.closed_at is not None


@dataclass(frozen=True, slots=True)
class Change:
    """One transition: the incident after it, what happened, and the outbox event it becomes."""

    incident: Incident
    change: ChangeName
    at: float
    by: str = ""
    detail: str = ""
    target: Target | None = None  # for "escalated"

    @property
    def event_type(self) -> str:
        return CHANGE_EVENT[self.change]


def new_incident_id(now: float) -> str:
    """``INC-YYYYMMDD-HHMMSS-xxxx`` in UTC: sortable, readable over the radio, unique enough."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    return f"INC-{stamp}-{secrets.token_hex(2)}"


def time_left(
    incident: Incident, target: Target, due: Mapping[Target, float] | None, *, now: float, mono: float | None
) -> float:
    if due is None:  # not anchored: the wall-clock deadline
        return float(getattr(incident.deadlines, target)) - now
    return due[target] - (now if mono is None else mono)


def budgets_of(
    incidents: Iterable[Incident], due: Mapping[str, Mapping[Target, float]], *, now: float, mono: float | None
) -> dict[str, Budget]:
    """The time left to each target of the open ``incidents``, given the book's :meth:`~IncidentBook.due_times`."""
    out: dict[str, Budget] = {}
    for i in incidents:
        if i.open:
            d = due.get(i.id)
            out[i.id] = Budget(
                at=now,
                respond=time_left(i, "respond", d, now=now, mono=mono),
                arrive=time_left(i, "arrive", d, now=now, mono=mono),
                resolve=time_left(i, "resolve", d, now=now, mono=mono),
            )
    return out
