"""What the crew console draws, as plain values: the views `ConsoleBoard.view()` computes, and time texts."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ui.console.calls import CallView
from ui.console.crew import HistoryRowView, ManualAlarmView, SirenView
from ui.console.vision import VisionView

__all__ = [
    "ConsoleView",
    "FaultView",
    "IncidentView",
    "LinkView",
    "StepView",
    "TimerView",
    "clock_text",
    "duration_text",
]


def duration_text(seconds: float) -> str:
    """`2:05`, `1:02:05`; negative durations count as zero."""
    s = max(0, int(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def clock_text(epoch: float, now: float) -> str:
    """Local wall time of an event: `10:02:03`, with the date when it is not today."""
    t, today = time.localtime(epoch), time.localtime(now)
    if (t.tm_year, t.tm_yday) == (today.tm_year, today.tm_yday):
        return time.strftime("%H:%M:%S", t)
    return time.strftime("%m-%d %H:%M:%S", t)


@dataclass(frozen=True, slots=True)
class TimerView:
    name: str  # respond | arrive | resolve
    target_s: float
    status: str  # running | amber | red (missed, still open) | met | late (met after the deadline)
    remaining_s: float  # deadline minus (met time or now); negative once over
    used_s: float  # from raised to met time or now
    fraction: float  # used / target, clipped to [0, 1]

    @property
    def bad(self) -> bool:
        return self.status in {"red", "late"}


@dataclass(frozen=True, slots=True)
class StepView:
    clock: str
    what: str
    by: str
    detail: str


@dataclass(frozen=True, slots=True)
class IncidentView:
    id: str
    state: str
    kind: str
    source_kind: str
    site: str  # in the console's language when the daemon sent it, else the other one
    site_other: str  # the other language's name, "" when the same or unknown
    point: str
    point_other: str
    account: str
    zone: int | None
    unit: str
    raised_clock: str
    elapsed_s: float
    elapsed: str
    timers: tuple[TimerView, ...]
    missed: tuple[str, ...]
    escalations: int
    presses: int
    restored: bool
    alerting: bool
    alert_reasons: tuple[str, ...]  # new | missed:respond | missed:arrive | missed:resolve | escalated | pressed
    actions: tuple[str, ...]  # what the crew can do next: ack, dispatch, arrive, close
    pending: bool  # a call for this incident is on its way: its buttons wait
    timeline: tuple[StepView, ...]  # newest last, at most the last few


@dataclass(frozen=True, slots=True)
class LinkView:
    account: str
    site: str
    state: str
    since: float | None
    since_clock: str


@dataclass(frozen=True, slots=True)
class FaultView:
    code: str
    message: str
    severity: str


@dataclass(frozen=True, slots=True)
class ConsoleView:
    connected: bool
    disconnected_for: str  # "" when connected
    incidents: tuple[IncidentView, ...]  # open ones, newest alarm first
    focus: IncidentView | None
    alerting: bool
    lost_links: tuple[LinkView, ...]
    links_total: int
    faults: tuple[FaultView, ...]
    notices: tuple[str, ...]  # keys of the console's own problems ("no_alarm_service", ...), translated by the UI
    vision: VisionView  # vehicle hits and the camera line (camera faults it shows are not in `faults`)
    manual: ManualAlarmView
    siren: SirenView
    history: tuple[HistoryRowView, ...]  # closed incidents, newest closed first
    history_open: bool  # the crew is looking at the history (no alarm took over since)
    calls: tuple[CallView, ...] = ()  # officer calls no incident stands for, not yet noted, newest first
    alarm_alerting: bool = False  # an alarm (not only officer calls) alerts: the alarm tone
