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
  grows). ``manual`` raises never merge, and an alarm never merges into an officer call (nor a call into
  an alarm): the emergency button of a kiosk whose officer call is open is an incident of its own.
* A *restore* from the source (the panel's restore code, a locking button reset) marks the open
  incident ``restored``; it stays open until the crew closes it.
* An officer call (kind ``officer_call``, from the kiosk) is an incident like an alarm, with the same
  lifecycle, targets and escalation; it only never drives the siren (:data:`CALL_KINDS`).
* Targets: *respond* (acknowledge + dispatch) by ``raised_at + respond_s``, *arrive* (on scene) by
  ``raised_at + arrive_s``, *resolve* (closed) by ``raised_at + resolve_s``. :meth:`IncidentBook.due`
  escalates each missed target once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import msgspec

from edge.alarms.model import (
    CALL_KINDS,
    CHANGE_EVENT,
    KINDS,
    OUTCOMES,
    STATE_RANK,
    STATES,
    TARGETS,
    Budget,
    Change,
    Deadlines,
    Incident,
    IncidentConflictError,
    IncidentNotFoundError,
    Kind,
    Outcome,
    Source,
    State,
    Target,
    Targets,
    TimelineEntry,
    budgets_of,
    new_incident_id,
    time_left,
)

__all__ = [
    "CALL_KINDS",
    "CHANGE_EVENT",
    "KINDS",
    "OUTCOMES",
    "STATES",
    "Budget",
    "Change",
    "Deadlines",
    "Incident",
    "IncidentBook",
    "IncidentConflictError",
    "IncidentNotFoundError",
    "Kind",
    "Outcome",
    "Source",
    "State",
    "Target",
    "Targets",
    "TimelineEntry",
    "budgets_of",
    "new_incident_id",
]


class IncidentBook:
    """All incidents of the station: the open ones and the last ``keep_closed`` closed ones."""

    def __init__(self, *, targets: Targets, keep_closed: int = 200, incidents: Iterable[Incident] = ()) -> None:
        self.targets = targets
        self.keep_closed = keep_closed
        self._by_id: dict[str, Incident] = {i.id: i for i in sorted(incidents, key=lambda i: i.raised_at)}
        self._due: dict[str, dict[Target, float]] = {}  # monotonic due times of the anchored incidents
        self._unanchored = {i.id for i in self._by_id.values() if i.open}
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

    def alarm_in(self, *states: State) -> bool:
        """Whether an alarm (not an officer call) is in one of ``states``."""
        return any(i.alarm and i.state in states for i in self._by_id.values())

    def next_deadline(self) -> float | None:
        """The earliest wall-clock deadline (as shown to the crew) not yet met or escalated."""
        pending = [
            getattr(i.deadlines, t)
            for i in self._by_id.values()
            if i.open
            for t in TARGETS
            if t not in i.missed and not i.met(t)
        ]
        return min(pending, default=None)

    def seconds_to_next_due(self, *, now: float, mono: float | None = None) -> float | None:
        """Seconds until the next target not yet met or escalated falls due (0 or less: due now)."""
        pending = [
            self._left(i, t, now=now, mono=mono)
            for i in self._by_id.values()
            if i.open
            for t in TARGETS
            if t not in i.missed and not i.met(t)
        ]
        return min(pending, default=None)

    def budgets(self, *, now: float, mono: float | None = None, ids: Iterable[str] | None = None) -> dict[str, Budget]:
        """The time left to each target of the open incidents (those of ``ids``), to save."""
        chosen = self._by_id.values() if ids is None else [self._by_id[i] for i in ids if i in self._by_id]
        return budgets_of(chosen, self._due, now=now, mono=mono)

    def due_times(self) -> dict[str, dict[Target, float]]:
        """A copy of the monotonic due times, for :func:`budgets_of` on another thread."""
        return dict(self._due)  # the inner dicts are replaced, never changed

    # ---- clocks ----------------------------------------------------------------------------------
    def anchor(self, *, now: float, mono: float, budgets: Mapping[str, Budget] | None = None) -> None:
        """Pin the timers of every open incident not pinned yet to the monotonic clock ``mono``.

        The time left is the saved budget less the time the box was off (``now - budget.at`` on the
        wall clock, at least 0) when ``budgets`` has one, else the wall-clock deadline less ``now``.
        Call it at start-up with the saved budgets, and after a change made without ``mono``.
        """
        for incident_id in list(self._unanchored):
            self._unanchored.discard(incident_id)
            incident = self._by_id.get(incident_id)
            if incident is None or not incident.open:
                continue
            budget = (budgets or {}).get(incident.id)
            if budget is not None:
                off = max(0.0, now - budget.at)
                left = {t: getattr(budget, t) - off for t in TARGETS}
            else:
                left = {t: getattr(incident.deadlines, t) - now for t in TARGETS}
            self._due[incident.id] = {t: mono + left[t] for t in TARGETS}

    def _left(self, incident: Incident, target: Target, *, now: float, mono: float | None) -> float:
        return time_left(incident, target, self._due.get(incident.id), now=now, mono=mono)

    # ---- transitions -----------------------------------------------------------------------------
    def raise_alarm(
        self, *, kind: Kind, source: Source, now: float, detail: str = "", by: str = "", mono: float | None = None
    ) -> Change:
        """A new alarm: merged into the source's open incident, else a new incident (its timers pinned
        to ``mono`` when given, else by the next :meth:`anchor`)."""
        key = source.merge_key
        if key is not None:
            current = self._open_for(key, alarm=kind not in CALL_KINDS)
            if current is not None:
                entry = TimelineEntry(at=now, what="merged", by=by, detail=detail or "repeated alarm")
                merged = self._put(
                    msgspec.structs.replace(
                        current,
                        presses=current.presses + 1,
                        restored=False,
                        rev=current.rev + 1,
                        timeline=[*current.timeline, entry],
                    )
                )
                return Change(merged, "merged", now, by, entry.detail)
        t = self.targets
        incident = Incident(
            id=self._new_id(now),
            state="raised",
            kind=kind,
            source=source,
            raised_at=now,
            targets=t,
            deadlines=Deadlines(respond=now + t.respond_s, arrive=now + t.arrive_s, resolve=now + t.resolve_s),
            timeline=[TimelineEntry(at=now, what="raised", by=by, detail=detail)],
        )
        self._put(incident)
        if mono is not None:
            self._due[incident.id] = {name: mono + getattr(t, name + "_s") for name in TARGETS}
        else:
            self._unanchored.add(incident.id)
        self._forget_old()
        return Change(incident, "raised", now, by, detail)

    def restore(self, *, source: Source, now: float, detail: str = "") -> Change | None:
        """The source says the alarm condition ended; None if it has no open incident (or it is restored)."""
        key = source.merge_key
        current = self._open_for(key) if key is not None else None
        if current is None or current.restored:
            return None
        entry = TimelineEntry(at=now, what="restored", detail=detail)
        incident = self._put(
            msgspec.structs.replace(current, restored=True, rev=current.rev + 1, timeline=[*current.timeline, entry])
        )
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
                incident = self._put(
                    msgspec.structs.replace(
                        incident,
                        missed=[*incident.missed, target],
                        escalations=incident.escalations + 1,
                        rev=incident.rev + 1,
                        timeline=[*incident.timeline, entry],
                    )
                )
                changes.append(Change(incident, "escalated", now, "", f"{detail} ({late:.0f} s late)", target))
        return changes

    # ---- internals -------------------------------------------------------------------------------
    def _open_for(self, key: str, *, alarm: bool | None = None) -> Incident | None:
        """The source's newest open incident (only an alarm, or only a call, when ``alarm`` says which)."""
        found = [
            i
            for i in self._by_id.values()
            if i.open and i.source.merge_key == key and (alarm is None or i.alarm == alarm)
        ]
        return max(found, key=lambda i: i.raised_at) if found else None

    def _advancing(self, incident_id: str, to: State) -> Incident:
        current = self.get(incident_id)
        if current.state == "closed":
            raise IncidentConflictError(f"incident {incident_id} is already closed ({current.outcome})")
        if to != "closed" and STATE_RANK[current.state] >= STATE_RANK[to]:
            raise IncidentConflictError(
                f"incident {incident_id} is already {current.state.replace('_', ' ')}: cannot mark it "
                f"{to.replace('_', ' ')}"
            )
        return current

    def _step(
        self,
        current: Incident,
        to: State,
        *,
        now: float,
        by: str,
        detail: str = "",
        unit: str = "",
        outcome: Outcome | None = None,
    ) -> Change:
        """Move forward to ``to``; steps skipped on the way are stamped with the same time."""
        acked = current.acked_at if current.acked_at is not None or to == "closed" else now
        dispatched = current.dispatched_at
        if to in ("dispatched", "on_scene") and dispatched is None:
            dispatched = now
        on_scene = current.on_scene_at if current.on_scene_at is not None or to != "on_scene" else now
        entries = list(current.timeline)
        if to != "closed":
            for skipped in STATES[STATE_RANK[current.state] + 1 : STATE_RANK[to]]:
                entries.append(TimelineEntry(at=now, what=skipped, by=by, detail=f"implied by {to}"))
        entries.append(TimelineEntry(at=now, what=to, by=by, detail=detail))
        incident = self._put(
            msgspec.structs.replace(
                current,
                state=to,
                acked_at=acked,
                dispatched_at=dispatched,
                on_scene_at=on_scene,
                closed_at=now if to == "closed" else current.closed_at,
                outcome=outcome or current.outcome,
                unit=unit or current.unit,
                rev=current.rev + 1,
                timeline=entries,
            )
        )
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
        self._unanchored.intersection_update(self._by_id)
