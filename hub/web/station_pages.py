"""A station's page (its telemetry history as charts) and the stations page's overview (mass outage, map).

The history comes from hub/telemetry_history.py's two tables: a window of hours (up to `RAW_SPAN`) from
`telemetry_raw`, one narrow row per report, kept a few days; a window of days to a year from
`telemetry_minute`, one row per station per minute, summed per slot in the database (a year is 525,600 rows:
only the `POINTS` slots come back). Each chart has at most `POINTS` points (the mean per slot); the link state
is drawn as a band, with the gaps where no report came.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Final

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.telemetry_history import camera_figures
from hub.web import charts, queries
from hub.web.accounts import Principal
from hub.web.auth import console_of, require_page
from hub.web.console import lang_of, run
from hub.web.db import Db
from hub.web.i18n import translator

__all__ = ["History", "MassOutage", "history", "mass_outage", "routes"]

WINDOWS: Final = {
    "6h": 6 * 3600.0,
    "24h": 86400.0,
    "7d": 7 * 86400.0,
    "30d": 30 * 86400.0,
    "90d": 90 * 86400.0,
    "365d": 365 * 86400.0,
}
WINDOW_KEYS: Final = {
    "6h": "hours_6",
    "24h": "hours_24",
    "7d": "days_7",
    "30d": "days_30",
    "90d": "days_90",
    "365d": "days_365",
}
POINTS: Final = 240
#: Windows up to this long are drawn from the raw rows; longer ones from the per-minute aggregates.
RAW_SPAN: Final = 86400.0
LINK_STATES: Final = ("connected", "connecting", "disconnected", "no_report")


@dataclass(slots=True)
class History:
    t0: float
    t1: float
    samples: int = 0
    outbox: list[tuple[float, float]] = field(default_factory=list)
    disk: list[tuple[float, float]] = field(default_factory=list)
    cpu: list[tuple[float, float]] = field(default_factory=list)
    link: list[tuple[float, float, str]] = field(default_factory=list)  # (from, to, state)
    fps: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    lag: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def _slots(points: list[tuple[float, float]], t0: float, width: float) -> list[tuple[float, float]]:
    """The mean of the points in each slot of `width` seconds, at the slot's middle."""
    sums: dict[int, list[float]] = {}
    for t, v in points:
        acc = sums.setdefault(int((t - t0) // width), [0.0, 0.0])
        acc[0] += v
        acc[1] += 1
    return [(t0 + (k + 0.5) * width, s / n) for k, (s, n) in sorted(sums.items())]


def _link_spans(
    states: list[tuple[float, str]], gap: float, every_s: float, t1: float
) -> list[tuple[float, float, str]]:
    """Each report's link state lasts until the next report; a gap longer than `gap` is "no_report"."""
    spans: list[tuple[float, float, str]] = []

    def add(a: float, b: float, state: str) -> None:
        if spans and spans[-1][2] == state and spans[-1][1] >= a:
            spans[-1] = (spans[-1][0], b, state)
        else:
            spans.append((a, b, state))

    for i, (t, state) in enumerate(states):
        nxt = states[i + 1][0] if i + 1 < len(states) else None
        end = nxt if nxt is not None and nxt - t <= gap else min(t1, t + every_s)
        add(t, end, state)
        if nxt is not None and nxt > end:
            add(end, nxt, "no_report")
    return spans


def history(db: Db, station: str, *, t1: float, span: float, every_s: float = 10.0) -> History:
    """A window ending at `t1`: from the raw rows if it is `RAW_SPAN` or shorter, else from the minutes."""
    return raw_history(db, station, t1=t1, span=span, every_s=every_s) if span <= RAW_SPAN else (
        minute_history(db, station, t1=t1, span=span)
    )  # fmt: skip


def raw_history(db: Db, station: str, *, t1: float, span: float, every_s: float = 10.0) -> History:
    t0 = t1 - span
    rows = db.rows(
        "SELECT ts, outbox_depth, link, load1, disk_free_mb, cameras FROM telemetry_raw "
        "WHERE station=? AND ts >= ? AND ts <= ? ORDER BY ts",
        (station, t0, t1),
    )
    h = History(t0, t1, len(rows))
    width = max(span / POINTS, 1.0)
    outbox, disk, cpu = [], [], []
    frames: dict[str, list[tuple[float, float]]] = {}
    lag: dict[str, list[tuple[float, float]]] = {}
    last: dict[str, tuple[float, float]] = {}
    gaps = sorted(float(b[0]) - float(a[0]) for a, b in itertools.pairwise(rows))
    gap_limit = 3 * (gaps[len(gaps) // 2] if gaps else every_s)  # three reports missed
    states: list[tuple[float, str]] = []
    for ts, depth, link, load1, disk_mb, cams in rows:
        t = float(ts)
        outbox.append((t, float(depth)))
        disk.append((t, float(disk_mb)))
        cpu.append((t, float(load1)))
        states.append((t, str(link) if str(link) in LINK_STATES else "disconnected"))
        for cam, (frames_in, lag_ms, _connected) in camera_figures(str(cams)).items():
            if lag_ms is not None:
                lag.setdefault(cam, []).append((t, lag_ms))
            if frames_in is not None:
                before = last.get(cam)
                last[cam] = (t, frames_in)
                if before is not None and t > before[0] and frames_in >= before[1] and t - before[0] <= gap_limit:
                    frames.setdefault(cam, []).append((t, (frames_in - before[1]) / (t - before[0])))
    h.link = _link_spans(states, gap_limit, every_s, t1)
    h.outbox, h.disk, h.cpu = (_slots(p, t0, width) for p in (outbox, disk, cpu))
    h.fps = {cam: _slots(p, t0, width) for cam, p in sorted(frames.items())}
    h.lag = {cam: _slots(p, t0, width) for cam, p in sorted(lag.items())}
    return h


_LINK_RANK = "MAX(CASE link WHEN 'connected' THEN 0 WHEN 'connecting' THEN 1 ELSE 2 END)"


def minute_history(db: Db, station: str, *, t1: float, span: float) -> History:
    """Slots of `span / POINTS` seconds summed in the database: the mean of each figure, the worst link state
    (or connected if at least 99 % of the reports found it up), and per camera the frame rate (frames counted
    over the seconds they were counted in) and the largest lag."""
    t0 = t1 - span
    width = max(span / POINTS, 60.0)
    where = "m.station=? AND m.ts >= ? AND m.ts <= ?"
    slots = db.rows(
        f"SELECT floor((m.ts - ?) / ?) AS k, SUM(m.n), SUM(m.outbox_sum), SUM(m.load_sum), SUM(m.disk_sum), "  # noqa: S608
        f"{_LINK_RANK}, SUM(m.link_up) FROM telemetry_minute m WHERE {where} GROUP BY k ORDER BY k",
        (t0, width, station, t0, t1),
    )
    h = History(t0, t1, int(sum(int(r[1]) for r in slots)))
    states: list[tuple[float, str]] = []
    for k, n, outbox, load, disk, worst, up in slots:
        t, reports = t0 + (float(k) + 0.5) * width, max(1, int(n))
        h.outbox.append((t, float(outbox) / reports))
        h.cpu.append((t, float(load) / reports))
        h.disk.append((t, float(disk) / reports))
        state = "connected" if int(up) >= 0.99 * reports else LINK_STATES[min(2, max(1, int(worst)))]
        states.append((t0 + float(k) * width, state))
    h.link = _link_spans(states, width * 1.5, width, t1)
    cam = (
        "jsonb_each(m.cameras::jsonb) e", "(e.value->>0)::float8", "(e.value->>1)::float8", "(e.value->>2)::float8"
    ) if db.pg else (
        "json_each(m.cameras) e", "json_extract(e.value, '$[0]')", "json_extract(e.value, '$[1]')",
        "json_extract(e.value, '$[2]')",
    )  # fmt: skip
    for k, name, frames, secs, lag in db.rows(
        f"SELECT floor((m.ts - ?) / ?) AS k, e.key, SUM({cam[1]}), SUM({cam[2]}), MAX({cam[3]}) "  # noqa: S608
        f"FROM telemetry_minute m, {cam[0]} WHERE {where} GROUP BY k, e.key ORDER BY k",
        (t0, width, station, t0, t1),
    ):
        t = t0 + (float(k) + 0.5) * width
        if secs:
            h.fps.setdefault(str(name), []).append((t, float(frames) / float(secs)))
        if lag is not None:
            h.lag.setdefault(str(name), []).append((t, float(lag)))
    h.fps, h.lag = dict(sorted(h.fps.items())), dict(sorted(h.lag.items()))
    return h


def _charts(h: History, lang: str) -> dict[str, Markup]:
    t = translator(lang)

    def one(key: str, points: list[tuple[float, float]], cls: str) -> Markup:
        return charts.time_lines(t(key), h.t0, h.t1, [charts.Line(t(key), (), cls, points)])

    def per_camera(key: str, series: dict[str, list[tuple[float, float]]]) -> Markup:
        lines = [charts.Line(cam, (), f"c{i % 6}", pts) for i, (cam, pts) in enumerate(series.items())]
        return charts.time_lines(t(key), h.t0, h.t1, lines)

    out = {
        "link": charts.state_strip(t("chart_link"), h.t0, h.t1, h.link, {s: t(s) for s in LINK_STATES}),
        "outbox": one("chart_outbox", h.outbox, "c0"),
        "cpu": one("chart_cpu", h.cpu, "c2"),
        "disk": one("chart_disk", h.disk, "c3"),
    }
    if h.fps:
        out["frames"] = per_camera("chart_frames", h.fps)
    if h.lag:
        out["lag"] = per_camera("chart_lag", h.lag)
    return out


def _visible_station(request: Request, who: Principal, station: str) -> queries.StationView | None:
    console = console_of(request)
    for v in queries.stations(console.pool.get(), silent_s=console.settings.silent_s):
        if v.station == station:
            return v if who.sees(v.district) else None  # another district's station does not exist for them
    return None


async def station_page(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    console = console_of(request)
    station = request.path_params["station"]
    window = request.query_params.get("window", "24h")
    if window not in WINDOWS:
        window = "24h"

    def load() -> tuple[queries.StationView | None, History | None]:
        view = _visible_station(request, who, station)
        if view is None:
            return None, None
        return view, history(console.pool.get(), station, t1=time.time(), span=WINDOWS[window])

    view, hist = await run(load)
    if view is None or hist is None:
        return console.render(request, "error.html", who, status=404, message="not_found")
    return console.render(
        request,
        "station.html",
        who,
        s=view,
        hist=hist,
        window=window,
        windows=WINDOW_KEYS,
        charts=_charts(hist, lang_of(request)),
    )


@dataclass(frozen=True, slots=True)
class MassOutage:
    since: float
    down: int


def mass_outage(db: Db) -> MassOutage | None:
    """The hub's verdict (hub/liveness.py, kept in `hub_state` by the hub service), if one is on now."""
    row = db.one("SELECT value, since FROM hub_state WHERE name='mass_outage'")
    if row is None or not row[0]:
        return None
    try:
        data: dict[str, Any] = json.loads(row[0])
    except ValueError:
        data = {}
    return MassOutage(float(row[1]), int(data.get("down") or 0))


async def overview(request: Request) -> Response:
    """The stations page's banner and map (a fragment htmx fetches on load and on every `station` event)."""
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    console = console_of(request)
    district = request.query_params.get("district", "")

    def load() -> tuple[MassOutage | None, list[queries.StationView]]:
        db = console.pool.get()
        views = [
            v
            for v in queries.stations(db, silent_s=console.settings.silent_s)
            if who.sees(v.district) and (not district or v.district == district)
        ]
        return mass_outage(db), views

    outage, views = await run(load)
    t = translator(lang_of(request))
    points = [
        charts.Point(v.lat, v.lon, v.state, v.name or v.station, f"/stations/{v.station}")
        for v in views
        if v.lat is not None and v.lon is not None
    ]
    return console.render(
        request,
        "_stations_overview.html",
        who,
        outage=outage,
        map=charts.schematic_map(t("map"), points, names={s: t("st_" + s) for s in queries.STATES}),
        placed=len(points),
        total=len(views),
    )


routes = [
    Route("/stations/overview", overview),
    Route("/stations/{station}", station_page),
]
