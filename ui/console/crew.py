"""The crew's own controls, as pure view-model (no Qt, no clock of its own; `ConsoleBoard` embeds them):

- `ManualAlarm`: the inline "manual alarm" form. Closed → form (kind, site, point) → confirm → sending →
  closed. Raising always takes a second, separate tap on "Confirm", so a stray tap never raises an alarm.
  `confirm()` returns the `incidents.raise` params; the new incident then arrives like any other (the
  engine notifies).
- `SirenSwitch`: the siren/strobe relays as the daemon last said (`alarms.siren` answers `{"on"}`; there is
  no call that only reads it, so the state is unknown until the crew switches). A manual "off" holds only
  until the next new alarm or escalation (the engine's policy takes the relays back): then it is unknown
  again. A refusal (-32009, manual control disabled by the station's configuration) is remembered until
  the next reconnection and disables the switch.
- `HistoryBoard`: recently closed incidents (`incidents.list {"include_closed": true}`), newest closed
  first, each with its outcome and the response times against the 1-3-5 targets (to dispatch, on scene,
  closed). Reloaded one request at a time; a `closed` notification while a request is out asks again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ui.console.incident import Incident, parse_incident

__all__ = [
    "CONFLICT",
    "HISTORY_ROWS",
    "MANUAL_KINDS",
    "HistoryBoard",
    "HistoryRowView",
    "ManualAlarm",
    "ManualAlarmView",
    "ResponseView",
    "SirenSwitch",
    "SirenView",
]

CONFLICT = -32009  # the engine's "not allowed" (here: manual siren control disabled)
MANUAL_KINDS = ("emergency", "panic")
TEXT_LIMIT = 64  # the engine's limit for site and point
HISTORY_ROWS = 50
# the 1-3-5 targets as the history shows them: the step that meets each, and the target it is held to
RESPONSES = (
    ("dispatch", "respond", "dispatched_at"),
    ("arrive", "arrive", "on_scene_at"),
    ("close", "resolve", "closed_at"),
)


# ---- manual alarm --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ManualAlarmView:
    step: str  # closed | form | confirm | sending
    kind: str
    site: str
    point: str
    problem: str  # "" or a key: site_missing | too_long | raise_failed
    error: str  # the daemon's message when raising failed


@dataclass(slots=True)
class ManualAlarm:
    step: str = "closed"
    kind: str = "emergency"
    site: str = ""
    point: str = ""
    problem: str = ""
    error: str = ""

    def open(self, default_site: str = "") -> None:
        if self.step == "closed":
            self.step, self.kind, self.site, self.point = "form", "emergency", default_site, ""
            self.problem = self.error = ""

    def cancel(self) -> None:
        if self.step != "sending":
            self.step = "closed"
            self.problem = self.error = ""

    def set_kind(self, kind: str) -> None:
        if kind in MANUAL_KINDS and self.step == "form":
            self.kind = kind

    def review(self, site: str, point: str) -> bool:
        """ "Raise…": check the form and ask for the confirmation (False: the form says what is wrong)."""
        if self.step != "form":
            return False
        self.site, self.point = site.strip(), point.strip()
        self.error = ""
        if not self.site:
            self.problem = "site_missing"
        elif len(self.site) > TEXT_LIMIT or len(self.point) > TEXT_LIMIT:
            self.problem = "too_long"
        else:
            self.problem = ""
            self.step = "confirm"
        return self.step == "confirm"

    def back(self) -> None:
        """From the confirmation back to the form (nothing was sent)."""
        if self.step == "confirm":
            self.step = "form"

    def confirm(self, by: str = "") -> dict[str, Any] | None:
        """The second tap: the `incidents.raise` params to send (None unless the form was confirmed)."""
        if self.step != "confirm":
            return None
        self.step = "sending"
        params: dict[str, Any] = {"kind": self.kind, "site": self.site, "point": self.point, "source": "manual"}
        if by:
            params["by"] = by
        return params

    def done(self, error: str | None) -> None:
        """The daemon answered: closed when raised, else back to the form with its message."""
        if self.step != "sending":
            return
        if error is None:
            self.step, self.problem, self.error = "closed", "", ""
        else:
            self.step, self.problem, self.error = "form", "raise_failed", error

    def view(self) -> ManualAlarmView:
        return ManualAlarmView(self.step, self.kind, self.site, self.point, self.problem, self.error)


# ---- siren ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SirenView:
    on: bool | None  # None: not known (not switched from this console since the engine last decided)
    pending: bool
    refused: bool  # manual control is disabled at this station
    error: str  # another failure's message ("" when none)

    @property
    def enabled(self) -> bool:
        return not self.pending and not self.refused


@dataclass(slots=True)
class SirenSwitch:
    on: bool | None = None
    pending: bool = False
    refused: bool = False
    error: str = ""

    def request(self, on: bool) -> dict[str, Any] | None:
        """The crew switched: the `alarms.siren` params (None while a call is out or control is refused)."""
        if self.pending or self.refused:
            return None
        self.pending, self.error = True, ""
        return {"on": bool(on)}

    def answered(self, result: Any, code: int | None = None, message: str = "") -> None:
        """`alarms.siren`'s answer, or its error's code and message."""
        self.pending = False
        if code is None and isinstance(result, dict) and isinstance(result.get("on"), bool):
            self.on, self.error = result["on"], ""
        elif code == CONFLICT:
            self.refused, self.error = True, ""
        else:
            self.error = message or "unexpected answer"

    def engine_took_over(self) -> None:
        """A new alarm or an escalation: the engine's policy decides the relays again."""
        if self.on is False:
            self.on = None

    def reset(self) -> None:
        """After a reconnection nothing is known (the daemon may have restarted with another config)."""
        self.on, self.pending, self.refused, self.error = None, False, False, ""

    def view(self) -> SirenView:
        return SirenView(self.on, self.pending, self.refused, self.error)


# ---- history -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ResponseView:
    name: str  # dispatch | arrive | close
    target: str  # respond | arrive | resolve
    target_s: float
    used_s: float | None  # from raised to the step; None when the step was skipped
    status: str  # met | late | skipped

    @property
    def bad(self) -> bool:
        return self.status == "late"


@dataclass(frozen=True, slots=True)
class HistoryRowView:
    id: str
    site: str
    point: str
    kind: str
    source_kind: str
    raised_clock: str
    closed_clock: str
    outcome: str  # real | false_alarm | test | "" (unknown)
    unit: str
    responses: tuple[ResponseView, ...]
    missed: tuple[str, ...]  # targets the engine counted as missed


@dataclass(slots=True)
class HistoryBoard:
    closed: dict[str, Incident] = field(default_factory=dict)
    pending: bool = False
    again: bool = False
    loaded: bool = False
    failed: bool = False
    _notified: set[str] = field(default_factory=set)  # closed while a request was out

    def want(self) -> bool:
        """Ask for the list now? (True: send `incidents.list`; False: one is out, it will be asked again.)"""
        if self.pending:
            self.again = True
            return False
        self.pending, self.again = True, False
        self._notified.clear()
        return True

    def load(self, items: Iterable[Any] | None) -> bool:
        """The list's answer (None: it failed). Returns True when it must be asked again at once."""
        self.pending = False
        if items is None:
            self.failed = True
        else:
            fresh = {inc.id: inc for inc in map(parse_incident, items) if not inc.is_open}
            for iid, old in self.closed.items():  # a closed notification newer than the list stays
                if (iid in fresh and old.progress > fresh[iid].progress) or (
                    iid not in fresh and iid in self._notified
                ):
                    fresh[iid] = old
            self.closed, self.loaded, self.failed = fresh, True, False
        again, self.again = self.again, False
        return again

    def apply(self, obj: Any) -> None:
        """A closed incident from a notification (shown at once, before the list's answer)."""
        inc = parse_incident(obj)
        if not inc.is_open:
            old = self.closed.get(inc.id)
            if old is None or inc.progress >= old.progress:
                self.closed[inc.id] = inc
                if self.pending:
                    self._notified.add(inc.id)

    def reset(self) -> None:
        self.pending = self.again = False

    def view(
        self,
        now: float,
        lang: str,
        clock: Callable[[float, float], str],
        pick: Callable[[str, str, str], tuple[str, str]],
    ) -> tuple[HistoryRowView, ...]:
        ordered = sorted(self.closed.values(), key=lambda i: (i.closed_at or i.raised_at, i.id), reverse=True)
        return tuple(_row(inc, now, lang, clock, pick) for inc in ordered[:HISTORY_ROWS])


def _row(
    inc: Incident,
    now: float,
    lang: str,
    clock: Callable[[float, float], str],
    pick: Callable[[str, str, str], tuple[str, str]],
) -> HistoryRowView:
    src = inc.source
    responses = []
    for name, target, attr in RESPONSES:
        at: float | None = getattr(inc, attr)
        target_s = inc.target_s(target)
        if at is None:
            responses.append(ResponseView(name, target, target_s, None, "skipped"))
        else:
            used = max(0.0, at - inc.raised_at)
            late = at > inc.deadline(target) or target in inc.missed
            responses.append(ResponseView(name, target, target_s, used, "late" if late else "met"))
    return HistoryRowView(
        id=inc.id,
        site=pick(src.site, src.site_en, lang)[0],
        point=pick(src.point, src.point_en, lang)[0],
        kind=inc.kind,
        source_kind=src.kind,
        raised_clock=clock(inc.raised_at, now),
        closed_clock=clock(inc.closed_at, now) if inc.closed_at is not None else "",
        outcome=inc.outcome or "",
        unit=inc.unit,
        responses=tuple(responses),
        missed=inc.missed,
    )
