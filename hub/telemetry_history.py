"""Station telemetry over time: every report as a narrow raw row for a few days, and per-minute aggregates
for a year, for the console's charts.

The `stations` table holds each station's latest report only. Two tables keep its figures over time
(schema v6, hub/schema.py):

- `telemetry_raw`: one narrow row per report (stations report every ~10 s) - the hub's receive time, outbox
  depth, link state, CPU load, free disk and memory, and per camera its frame counter, lag and connection -
  kept `raw_days` (`--telemetry-raw-days`). Written in the same transaction as the latest report.
- `telemetry_minute`: one row per station per minute, kept `keep_days` (`--telemetry-keep-days`): how many
  reports, min/sum/max of the outbox depth, load, free disk and memory (sum / n is the mean), the worst link
  state seen and how many reports found it up, and per camera the frames counted over how many seconds, the
  largest lag and how many reports found it connected. `MinuteAggregator` adds each report to its station's
  open minute in memory and hands the row over when the minute closes: the rows are never computed by
  scanning raw rows. Everything is a sum, a count, a min or a max, so two partial rows of the same minute (a
  hub restarted within it, or several hubs sharing the stations' reports) merge exactly (`merge_minutes`).

Row times are the hub's own receive time (a station with a wrong clock cannot write into the past or the
future). Old rows go whole partitions at a time on PostgreSQL (hub/pg_partitions.py) and by key in bounded
batches on SQLite; `HistoryWriter` says when that upkeep is due.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Final

from edge.wire import messages as wire

__all__ = [
    "HistorySettings",
    "HistoryWriter",
    "MinuteAggregator",
    "MinuteRow",
    "Sample",
    "Upkeep",
    "camera_figures",
    "camera_minutes",
    "link_rank",
    "merge_minutes",
    "sample_of",
]

#: The camera figures kept per raw row, in this order: [frames_in, lag_ms, connected (1/0)].
CAMERA_FIELDS: Final = ("frames_in", "lag_ms", "connected")
#: Per camera per minute: [frames counted, over seconds, largest lag_ms, reports connected, reports].
CAMERA_MINUTE_FIELDS: Final = ("frames", "span_s", "lag_max", "up", "n")
#: Link states from best to worst; anything else counts as the worst.
LINK_ORDER: Final = ("connected", "connecting", "disconnected")
#: Two reports further apart than this give no frame rate (a gap: the counter's rise is not spread evenly).
FRAME_GAP_S: Final = 180.0
MINUTE: Final = 60.0


def link_rank(state: str) -> int:
    return LINK_ORDER.index(state) if state in LINK_ORDER else len(LINK_ORDER) - 1


@dataclass(frozen=True, slots=True)
class Sample:
    outbox_depth: int
    link: str
    load1: float
    disk_free_mb: float
    mem_available_mb: float
    cameras: str  # JSON: {"camera id": [frames_in, lag_ms, connected]}

    def row(self, station: str, at: float) -> tuple[str, float, int, str, float, float, float, str]:
        return (
            station,
            at,
            self.outbox_depth,
            self.link,
            self.load1,
            self.disk_free_mb,
            self.mem_available_mb,
            self.cameras,
        )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def sample_of(tele: wire.Telemetry) -> Sample:
    cams = {}
    for name, figures in sorted(tele.cameras.items())[:32]:  # a station has a handful; never unbounded
        frames, lag = _number(figures.get("frames_in")), _number(figures.get("lag_ms"))
        cams[name[:64]] = [frames, lag, 1 if figures.get("connected") else 0]
    return Sample(
        outbox_depth=tele.outbox.depth,
        link=tele.link.state[:16],
        load1=tele.host.load1,
        disk_free_mb=tele.host.disk_free_mb,
        mem_available_mb=tele.host.mem_available_mb,
        cameras=json.dumps(cams, separators=(",", ":"), ensure_ascii=False),
    )


def camera_figures(cameras: str) -> dict[str, tuple[float | None, float | None, bool]]:
    """A raw row's cameras column read back: camera -> (frames_in, lag_ms, connected)."""
    out: dict[str, tuple[float | None, float | None, bool]] = {}
    for name, v in _json_object(cameras).items():
        if isinstance(v, list) and len(v) == 3:
            out[name] = (_number(v[0]), _number(v[1]), bool(v[2]))
    return out


def _json_object(text: str) -> dict[str, object]:
    try:
        raw = json.loads(text) if text else {}
    except ValueError:
        return {}
    return {str(k): v for k, v in raw.items()} if isinstance(raw, dict) else {}


@dataclass(slots=True)
class CameraMinute:
    frames: float = 0.0
    span_s: float = 0.0
    lag_max: float | None = None
    up: int = 0
    n: int = 0

    def merge(self, other: CameraMinute) -> None:
        self.frames += other.frames
        self.span_s += other.span_s
        if other.lag_max is not None:
            self.lag_max = other.lag_max if self.lag_max is None else max(self.lag_max, other.lag_max)
        self.up += other.up
        self.n += other.n


def camera_minutes(cameras: str) -> dict[str, CameraMinute]:
    """A minute row's cameras column read back."""
    out = {}
    for name, v in _json_object(cameras).items():
        if isinstance(v, list) and len(v) == len(CAMERA_MINUTE_FIELDS):
            f, s, lag, up, n = (_number(x) for x in v)
            out[name] = CameraMinute(f or 0.0, s or 0.0, lag, int(up or 0), int(n or 0))
    return out


@dataclass(slots=True)
class _Stat:
    lo: float
    total: float
    hi: float

    def add(self, v: float) -> None:
        self.lo, self.total, self.hi = min(self.lo, v), self.total + v, max(self.hi, v)

    def merge(self, o: _Stat) -> None:
        self.lo, self.total, self.hi = min(self.lo, o.lo), self.total + o.total, max(self.hi, o.hi)


@dataclass(slots=True)
class MinuteRow:
    """One station's minute: see the module docstring. `row()` is its `telemetry_minute` row."""

    station: str
    ts: float  # the minute's start, hub time
    n: int
    outbox: _Stat
    load: _Stat
    disk: _Stat
    mem: _Stat
    link: str  # the worst state seen
    link_up: int  # reports that found the link connected
    cameras: dict[str, CameraMinute] = field(default_factory=dict)

    @classmethod
    def first(cls, station: str, ts: float, s: Sample) -> MinuteRow:
        return cls(station, ts, 0, _Stat(s.outbox_depth, 0, s.outbox_depth), _Stat(s.load1, 0, s.load1),
                  _Stat(s.disk_free_mb, 0, s.disk_free_mb), _Stat(s.mem_available_mb, 0, s.mem_available_mb),
                  s.link, 0)  # fmt: skip

    def add(self, s: Sample, frames: dict[str, tuple[float, float]]) -> None:
        """One report; `frames`: camera -> (frames counted, over seconds) since the station's previous report."""
        self.n += 1
        self.outbox.add(s.outbox_depth)
        self.load.add(s.load1)
        self.disk.add(s.disk_free_mb)
        self.mem.add(s.mem_available_mb)
        if link_rank(s.link) > link_rank(self.link):
            self.link = s.link
        self.link_up += s.link == "connected"
        for cam, (_f, lag, connected) in camera_figures(s.cameras).items():
            got = frames.get(cam, (0.0, 0.0))
            self.cameras.setdefault(cam, CameraMinute()).merge(CameraMinute(got[0], got[1], lag, int(connected), 1))

    def merge(self, o: MinuteRow) -> None:
        self.n += o.n
        for mine, theirs in ((self.outbox, o.outbox), (self.load, o.load), (self.disk, o.disk), (self.mem, o.mem)):
            mine.merge(theirs)
        if link_rank(o.link) > link_rank(self.link):
            self.link = o.link
        self.link_up += o.link_up
        for cam, c in o.cameras.items():
            self.cameras.setdefault(cam, CameraMinute()).merge(c)

    def row(self) -> tuple[str, float, int, int, int, int, float, float, float, float, float, float, float, float,
                           float, str, int, str]:  # fmt: skip
        cams = {
            k: [round(c.frames, 3), round(c.span_s, 3), c.lag_max, c.up, c.n] for k, c in sorted(self.cameras.items())
        }
        o, ld, d, m = self.outbox, self.load, self.disk, self.mem
        return (
            self.station, self.ts, self.n, int(o.lo), int(o.total), int(o.hi), ld.lo, ld.total, ld.hi,
            d.lo, d.total, d.hi, m.lo, m.total, m.hi, self.link, self.link_up,
            json.dumps(cams, separators=(",", ":"), ensure_ascii=False),
        )  # fmt: skip

    @classmethod
    def of_row(cls, r: tuple[object, ...]) -> MinuteRow:
        """A `telemetry_minute` row read back (as `row()` wrote it)."""
        f = [float(x) if isinstance(x, int | float) else 0.0 for x in r]
        return cls(str(r[0]), f[1], int(f[2]), _Stat(*f[3:6]), _Stat(*f[6:9]), _Stat(*f[9:12]), _Stat(*f[12:15]),
                   str(r[15]), int(f[16]), camera_minutes(str(r[17])))  # fmt: skip


#: The columns of `telemetry_minute`, in `MinuteRow.row()`'s order.
MINUTE_COLUMNS: Final = (
    "station, ts, n, outbox_min, outbox_sum, outbox_max, load_min, load_sum, load_max, disk_min, disk_sum, "
    "disk_max, mem_min, mem_sum, mem_max, link, link_up, cameras"
)


def merge_minutes(new: list[MinuteRow], stored: dict[tuple[str, float], MinuteRow]) -> list[MinuteRow]:
    """The rows to write back where a row of the same minute is stored already (keyed (station, ts))."""
    out = []
    for row in new:
        have = stored.get((row.station, row.ts))
        if have is not None:
            have.merge(row)
            out.append(have)
    return out


@dataclass(slots=True)
class _Open:
    row: MinuteRow
    frames: dict[str, tuple[float, float]] = field(default_factory=dict)  # camera -> (when, counter)


@dataclass(slots=True)
class MinuteAggregator:
    """Sans-IO: each station's open minute, fed every report, handed over as rows when their minute ends."""

    _open: dict[str, _Open] = field(default_factory=dict)
    _last: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)  # frame counters

    def add(self, station: str, sample: Sample, now: float) -> list[MinuteRow]:
        """Add a report received at `now`; returns the station's previous minute if this one starts anew."""
        minute = now - now % MINUTE
        closed = []
        cur = self._open.get(station)
        if cur is not None and cur.row.ts != minute:
            closed.append(self._open.pop(station).row)
            cur = None
        if cur is None:
            cur = self._open[station] = _Open(MinuteRow.first(station, minute, sample))
        last = self._last.setdefault(station, {})
        counted: dict[str, tuple[float, float]] = {}
        for cam, (frames, _lag, _up) in camera_figures(sample.cameras).items():
            if frames is None:
                continue
            before = last.get(cam)
            last[cam] = (now, frames)
            if before is not None and 0 < now - before[0] <= FRAME_GAP_S and frames >= before[1]:
                counted[cam] = (frames - before[1], now - before[0])  # a restart (counter back) counts nothing
        cur.row.add(sample, counted)
        if len(self._last) > 100_000:  # stations come and go: forget those with no open minute
            self._last = {st: v for st, v in self._last.items() if st in self._open}
        return closed

    def close(self, now: float) -> list[MinuteRow]:
        """The minutes that ended by `now` (stations that went quiet included)."""
        minute = now - now % MINUTE
        done = [st for st, o in self._open.items() if o.row.ts < minute]
        return [self._open.pop(st).row for st in done]

    def flush(self) -> list[MinuteRow]:
        """Every open minute, partial (the hub stops): a later row of the same minute merges with it."""
        rows = [o.row for o in self._open.values()]
        self._open.clear()
        return rows


@dataclass(frozen=True, slots=True, kw_only=True)
class HistorySettings:
    raw_days: float = 3.0
    keep_days: float = 365.0
    raw_every_s: float = 0.0  # 0: every report
    upkeep_interval: float = 60.0
    purge_batch: int = 20_000


@dataclass(frozen=True, slots=True)
class Upkeep:
    """What the store should do now: create partitions ahead (PostgreSQL) and remove rows older than these."""

    now: float
    raw_before: float
    minutes_before: float


@dataclass(slots=True)
class HistoryWriter:
    """Sans-IO: which raw rows are due now, the minute aggregates, and when the upkeep runs (the service
    does the writing)."""

    settings: HistorySettings = field(default_factory=HistorySettings)
    minutes: MinuteAggregator = field(default_factory=MinuteAggregator)
    _written: dict[str, float] = field(default_factory=dict)
    _next_upkeep: float = 0.0

    def due(self, samples: dict[str, Sample], now: float) -> list[tuple[str, float, Sample]]:
        """The raw rows to write for the latest sample of each station in a drain."""
        if self.settings.raw_days <= 0:
            return []
        every = self.settings.raw_every_s
        out = [(st, now, s) for st, s in samples.items() if now - self._written.get(st, -1e18) >= every]
        for st, _, _ in out:
            self._written[st] = now
        if len(self._written) > 100_000:  # stations come and go: forget the oldest half
            keep = sorted(self._written.items(), key=lambda kv: kv[1])[len(self._written) // 2 :]
            self._written = dict(keep)
        return out

    def aggregate(self, samples: list[tuple[str, Sample]], now: float) -> list[MinuteRow]:
        """Every sample of a drain into its minute; returns the minutes that closed (to write now)."""
        if self.settings.keep_days <= 0:
            return []
        closed = self.minutes.close(now)
        for st, s in samples:
            closed += self.minutes.add(st, s, now)
        return closed

    def upkeep(self, now: float) -> Upkeep | None:
        """The cut-offs if the upkeep is due now (at start-up, then every `upkeep_interval`), else None."""
        if now < self._next_upkeep:
            return None
        self._next_upkeep = now + self.settings.upkeep_interval
        s = self.settings
        return Upkeep(now, now - s.raw_days * 86400.0, now - s.keep_days * 86400.0)
