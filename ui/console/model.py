"""The crew console's view-model: pure Python, no Qt, no clock of its own.

`ConsoleBoard` holds what the daemon told the console (open incidents, school links, faults, whether
the daemon is there) and the crew's local choices (which incident is in focus, which re-alerts were
silenced). `board.tick(now)` notices targets missed since the last tick and re-alerts them;
`board.view(now, lang)` computes everything the widgets draw: ordering, timer states, texts.

Alerting: an incident alerts (red takeover, sound) while it is `raised` (nobody acknowledged it), and
again when a 1-3-5 target is missed, when it is escalated, or when the button is pressed again; a
re-alert stops when the crew silences it or moves the incident on. A newly alerting incident takes
the focus; otherwise the crew's selection stays.

Officer calls: an `officer_call` incident alerts as an alarm does (the softer tone; it never takes the
focus from an alerting alarm); a call no incident stands for lives in `board.calls` (`ui/console/calls.py`),
an amber banner until noted.

Watch-listed vehicle hits and the camera line live in `board.vision` (`ui/console/vision.py`): a hit is a
warning (amber banner, softer tone) until the crew notes it, never the red takeover.

The crew's own controls live in `ui/console/crew.py`: the manual alarm form (`board.manual`), the siren
switch (`board.siren`) and the history of closed incidents (`board.history`, on show while
`board.history_open`). The form and the history each take the place of the incident page, one at a time;
a new alarm closes both (the takeover wins; a form not yet confirmed is dropped, nothing was sent).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ui.console.calls import CALL_KINDS, CallBoard
from ui.console.crew import HistoryBoard, ManualAlarm, SirenSwitch
from ui.console.incident import OPEN_STATES, STATE_ORDER, TARGETS, Incident, parse_incident
from ui.console.views import (
    ConsoleView,
    FaultView,
    IncidentView,
    LinkView,
    StepView,
    TimerView,
    clock_text,
    duration_text,
)
from ui.console.vision import VisionBoard

__all__ = ["AMBER_FRACTION", "ConsoleBoard"]

AMBER_FRACTION = 2 / 3  # a running target turns amber when two thirds of its time are gone
# What the crew may do next, the usual next step first (the engine also accepts skipping ahead: a
# dispatch implies the acknowledgement, arriving implies the dispatch; closing is allowed from any state).
ACTIONS = {
    "raised": ("ack", "dispatch", "close"),
    "acknowledged": ("dispatch", "arrive", "close"),
    "dispatched": ("arrive", "close"),
    "on_scene": ("close",),
}
HEALTHY_DEVICE_STATES = {"ok", "online", "ready", "connected", "idle", "starting"}


@dataclass(slots=True)
class _Link:
    site: str
    state: str
    since: float | None


@dataclass(slots=True)
class ConsoleBoard:
    connected: bool = False
    disconnected_at: float | None = None
    incidents: dict[str, Incident] = field(default_factory=dict)
    links: dict[str, _Link] = field(default_factory=dict)
    faults: dict[str, FaultView] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    selected: str | None = None
    _realert: dict[str, list[str]] = field(default_factory=dict)
    _noted: dict[str, set[str]] = field(default_factory=dict)
    _alerting: set[str] = field(default_factory=set)
    _generation: int = 0
    _touched: dict[str, tuple[int, Incident]] = field(default_factory=dict)
    vision: VisionBoard = field(default_factory=VisionBoard)
    manual: ManualAlarm = field(default_factory=ManualAlarm)
    siren: SirenSwitch = field(default_factory=SirenSwitch)
    history: HistoryBoard = field(default_factory=HistoryBoard)
    history_open: bool = False
    calls: CallBoard = field(default_factory=CallBoard)

    # ---- the daemon's connection ---------------------------------------------------------------
    def set_connected(self, value: bool, now: float) -> None:
        self.connected = value
        self.disconnected_at = None if value else (self.disconnected_at or now)
        if not value:
            self.pending.clear()
            self.history.reset()
            if self.manual.step == "sending":
                self.manual.done("the station service is not running")
        self.siren.reset()

    # ---- incidents -----------------------------------------------------------------------------
    def begin_reload(self) -> int:
        """Call before sending `incidents.list`; pass the token to `load_incidents` with its answer."""
        self._generation += 1
        return self._generation

    def load_incidents(self, items: Iterable[Any], token: int) -> None:
        """Replace the incidents with a fresh list, keeping what notifications said after the request."""
        fresh = {inc.id: inc for inc in map(parse_incident, items) if inc.is_open}
        for iid, (gen, inc) in self._touched.items():
            if gen >= token:
                fresh.pop(iid, None)
                if inc.is_open:
                    fresh[iid] = inc
        for iid in set(self.incidents) - set(fresh):
            self._forget(iid)
        self.incidents = fresh
        self._touched = {k: v for k, v in self._touched.items() if v[0] >= token}
        self.notices.pop("incidents", None)

    def apply_incident(self, change: str, obj: Any) -> Incident:
        """An `incidents` notification (or a call's answer, with change ""): update the board."""
        inc = parse_incident(obj)
        if change in {"raised", "escalated"}:
            self.siren.engine_took_over()
        if not inc.is_open:
            self.history.apply(obj)
        old = self.incidents.get(inc.id)
        if old is not None and inc.progress < old.progress:
            inc = old  # a late answer must not undo a newer notification
        self._touched[inc.id] = (self._generation, inc)
        if not inc.is_open:
            self.incidents.pop(inc.id, None)
            self._forget(inc.id)
            return inc
        self.incidents[inc.id] = inc
        if old is not None and STATE_ORDER.get(inc.state, 0) > STATE_ORDER.get(old.state, 0):
            self._realert.pop(inc.id, None)  # the crew moved it on: the re-alert has been answered
        reason = {"escalated": "escalated", "merged": "pressed"}.get(change)
        if reason is not None and inc.state != "raised":
            self._add_realert(inc.id, reason)
        return inc

    def _forget(self, iid: str) -> None:
        self._realert.pop(iid, None)
        self._noted.pop(iid, None)
        self._alerting.discard(iid)
        self.pending.discard(iid)

    def _add_realert(self, iid: str, reason: str) -> None:
        reasons = self._realert.setdefault(iid, [])
        if reason not in reasons:
            reasons.append(reason)

    def silence(self, iid: str) -> None:
        """The crew has seen a re-alert (a raised incident keeps alerting until acknowledged)."""
        self._realert.pop(iid, None)

    def select(self, iid: str) -> None:
        if iid in self.incidents:
            self.selected = iid

    def open_manual(self, default_site: str = "") -> None:
        self.history_open = False
        self.manual.open(default_site)

    def toggle_history(self) -> None:
        self.history_open = not self.history_open
        if self.history_open:
            self.manual.cancel()

    # ---- school links, faults, devices ----------------------------------------------------------
    def load_links(self, items: Iterable[Any]) -> None:
        links: dict[str, _Link] = {}
        for item in items:
            if isinstance(item, dict) and item.get("account") is not None:
                links[str(item["account"])] = _Link(
                    str(item.get("site") or ""), str(item.get("state") or "unknown"), _float(item.get("since"))
                )
        self.links = links
        self.notices.pop("links", None)

    def apply_link(self, params: dict[str, Any], now: float) -> None:
        account = params.get("account")
        if account is None:
            return
        old = self.links.get(str(account))
        state = str(params.get("state") or "unknown")
        site = str(params.get("site") or (old.site if old else ""))
        since = _float(params.get("since")) or (old.since if old and old.state == state else now)
        self.links[str(account)] = _Link(site, state, since)

    def load_status(self, status: dict[str, Any]) -> None:
        faults: dict[str, FaultView] = {}
        for f in status.get("faults") or []:
            if isinstance(f, dict) and f.get("code"):
                faults[str(f["code"])] = FaultView(
                    str(f["code"]), str(f.get("message") or ""), str(f.get("severity") or "error")
                )
        devices = status.get("devices") or {}
        if isinstance(devices, dict):
            for name, state in devices.items():
                if str(state).lower() not in HEALTHY_DEVICE_STATES:
                    code = f"device.{name}"
                    faults.setdefault(code, FaultView(code, f"{name}: {state}", "warning"))
        self.faults = faults

    def apply_fault(self, params: dict[str, Any]) -> None:
        code = str(params.get("code") or "")
        if not code:
            return
        if params.get("active"):
            message, severity = str(params.get("message") or ""), str(params.get("severity") or "error")
            self.faults[code] = FaultView(code, message, severity)
        else:
            self.faults.pop(code, None)

    def set_notice(self, key: str, notice: str | None) -> None:
        """`notices[key]` is a notice key the UI translates; None clears it."""
        if notice:
            self.notices[key] = notice
        else:
            self.notices.pop(key, None)

    # ---- time ----------------------------------------------------------------------------------
    def tick(self, now: float) -> bool:
        """Re-alert targets missed since the last tick; move the focus to a new alarm.

        Returns True when an incident started alerting or a vehicle hit arrived (the sound starts again)."""
        for inc in self.incidents.values():
            missed = set(inc.missed) | {t for t in TARGETS if _timer(inc, t, now).status == "red"}
            new = missed - self._noted.setdefault(inc.id, set())
            self._noted[inc.id] |= new
            if inc.state != "raised":
                for name in sorted(new, key=TARGETS.index):
                    self._add_realert(inc.id, f"missed:{name}")
        alerting = {iid for iid in self.incidents if self._is_alerting(iid)}
        started = alerting - self._alerting
        self._alerting = alerting
        if started:
            self.history_open = False  # the takeover wins over the history and an unconfirmed form
            self.manual.cancel()
            alarms = {i for i in started if self.incidents[i].kind not in CALL_KINDS}
            if alarms or not self._alarm_alerting(self.selected):  # a call never takes an alarm's place
                self.selected = max(alarms or started, key=lambda i: (self.incidents[i].raised_at, i))
        elif self.selected not in self.incidents:
            self.selected = None
        hit = self.vision.tick()
        called = self.calls.tick()
        return bool(started) or hit or called

    def _alarm_alerting(self, iid: str | None) -> bool:
        return iid is not None and iid in self._alerting and self.incidents[iid].kind not in CALL_KINDS

    def _is_alerting(self, iid: str) -> bool:
        return self.incidents[iid].state == "raised" or bool(self._realert.get(iid))

    # ---- what to show --------------------------------------------------------------------------
    def view(self, now: float, lang: str = "zh") -> ConsoleView:
        ordered = sorted(self.incidents.values(), key=lambda i: (i.raised_at, i.id), reverse=True)
        views = tuple(self._incident_view(inc, now, lang) for inc in ordered)
        focus = next((v for v in views if v.id == self.selected), None)
        if focus is None:
            focus = next((v for v in views if v.alerting), views[0] if views else None)
        lost = sorted(
            (
                LinkView(
                    acc, link.site or acc, link.state, link.since, clock_text(link.since, now) if link.since else ""
                )
                for acc, link in self.links.items()
                if link.state == "lost"
            ),
            key=lambda v: (v.since or 0.0, v.account),
        )
        return ConsoleView(
            connected=self.connected,
            disconnected_for=""
            if self.connected or self.disconnected_at is None
            else duration_text(now - self.disconnected_at),
            incidents=views,
            focus=focus,
            alerting=any(v.alerting for v in views),
            lost_links=tuple(lost),
            links_total=len(self.links),
            faults=tuple(
                sorted(
                    (f for f in self.faults.values() if not self.vision.covers_fault(f.code)),
                    key=lambda f: (f.severity != "error", f.code),
                )
            ),
            notices=tuple(self.notices[k] for k in sorted(self.notices)),
            vision=self.vision.view(now, clock_text, self.faults),
            manual=self.manual.view(),
            siren=self.siren.view(),
            history=self.history.view(now, lang, clock_text, _pick) if self.history_open else (),
            history_open=self.history_open,
            calls=self.calls.view(now, lang, clock_text, _pick),
            alarm_alerting=any(v.alerting and v.kind not in CALL_KINDS for v in views),
        )

    def _incident_view(self, inc: Incident, now: float, lang: str) -> IncidentView:
        src = inc.source
        site, site_other = _pick(src.site, src.site_en, lang)
        point, point_other = _pick(src.point, src.point_en, lang)
        timers = tuple(_timer(inc, t, now) for t in TARGETS)
        missed = tuple(t for t in TARGETS if t in inc.missed or _timer(inc, t, now).bad)
        new = "new_call" if inc.kind in CALL_KINDS else "new"
        reasons = ([new] if inc.state == "raised" else []) + self._realert.get(inc.id, [])
        elapsed = max(0.0, now - inc.raised_at)
        return IncidentView(
            id=inc.id,
            state=inc.state,
            kind=inc.kind,
            source_kind=src.kind,
            site=site,
            site_other=site_other,
            point=point,
            point_other=point_other,
            account=src.account,
            zone=src.zone,
            unit=inc.unit,
            raised_clock=clock_text(inc.raised_at, now),
            elapsed_s=elapsed,
            elapsed=duration_text(elapsed),
            timers=timers,
            missed=missed,
            escalations=inc.escalations,
            presses=inc.presses,
            restored=inc.restored,
            alerting=bool(reasons),
            alert_reasons=tuple(reasons),
            actions=ACTIONS.get(inc.state, ("close",) if inc.state not in OPEN_STATES else ()),
            pending=inc.id in self.pending,
            timeline=tuple(StepView(clock_text(s.at, now), s.what, s.by, s.detail) for s in inc.timeline[-4:]),
        )


def _timer(inc: Incident, name: str, now: float) -> TimerView:
    target = inc.target_s(name)
    deadline = inc.deadline(name)
    met = inc.met_at(name)
    end = met if met is not None else now
    used = max(0.0, end - inc.raised_at)
    remaining = deadline - end
    if met is not None:
        status = "met" if met <= deadline else "late"
    elif remaining < 0 or name in inc.missed:
        status = "red"
    elif target > 0 and used >= AMBER_FRACTION * target:
        status = "amber"
    else:
        status = "running"
    fraction = min(1.0, used / target) if target > 0 else 1.0
    return TimerView(name, target, status, remaining, used, fraction)


def _pick(zh: str, en: str, lang: str) -> tuple[str, str]:
    first, second = (en, zh) if lang == "en" else (zh, en)
    if not first:
        return second, ""
    return first, "" if second == first else second


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
