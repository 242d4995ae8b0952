"""Station telemetry over time: a narrow row per report, kept `keep_days`, for the console's charts.

The `stations` table holds each station's latest report only. `telemetry_history` (schema v4) appends one
narrow row per station report - the hub's time, outbox depth, link state, CPU load, free disk and memory,
and per camera its frame counter, lag and connection - at most one every `every_s` per station (the
setting `--telemetry-history-every`; 0: every report), in the same transaction as the latest report, so
ingest stays one write per drain. Rows older than `keep_days` (`--telemetry-keep-days`; 0: keep no
history) are deleted by the ingest loop every `purge_interval` seconds, at most `purge_batch` rows at a
time, by the (station, ts) key: the purge never scans the table and never holds the writer for long.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Final

from edge.wire import messages as wire

__all__ = ["HistorySettings", "HistoryWriter", "Sample", "camera_figures", "sample_of"]

#: The camera figures kept, in this order: [frames_in, lag_ms, connected (1/0)].
CAMERA_FIELDS: Final = ("frames_in", "lag_ms", "connected")


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
    """The cameras column read back: camera -> (frames_in, lag_ms, connected)."""
    try:
        raw = json.loads(cameras) if cameras else {}
    except ValueError:
        return {}
    out: dict[str, tuple[float | None, float | None, bool]] = {}
    if isinstance(raw, dict):
        for name, v in raw.items():
            if isinstance(v, list) and len(v) == 3:
                out[str(name)] = (_number(v[0]), _number(v[1]), bool(v[2]))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class HistorySettings:
    keep_days: float = 14.0
    every_s: float = 60.0
    purge_interval: float = 60.0
    purge_batch: int = 20_000


@dataclass(slots=True)
class HistoryWriter:
    """Sans-IO: which samples are due now, and when to purge (the service does the writing)."""

    settings: HistorySettings = field(default_factory=HistorySettings)
    _written: dict[str, float] = field(default_factory=dict)
    _next_purge: float = 0.0

    def due(self, samples: dict[str, Sample], now: float) -> list[tuple[str, float, Sample]]:
        if self.settings.keep_days <= 0:
            return []
        every = self.settings.every_s
        out = [(st, now, s) for st, s in samples.items() if now - self._written.get(st, -1e18) >= every]
        for st, _, _ in out:
            self._written[st] = now
        if len(self._written) > 100_000:  # stations come and go: forget the oldest half
            keep = sorted(self._written.items(), key=lambda kv: kv[1])[len(self._written) // 2 :]
            self._written = dict(keep)
        return out

    def purge_before(self, now: float) -> float | None:
        """The cut-off if a purge is due now, else None."""
        if self.settings.keep_days <= 0 or now < self._next_purge:
            return None
        self._next_purge = now + self.settings.purge_interval
        return now - self.settings.keep_days * 86400.0
