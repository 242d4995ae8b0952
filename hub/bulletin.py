"""The weekly incident bulletin (每周警情通报): a pure function from stored rows to a `Bulletin`.

A week is an ISO week in the stations' time zone (Asia/Shanghai by default): Monday 00:00 to the next
Monday 00:00 local time. Alarms are counted by kind from the incidents raised in the week (a test alarm
is not an incident); reports by category from the `kiosk.report` events accepted in the week. Each
category that occurs in this week or the week before gets a row, so one that disappears shows as 0 with
its drop. The 1-3-5 targets are counted as the alarm engine counts them (`Incident.met_at`,
`Incident.deadline`): respond (dispatched) within 1 minute, arrive (on scene) within 3, resolve (closed)
within 5; an incident still inside a deadline is not counted for that target yet.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

from edge.wire.api.incidents import Incident
from edge.wire.bulletin import WEEK_RE, Bulletin, CategoryCount, TargetShare
from edge.wire.ids import utc_now_iso

__all__ = [
    "DEFAULT_TZ",
    "TIPS",
    "ReportRow",
    "Week",
    "generate",
    "tip_for",
]

DEFAULT_TZ: Final = "Asia/Shanghai"

ALARM_KINDS: Final = {
    "panic": ("紧急求助报警", "Panic alarms"),
    "duress": ("胁迫报警", "Duress alarms"),
    "holdup": ("抢劫报警", "Hold-up alarms"),
    "emergency": ("紧急报警", "Emergency alarms"),
}
REPORT_CATEGORIES: Final = {
    "dispute": ("纠纷求助", "Dispute reports"),
    "hazard": ("安全隐患", "Hazard reports"),
}
TARGETS: Final = {
    "respond": ("1 分钟内响应", "Responded within 1 min"),
    "arrive": ("3 分钟内到场", "On scene within 3 min"),
    "resolve": ("5 分钟内处置", "Resolved within 5 min"),
}
TIPS: Final = (
    (
        "陌生来电自称公检法要求转账的，一律是诈骗。",
        "A caller who says they are police and asks for money is a scammer.",
    ),
    ("电动车请在室外充电，不要推进楼道和家中。", "Charge e-bikes outdoors, never in stairwells or at home."),
    ("出门随手关窗锁门，贵重物品不要放在车内显眼处。", "Lock doors and windows; keep valuables out of sight in cars."),
    (
        "孩子上下学请走有人看护的路线，遇到危险就近找警务站。",
        "Children: walk supervised routes; in danger, go to a police kiosk.",
    ),
    ("网购退款、刷单返利要求先付款的，都是骗局。", "Refund or 'paid review' offers that want money first are scams."),
    (
        "发现燃气异味请开窗通风，不要开关电器，到室外拨打报修电话。",
        "Smell gas? Open windows, touch no switches, call from outside.",
    ),
)


def tip_for(week: str) -> tuple[str, str]:
    """Central's default tip for a week (a person may replace it before the bulletin goes out)."""
    return TIPS[Week.parse(week).number % len(TIPS)]


@dataclass(frozen=True, slots=True)
class Week:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        m = WEEK_RE.match(text)
        if m is None:
            raise ValueError(f"a week looks like 2026-W49, got {text!r}")
        year, number = int(m.group(1)), int(m.group(2))
        try:
            dt.date.fromisocalendar(year, number, 1)
        except ValueError:
            raise ValueError(f"{year} has no ISO week {number}") from None
        return cls(year, number)

    @classmethod
    def of(cls, t: float, tz: str = DEFAULT_TZ) -> Week:
        year, number, _ = dt.datetime.fromtimestamp(t, ZoneInfo(tz)).isocalendar()
        return cls(year, number)

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.number, 1)

    def shifted(self, weeks: int) -> Week:
        year, number, _ = (self.monday + dt.timedelta(weeks=weeks)).isocalendar()
        return Week(year, number)

    def bounds(self, tz: str = DEFAULT_TZ) -> tuple[float, float]:
        """[start, end) as Unix times: local Monday 00:00 to the next Monday 00:00."""
        zone = ZoneInfo(tz)
        start = dt.datetime.combine(self.monday, dt.time(), zone)
        end = dt.datetime.combine(self.monday + dt.timedelta(weeks=1), dt.time(), zone)
        return start.timestamp(), end.timestamp()


@dataclass(frozen=True, slots=True)
class ReportRow:
    station: str
    at: float  # when the station accepted the report (the event's ts)
    category: str


def _label(table: dict[str, tuple[str, str]], key: str) -> tuple[str, str]:
    return table.get(key, (key or "其他", key or "other"))


def _rows(kind: str, table: dict[str, tuple[str, str]], now: Counter[str], before: Counter[str]) -> list[CategoryCount]:
    order = list(table)
    keys = sorted(set(now) | set(before), key=lambda k: (order.index(k) if k in order else len(order), k))
    out = []
    for key in keys:
        zh, en = _label(table, key)
        out.append(CategoryCount(kind=kind, category=key, zh=zh, en=en, this_week=now[key], last_week=before[key]))
    return out


def _targets(incidents: list[Incident], now: float) -> list[TargetShare]:
    out = []
    for name, (zh, en) in TARGETS.items():
        met = counted = 0
        for inc in incidents:
            due, done = inc.deadline(name), inc.met_at(name)
            if done is None and now <= due:
                continue  # still inside the deadline: not decided yet
            counted += 1
            met += done is not None and done <= due
        out.append(TargetShare(name=name, zh=zh, en=en, met=met, counted=counted))
    return out


def _summary(incidents: int, reports: int, reports_before: int, alarms_before: int) -> tuple[str, str]:
    def trend_zh(n: int, before: int) -> str:
        d = n - before
        return "与上周持平" if d == 0 else f"较上周{'增加' if d > 0 else '减少'} {abs(d)} 起"

    def trend_en(n: int, before: int) -> str:
        d = n - before
        return "the same as last week" if d == 0 else f"{abs(d)} {'more' if d > 0 else 'fewer'} than last week"

    zh = (
        f"本周本辖区共发生报警 {incidents} 起，{trend_zh(incidents, alarms_before)}；"
        f"群众报事 {reports} 件，{trend_zh(reports, reports_before).replace('起', '件')}。"
    )
    en = (
        f"This week the area had {incidents} alarms, {trend_en(incidents, alarms_before)}, "
        f"and residents filed {reports} reports, {trend_en(reports, reports_before)}."
    )
    return zh, en


def generate(
    week: str,
    area: str,
    stations: Iterable[str],
    *,
    reports: Iterable[ReportRow],
    incidents: Iterable[Incident],
    now: float,
    tz: str = DEFAULT_TZ,
    tip: tuple[str, str] | None = None,
) -> Bulletin:
    """The bulletin of `area` for `week` from rows of this week and the week before (others are ignored).

    `incidents` is the latest revision of each incident of the area's stations."""
    this = Week.parse(week)
    start, end = this.bounds(tz)
    before_start = this.shifted(-1).bounds(tz)[0]
    members = sorted(set(stations))
    inside = set(members)

    def when(t: float) -> int | None:  # 0: this week, 1: the week before
        return 0 if start <= t < end else 1 if before_start <= t < start else None

    reps: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    for r in reports:
        w = when(r.at)
        if w is not None and r.station in inside:
            reps[w][r.category] += 1
    alarms: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    this_week: list[Incident] = []
    for inc in incidents:
        w = when(inc.raised_at)
        if w is None or inc.outcome == "test":
            continue
        alarms[w][inc.kind] += 1
        if w == 0:
            this_week.append(inc)
    summary = _summary(len(this_week), sum(reps[0].values()), sum(reps[1].values()), sum(alarms[1].values()))
    tip_zh, tip_en = tip or tip_for(week)
    return Bulletin(
        week=str(this),
        area=area,
        stations=members,
        first_day=this.monday.isoformat(),
        last_day=(this.monday + dt.timedelta(days=6)).isoformat(),
        tz=tz,
        categories=_rows("alarm", ALARM_KINDS, *alarms) + _rows("report", REPORT_CATEGORIES, *reps),
        incidents=len(this_week),
        targets=_targets(this_week, now),
        summary_zh=summary[0],
        summary_en=summary[1],
        tip_zh=tip_zh,
        tip_en=tip_en,
        generated_at=utc_now_iso(now),
    )
