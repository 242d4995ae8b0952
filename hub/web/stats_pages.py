"""The response-statistics page, its CSV export and `GET /api/v1/stats/response` (computation: stats.py)."""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.web import charts, response_times, stats
from hub.web.accounts import Principal
from hub.web.api import authorised
from hub.web.auth import console_of, require_page
from hub.web.console import lang_of, run
from hub.web.i18n import translator
from hub.web.response_months import local_tz

__all__ = ["local_tz", "routes"]


CACHE_S = 300.0  # a report is computed again after this long, or as soon as an incident changed
_cache: dict[tuple[int, stats.Query, str, str], tuple[float, int, stats.Report]] = {}


def _report(request: Request, who: Principal, q: stats.Query) -> stats.Report:
    """The report, from a small cache while no incident changed (a year of incidents takes a while; the
    same view asked again by a wall screen and a desk costs nothing)."""
    console = console_of(request)
    key = (id(console), q, who.role, who.district)
    now = time.monotonic()
    version = response_times.changes.count
    hit = _cache.get(key)
    if hit is not None and hit[1] == version and now - hit[0] < CACHE_S:
        return hit[2]
    feed = console.feed
    names = {st: v.name for st, v in feed.places.items()}
    report = stats.report(console.pool.get(), q, tz=local_tz(), districts=feed.districts, names=names, sees=who.sees)
    if len(_cache) >= 64:
        _cache.clear()
    _cache[key] = (now, version, report)
    return report


def _query(request: Request) -> stats.Query:
    return stats.parse_query(dict(request.query_params), today=datetime.now(local_tz()).date())


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def minutes(value: float | None) -> str:
    if value is None:
        return "—"
    s = round(value)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def change(value: float | None, *, points: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value * 100:+.0f}{' pt' if points else '%'}"


def _percent(share: float | None) -> float | None:
    return None if share is None else share * 100


def _charts(report: stats.Report, lang: str) -> dict[str, Markup]:
    t = translator(lang)
    labels = [b.label for b in report.series]
    kinds = [(k, t(k)) for k in report.kinds] or [("panic", t("panic"))]
    return {
        "alarms": charts.bars(t("chart_alarms"), labels, [b.summary.by_kind for b in report.series], kinds),
        "within": charts.lines(
            t("chart_within"),
            labels,
            [
                charts.Line(t(name), [_percent(b.summary.share(i)) for b in report.series], f"c{i}")
                for i, name in enumerate(stats.TARGETS)
            ],
            top=100.0,
            unit="%",
        ),
    }


async def stats_page(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    console = console_of(request)
    try:
        q = _query(request)
    except stats.StatsError as exc:
        today = datetime.now(local_tz()).date()
        return console.render(
            request, "stats.html", who, status=400, error=str(exc), q=stats.parse_query({}, today=today), report=None
        )
    report = await run(lambda: _report(request, who, q))
    lang = lang_of(request)
    return console.render(
        request,
        "stats.html",
        who,
        q=q,
        report=report,
        charts=_charts(report, lang),
        csv_link="/stats/response.csv?" + urlencode(q.as_params()),
        fmt={"pct": pct, "minutes": minutes, "change": change},
        error="",
    )


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A spreadsheet never runs a cell as a formula (names come from station configs)."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return "" if value is None else value


def to_csv(report: stats.Report) -> str:
    """The page's table: one row per group and one for everything the asker may see. Numbers and the
    stations' names and districts only: no incident details, no people."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    kinds = report.kinds
    w.writerow(
        [
            report.query.group,
            "name",
            "district",
            "alarms",
            *(f"kind_{k}" for k in kinds),
            *(f"within_{n}_share" for n in stats.TARGETS),
            *(f"within_{n}_decided" for n in stats.TARGETS),
            *(f"{m}_{p}_s" for m in stats.MEASURES for p in ("p50", "p90")),
            "alarms_last_7d",
            "alarms_7d_before",
            "respond_share_change",
        ]
    )
    for g in [*report.groups, report.total]:
        w.writerow(
            [
                _cell(g.key or "*"),
                _cell(g.label),
                _cell(g.district),
                g.alarms,
                *(g.by_kind.get(k, 0) for k in kinds),
                *(_cell(None if g.share(i) is None else round(g.share(i) or 0.0, 4)) for i in range(3)),
                *g.decided,
                *(
                    _cell(None if g.pct(i, p) is None else round(g.pct(i, p) or 0.0, 1))
                    for i in range(3)
                    for p in (50, 90)
                ),
                g.week[0],
                g.week[1],
                _cell(None if g.wow_respond is None else round(g.wow_respond, 4)),
            ]
        )
    return buf.getvalue()


async def _asked(request: Request, who: Principal | Response, bad: type[Response]) -> stats.Report | Response:
    """The report a request asks for, or the response saying why not (`bad`: how a bad parameter is said)."""
    if isinstance(who, Response):
        return who
    try:
        q = _query(request)
    except stats.StatsError as exc:
        if bad is JSONResponse:
            return JSONResponse({"error": "bad_request", "detail": str(exc)}, status_code=400)
        return Response(str(exc), status_code=400, media_type="text/plain; charset=utf-8")
    return await run(lambda: _report(request, who, q))


async def stats_csv(request: Request) -> Response:
    report = await _asked(request, await require_page(request), Response)
    if isinstance(report, Response):
        return report
    q = report.query
    name = f"response-{q.group}-{q.start.isoformat()}-{q.end.isoformat()}.csv"
    return Response(
        "\ufeff" + to_csv(report),  # the byte-order mark: spreadsheets then read the Chinese names right
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


async def stats_api(request: Request) -> Response:
    report = await _asked(request, await authorised(request), JSONResponse)
    return report if isinstance(report, Response) else JSONResponse(report.as_json())


routes = [
    Route("/stats", stats_page),
    Route("/stats/response.csv", stats_csv),
    Route("/api/v1/stats/response", stats_api),
]
