"""The console's weekly bulletin pages (每周警情通报): per week, each area one may see; preview, edit the
summary and tip, send it to the area's kiosks now.

Command staff act on every area, a district officer on their district's, viewers only read. Edits and
sends are POSTs with the session's CSRF token and are written to the audit log. The preview of an edit
(`/preview`, fetched by htmx) renders the bulletin with the typed text without keeping it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import msgspec
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from edge.wire.bulletin import Bulletin
from hub.bulletin import Week
from hub.bulletin_desk import BulletinDesk, desk_for
from hub.web.accounts import Principal
from hub.web.auth import console_of, csrf_ok, require_page
from hub.web.console import run

__all__ = ["routes"]


@dataclass(frozen=True, slots=True)
class AreaRow:
    bulletin: Bulletin
    district: str  # "" for a station without a district (an area of its own)
    record: dict[str, Any]

    @property
    def reports(self) -> int:
        return sum(c.this_week for c in self.bulletin.categories if c.kind == "report")


def _district(area: str, stations: list[str]) -> str:
    return "" if stations == [area] else area


def _desk(request: Request) -> BulletinDesk:
    return desk_for(console_of(request).pool.get())


def _week(request: Request, desk: BulletinDesk) -> str:
    text = request.path_params.get("week") or request.query_params.get("week", "")
    try:
        return str(Week.parse(text))
    except ValueError:
        return str(Week.of(time.time(), desk.tz).shifted(-1))


def _rows(request: Request, who: Principal) -> tuple[str, list[AreaRow], list[str]]:
    desk = _desk(request)
    week = _week(request, desk)
    rows = []
    for area, members in sorted(desk.areas().items()):
        district = _district(area, members)
        if who.sees(district):
            rows.append(AreaRow(desk.build(week, area, members), district, desk.record(week, area)))
    recent = [str(Week.of(time.time(), desk.tz).shifted(-n)) for n in range(9)]
    return week, rows, recent if week in recent else [week, *recent]


async def bulletins_page(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    week, rows, recent = await run(lambda: _rows(request, who))
    return console_of(request).render(request, "bulletins.html", who, week=week, rows=rows, recent=recent)


def _area_row(request: Request, who: Principal) -> AreaRow | None:
    desk = _desk(request)
    week, area = _week(request, desk), request.path_params["area"]
    members = desk.areas().get(area)
    if not members or not who.sees(_district(area, members)):
        return None  # another district's area does not exist for this officer
    return AreaRow(desk.build(week, area, members), _district(area, members), desk.record(week, area))


async def area_page(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    row = await run(lambda: _area_row(request, who))
    console = console_of(request)
    if row is None:
        return console.render(request, "error.html", who, status=404, message="not_found")
    return console.render(request, "bulletin.html", who, row=row, b=row.bulletin, sent=request.query_params.get("sent"))


async def _acting(request: Request) -> tuple[Principal, AreaRow] | Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    console = console_of(request)
    if not await csrf_ok(request, who):
        return console.render(request, "error.html", who, status=403, message="csrf")
    row = await run(lambda: _area_row(request, who))
    if row is None:
        return console.render(request, "error.html", who, status=404, message="not_found")
    if not who.may_act(row.district):
        return console.render(request, "error.html", who, status=403, message="forbidden")
    return who, row


def _texts(form: Any) -> tuple[tuple[str, str], tuple[str, str]]:
    def get(name: str) -> str:
        value = form.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    return (get("summary_zh"), get("summary_en")), (get("tip_zh"), get("tip_en"))


def _where(row: AreaRow) -> str:
    return f"/bulletins/{row.bulletin.week}/{quote(row.bulletin.area, safe='')}"


async def edit(request: Request) -> Response:
    acting = await _acting(request)
    if isinstance(acting, Response):
        return acting
    who, row = acting
    summary, tip = _texts(await request.form())
    console = console_of(request)

    def write() -> str:
        try:
            _desk(request).edit(row.bulletin.week, row.bulletin.area, summary=summary, tip=tip, by=who.name)
        except ValueError:
            return "too_long"
        console.accounts().audit(who.name, "bulletin.edit", f"{row.bulletin.week}/{row.bulletin.area}", f"tip={tip[0]}")
        return ""

    problem = await run(write)
    if problem:
        return console.render(request, "error.html", who, status=400, message=problem)
    return RedirectResponse(_where(row), status_code=303)


async def preview(request: Request) -> Response:
    acting = await _acting(request)
    if isinstance(acting, Response):
        return acting
    who, row = acting
    (szh, sen), (tzh, ten) = _texts(await request.form())
    shown = msgspec.structs.replace(row.bulletin, summary_zh=szh, summary_en=sen, tip_zh=tzh, tip_en=ten, edited=True)
    return console_of(request).render(request, "_bulletin.html", who, b=shown, draft=True)


async def push(request: Request) -> Response:
    acting = await _acting(request)
    if isinstance(acting, Response):
        return acting
    who, row = acting
    console = console_of(request)

    def send() -> int:
        sent = _desk(request).push(row.bulletin.week, row.bulletin.area, by=who.name)
        detail = f"stations={','.join(sent.stations)} rows={','.join(map(str, sent.rows))}"
        console.accounts().audit(who.name, "bulletin.push", f"{row.bulletin.week}/{row.bulletin.area}", detail)
        return len(sent.stations)

    count = await run(send)
    return RedirectResponse(f"{_where(row)}?sent={count}", status_code=303)


routes = [
    Route("/bulletins", bulletins_page),
    Route("/bulletins/{week}/{area}", area_page),
    Route("/bulletins/{week}/{area}/edit", edit, methods=["POST"]),
    Route("/bulletins/{week}/{area}/preview", preview, methods=["POST"]),
    Route("/bulletins/{week}/{area}/push", push, methods=["POST"]),
]
