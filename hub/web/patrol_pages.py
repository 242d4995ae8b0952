"""The console's patrol pages (巡逻打卡) and their API: check-ins of a period, the roster of members.

`/patrol`: check-ins per station and day and per member for a chosen period (default the last 7 days),
and the stations with no patrol visit in it, flagged. District officers see their district's stations.
The page is live: its part below the filters (`/patrol/table`, the same period) is fetched again when the
stream says a station one may see sent a check-in (`checkin`, feed.py) or the stream (re)connects.
`/patrol/roster`: command staff register and deactivate members and push the roster to the stations
(every change is pushed at once; CSRF-checked, audited). ID numbers are shown masked; a new member's
check-in code is shown once, on the answer to the registration.
`GET /api/v1/patrol/checkins?from=YYYY-MM-DD&to=YYYY-MM-DD`: the same summary as JSON.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from hub.web import patrol, queries
from hub.web.accounts import Principal
from hub.web.auth import console_of, csrf_ok, principal, require_page
from hub.web.console import run

__all__ = ["routes"]

MAX_DAYS = 92


def _period(request: Request) -> tuple[date, date] | None:
    today = date.today()
    try:
        end = date.fromisoformat(request.query_params.get("to") or today.isoformat())
        start = date.fromisoformat(request.query_params.get("from") or (end - timedelta(days=6)).isoformat())
    except ValueError:
        return None
    if start > end or (end - start).days >= MAX_DAYS:
        return None
    return start, end


def _summary(request: Request, who: Principal, start: date, end: date) -> tuple[patrol.Summary, dict[str, str]]:
    console = console_of(request)
    db = console.pool.get()
    patrol.sync(db)
    views = [v for v in queries.stations(db, silent_s=console.settings.silent_s) if who.sees(v.district)]
    got = patrol.summary(db, start, end, stations=[v.station for v in views])
    return got, {v.station: v.name or v.station for v in views}


async def _checkins(request: Request, template: str) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    console = console_of(request)
    period = _period(request)
    if period is None:
        return console.render(request, "error.html", who, status=400, message="bad_period")
    got, names = await run(lambda: _summary(request, who, *period))
    # the live part asks for the period as the page was asked (no dates: the last 7 days as of each fetch)
    query = urlencode({k: v for k in ("from", "to") if (v := request.query_params.get(k))})
    return console.render(request, template, who, s=got, names=names, query=query)


async def checkins_page(request: Request) -> Response:
    return await _checkins(request, "patrol.html")


async def checkins_table(request: Request) -> Response:
    """The page's live part (htmx fetches it on the stream's `checkin`)."""
    return await _checkins(request, "_patrol_checkins.html")


async def checkins_api(request: Request) -> Response:
    who = await principal(request)
    if who is None:
        return JSONResponse({"error": "unauthorized"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    period = _period(request)
    if period is None:
        return JSONResponse({"error": "bad_period", "max_days": MAX_DAYS}, status_code=400)
    got, _ = await run(lambda: _summary(request, who, *period))
    return JSONResponse(got.as_json())


async def _commander(request: Request) -> Principal | Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    if who.role != "command":
        return console_of(request).render(request, "error.html", who, status=403, message="forbidden")
    return who


async def _commander_post(request: Request) -> Principal | Response:
    """Command staff with the session's CSRF token (a form post of the roster page)."""
    who = await _commander(request)
    if isinstance(who, Response) or await csrf_ok(request, who):
        return who
    return console_of(request).render(request, "error.html", who, status=403, message="csrf")


async def _roster_page(request: Request, who: Principal, *, status: int = 200, **extra: object) -> Response:
    console = console_of(request)

    def read() -> tuple[list[patrol.Member], dict[str, object] | None]:
        db = console.pool.get()
        return patrol.members(db), patrol.last_push(db)

    people, pushed = await run(read)
    return console.render(request, "patrol_roster.html", who, status=status, members=people, pushed=pushed, **extra)


async def roster_page(request: Request) -> Response:
    who = await _commander(request)
    if isinstance(who, Response):
        return who
    return await _roster_page(request, who)


def _push(request: Request, who: Principal, action: str, target: str, detail: str) -> str:
    """Push the roster and audit the change; returns "" or the reason the push failed."""
    console = console_of(request)
    db = console.pool.get()
    try:
        version, row = patrol.push_roster(db)
    except ValueError as exc:
        console.accounts().audit(who.name, action, target, f"{detail}; roster not pushed: {exc}")
        return str(exc)
    console.accounts().audit(who.name, action, target, f"{detail}; roster v{version} queued as command #{row}")
    return ""


async def roster_add(request: Request) -> Response:
    who = await _commander_post(request)
    if isinstance(who, Response):
        return who
    console = console_of(request)
    form = await request.form()
    fields = {k: str(form.get(k, "")) for k in ("id_number", "display_name", "role")}

    def write() -> tuple[patrol.Member, str, str]:
        member, code = patrol.add_member(
            console.pool.get(), **fields, by=who.name, with_code=form.get("with_code") == "on"
        )
        failed = _push(request, who, "patrol.member_added", member.display_name, f"{member.role} {member.id_masked}")
        return member, code, failed

    try:
        member, code, failed = await run(write)
    except patrol.PatrolError as exc:
        return await _roster_page(request, who, status=400, error=f"bad_{exc}")
    return await _roster_page(request, who, added=member, code=code, push_error=failed)


async def roster_active(request: Request) -> Response:
    who = await _commander_post(request)
    if isinstance(who, Response):
        return who
    console = console_of(request)
    hashed = request.path_params["member"]
    active = (await request.form()).get("active") == "1"

    def write() -> bool:
        if not patrol.set_active(console.pool.get(), hashed, active):
            return False
        _push(request, who, "patrol.member_" + ("activated" if active else "deactivated"), hashed[:12], "")
        return True

    if not await run(write):
        return console.render(request, "error.html", who, status=404, message="not_found")
    return RedirectResponse("/patrol/roster", status_code=303)


async def roster_push(request: Request) -> Response:
    who = await _commander_post(request)
    if isinstance(who, Response):
        return who
    failed = await run(lambda: _push(request, who, "patrol.roster_pushed", "all", "on demand"))
    return await _roster_page(request, who, push_error=failed)


routes = [
    Route("/patrol", checkins_page),
    Route("/patrol/table", checkins_table),
    Route("/patrol/roster", roster_page),
    Route("/patrol/roster", roster_add, methods=["POST"]),
    Route("/patrol/roster/push", roster_push, methods=["POST"]),
    Route("/patrol/roster/{member:str}/active", roster_active, methods=["POST"]),
    Route("/api/v1/patrol/checkins", checkins_api),
]
