"""Incidents: one alarm becomes one incident with a lifecycle, held to the city's "1-3-5" targets.

Sans-IO: :class:`IncidentBook` never reads a clock, touches a file or a socket. Every method takes
``now`` (unix epoch seconds) and returns the :class:`Change` it made; the caller persists the book,
tells the crew and commits the change's event to the outbox.

Two clocks. ``now`` (the wall clock) stamps what happened: ``raised_at``, the timeline, and the
``deadlines`` shown to the crew. Whether a target is *missed* is decided on a monotonic clock
(``mono``, e.g. ``time.monotonic()``), so an NTP step of the wall clock neither fires escalations
early nor holds them back: :meth:`IncidentBook.anchor` pins the open incidents' timers to ``mono``;
:meth:`IncidentBook.due` then uses ``mono`` only. Passing no ``mono`` anywhere means one clock for both.

Restarts. A monotonic clock does not survive a reboot, so what is saved is the time left to each
target and the wall time it was measured at (:class:`Budget`, :meth:`IncidentBook.budgets`). On start
the time the box was off is measured on the wall clock (``now - budget.at``, never less than 0: a
wall clock that went back while the box was off counts as no time off) and taken from the budget. A
box that was off longer than a target escalates that target at once when it starts (each target
once, as usual); a box with no saved budget (an older snapshot) uses the wall-clock deadlines.

Lifecycle::

    raised ──ack──> acknowledged ──dispatch──> dispatched ──arrive──> on_scene ──close──> closed
       └──────────────(later steps may skip earlier ones; close works from any open state)──┘

* A repeated press from the same source while its incident is open is *merged* into it (``presses``
  grows). ``manual`` raises never merge.
* A *restore* from the source (the panel's restore code, a locking button reset) marks the open
  incident ``restored``; it stays open until the crew closes it.
* Targets: *respond* (acknowledge + dispatch) by ``raised_at + respond_s``, *arrive* (on scene) by
  ``raised_at + arrive_s``, *resolve* (closed) by ``raised_at + resolve_s``. :meth:`IncidentBook.due`
  escalates each missed target once.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final, Literal

import msgspec

__all__ = [
    "CHANGE_EVENT",
    "Budget",
    "Change",
    "Deadlines",
    "Incident",
    "IncidentBook",
    "IncidentConflictError",
    "IncidentNotFoundError",
    "Source",
    "Targets",
    "TimelineEntry",
]

State = Literal["raised", "acknowledged", "dispatched", "on_scene", "closed"]
Kind = Literal["panic", "duress", "holdup", "emergency"]
SourceKind = Literal["dc09", "modbus", "kiosk", "manual"]
Outcome = Literal["real", "false_alarm", "test"]
ChangeName = Literal[
    "raised", "merged", "acknowledged", "dispatched", "on_scene", "closed", "restored", "escalated"
]
Target = Literal["respond", "arrive", "resolve"]

STATES: Final[tuple[State, ...]] = ("raised", "acknowledged", "dispatched", "on_scene", "closed")
KINDS: Final[tuple[Kind, ...]] = ("panic", "duress", "holdup", "emergency")
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
_RANK: Final = {s: i for i, s in enumerate(STATES)}


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


class IncidentBook:
    """All incidents of the station: the open ones and the last ``keep_closed`` closed ones."""

    def __init__(self, *, targets: Targets, keep_closed: int = 200, incidents: Iterable[Incident] = ()) -> None:
        self.targets = targets
        self.keep_closed = keep_closed
        self._by_id: dict[str, Incident] = {i.id: i for i in sorted(incidents, key=lambda i: i.raised_at)}
        self._due: dict[str, dict[Target, float]] = {}  # monotonic due times of the anchored incidents
        self._forget_old()

    # ---- reading ---------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Incident]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, incident_id: str) -> Incident:
        try:
            return self._by_id[incident_id]
        except KeyError:
            raise IncidentNotFoundError(f"no incident {incident_id!r}") from None

    def listing(self, *, include_closed: bool = False) -> list[Incident]:
        """Newest first."""
        items = [i for i in self._by_id.values() if include_closed or i.open]
        return sorted(items, key=lambda i: (i.raised_at, i.id), reverse=True)

    def open_incidents(self) -> list[Incident]:
        return [i for i in self._by_id.values() if i.open]

    def any_in(self, *states: State) -> bool:
        return any(i.state in states for i in self._by_id.values())

    def next_deadline(self) -> float | None:
        """The earliest wall-clock deadline (as shown to the crew) not yet met or escalated."""
        pending = [
            getattr(i.deadlines, t) for i in self._by_id.values() if i.open
            for t in TARGETS if t not in i.missed and not i.met(t)
        ]
        return min(pending, default=None)

    def seconds_to_next_due(self, *, now: float, mono: float | None = None) -> float | None:
        """Seconds until the next target not yet met or escalated falls due (0 or less: due now)."""
        pending = [
            self._left(i, t, now=now, mono=mono) for i in self._by_id.values() if i.open
            for t in TARGETS if t not in i.missed and not i.met(t)
        ]
        return min(pending, default=None)

    def budgets(self, *, now: float, mono: float | None = None,
                ids: Iterable[str] | None = None) -> dict[str, Budget]:
        """The time left to each target of the open incidents (those of ``ids``), to save."""
        chosen = self._by_id.values() if ids is None else [self._by_id[i] for i in ids if i in self._by_id]
        return {
            i.id: Budget(at=now, **{t: self._left(i, t, now=now, mono=mono) for t in TARGETS})
            for i in chosen if i.open
        }

    # ---- clocks ----------------------------------------------------------------------------------
    def anchor(self, *, now: float, mono: float, budgets: Mapping[str, Budget] | None = None) -> None:
        """Pin the timers of every open incident not pinned yet to the monotonic clock ``mono``.

        The time left is the saved budget less the time the box was off (``now - budget.at`` on the
        wall clock, at least 0) when ``budgets`` has one, else the wall-clock deadline less ``now``.
        Call it at start-up with the saved budgets, and after a change made without ``mono``.
        """
        for incident in self._by_id.values():
            if not incident.open or incident.id in self._due:
                continue
            budget = (budgets or {}).get(incident.id)
            if budget is not None:
                off = max(0.0, now - budget.at)
                left = {t: getattr(budget, t) - off for t in TARGETS}
            else:
                left = {t: getattr(incident.deadlines, t) - now for t in TARGETS}
            self._due[incident.id] = {t: mono + left[t] for t in TARGETS}

    def _left(self, incident: Incident, target: Target, *, now: float, mono: float | None) -> float:
        due = self._due.get(incident.id)
        if due is None:
            return float(getattr(incident.deadlines, target)) - now
        return due[target] - (now if mono is None else mono)

    # ---- transitions -----------------------------------------------------------------------------
    def raise_alarm(self, *, kind: Kind, source: Source, now: float, detail: str = "", by: str = "",
                    mono: float | None = None) -> Change:
        """A new alarm: merged into the source's open incident, else a new incident (its timers pinned
        to ``mono`` when given, else by the next :meth:`anchor`)."""
        key = source.merge_key
        if key is not None:
            current = self._open_for(key)
            if current is not None:
                entry = TimelineEntry(at=now, what="merged", by=by, detail=detail or "repeated alarm")
                merged = self._put(msgspec.structs.replace(
                    current, presses=current.presses + 1, restored=False, rev=current.rev + 1,
                    timeline=[*current.timeline, entry],
                ))
                return Change(merged, "merged", now, by, entry.detail)
        t = self.targets
        incident = Incident(
            id=self._new_id(now), state="raised", kind=kind, source=source, raised_at=now, targets=t,
            deadlines=Deadlines(respond=now + t.respond_s, arrive=now + t.arrive_s, resolve=now + t.resolve_s),
            timeline=[TimelineEntry(at=now, what="raised", by=by, detail=detail)],
        )
        self._put(incident)
        if mono is not None:
            self._due[incident.id] = {name: mono + getattr(t, name + "_s") for name in TARGETS}
        self._forget_old()
        return Change(incident, "raised", now, by, detail)

    def restore(self, *, source: Source, now: float, detail: str = "") -> Change | None:
        """The source says the alarm condition ended; None if it has no open incident (or it is restored)."""
        key = source.merge_key
        current = self._open_for(key) if key is not None else None
        if current is None or current.restored:
            return None
        entry = TimelineEntry(at=now, what="restored", detail=detail)
        incident = self._put(msgspec.structs.replace(
            current, restored=True, rev=current.rev + 1, timeline=[*current.timeline, entry]))
        return Change(incident, "restored", now, "", detail)

    def acknowledge(self, incident_id: str, *, now: float, by: str = "") -> Change:
        current = self._advancing(incident_id, "acknowledged")
        return self._step(current, "acknowledged", now=now, by=by)

    def dispatch(self, incident_id: str, *, now: float, by: str = "", unit: str = "") -> Change:
        current = self._advancing(incident_id, "dispatched")
        return self._step(current, "dispatched", now=now, by=by, detail=unit, unit=unit)

    def arrive(self, incident_id: str, *, now: float, by: str = "") -> Change:
        current = self._advancing(incident_id, "on_scene")
        return self._step(current, "on_scene", now=now, by=by)

    def close(self, incident_id: str, *, outcome: Outcome, now: float, by: str = "", note: str = "") -> Change:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
        current = self._advancing(incident_id, "closed")
        detail = f"{outcome}: {note}" if note else outcome
        change = self._step(current, "closed", now=now, by=by, detail=detail, outcome=outcome)
        self._forget_old()
        return change

    def due(self, now: float, *, mono: float | None = None) -> list[Change]:
        """Escalate every target missed by ``mono`` (by ``now`` for an incident not anchored), each
        target of each incident once. ``now`` stamps the escalation."""
        changes: list[Change] = []
        for current in list(self._by_id.values()):
            if not current.open:
                continue
            incident = current
            for target in TARGETS:
                if target in incident.missed or incident.met(target):
                    continue
                left = self._left(incident, target, now=now, mono=mono)
                if left > 0:
                    continue
                late = max(0.0, -left)
                detail = f"{target} target of {getattr(incident.targets, target + '_s'):g} s missed"
                entry = TimelineEntry(at=now, what="escalated", detail=detail)
                incident = self._put(msgspec.structs.replace(
                    incident, missed=[*incident.missed, target], escalations=incident.escalations + 1,
                    rev=incident.rev + 1, timeline=[*incident.timeline, entry],
                ))
                changes.append(Change(incident, "escalated", now, "", f"{detail} ({late:.0f} s late)", target))
        return changes

    # ---- internals -------------------------------------------------------------------------------
    def _open_for(self, key: str) -> Incident | None:
        found = [i for i in self._by_id.values() if i.open and i.source.merge_key == key]
        return max(found, key=lambda i: i.raised_at) if found else None

    def _advancing(self, incident_id: str, to: State) -> Incident:
        current = self.get(incident_id)
        if current.state == "closed":
            raise IncidentConflictError(f"incident {incident_id} is already closed ({current.outcome})")
        if to != "closed" and _RANK[current.state] >= _RANK[to]:
            raise IncidentConflictError(
                f"incident {incident_id} is already {current.state.replace('_', ' ')}: cannot mark it "
                f"{to.replace('_', ' ')}")
        return current

    def _step(self, current: Incident, to: State, *, now: float, by: str, detail: str = "",
              unit: str = "", outcome: Outcome | None = None) -> Change:
        """Move forward to ``to``; steps skipped on the way are stamped with the same time."""
        acked = current.acked_at if current.acked_at is not None or to == "closed" else now
        dispatched = current.dispatched_at
        if to in ("dispatched", "on_scene") and dispatched is None:
            dispatched = now
        on_scene = current.on_scene_at if current.on_scene_at is not None or to != "on_scene" else now
        entries = list(current.timeline)
        if to != "closed":
            for skipped in STATES[_RANK[current.state] + 1 : _RANK[to]]:
                entries.append(TimelineEntry(at=now, what=skipped, by=by, detail=f"implied by {to}"))
        entries.append(TimelineEntry(at=now, what=to, by=by, detail=detail))
        incident = self._put(msgspec.structs.replace(
            current, state=to, acked_at=acked, dispatched_at=dispatched, on_scene_at=on_scene,
            closed_at=now if to == "closed" else current.closed_at, outcome=outcome or current.outcome,
            unit=unit or current.unit, rev=current.rev + 1, timeline=entries,
        ))
        return Change(incident, to, now, by, detail)

    def _put(self, incident: Incident) -> Incident:
        self._by_id[incident.id] = incident
        return incident

    def _new_id(self, now: float) -> str:
        while True:
            candidate = new_incident_id(now)
            if candidate not in self._by_id:
                return candidate

    def _forget_old(self) -> None:
        closed = sorted((i for i in self._by_id.values() if not i.open), key=lambda i: i.closed_at or 0.0)
        for old in closed[: max(0, len(closed) - self.keep_closed)]:
            del self._by_id[old.id]
        for gone in [i for i in self._due if i not in self._by_id or not self._by_id[i].open]:
            del self._due[gone]
