"""What the watch-list and notice pages share: who is asking (page or API), the push scope and the expiry
from a form or a JSON body, the stations one may see, and refusals in the right form (page or JSON)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from hub.web import queries
from hub.web.accounts import Principal
from hub.web.auth import console_of, csrf_ok, principal, require_page
from hub.web.console import Console, run
from hub.web.scopes import Scope, ScopeError, parse_scope

__all__ = [
    "Change",
    "api_change",
    "api_who",
    "districts_now",
    "expiry_from",
    "form_change",
    "guard_change",
    "refuse",
    "scope_from_form",
    "scope_in",
    "send_json",
    "visible_places",
]


async def api_who(request: Request) -> Principal | Response:
    who = await principal(request)
    if who is None:
        return JSONResponse(
            {"error": "unauthorized"}, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="police-kiosk"'}
        )
    return who


def refuse(request: Request, who: Principal | None, status: int, message: str, *, api: bool) -> Response:
    """A refusal: JSON `{"error": message}` for the API, the error page otherwise (`message` an i18n key)."""
    if api:
        return JSONResponse({"error": message}, status_code=status)
    return console_of(request).render(request, "error.html", who, status=status, message=message)


async def guard_change(request: Request, *, api: bool) -> Principal | Response:
    """Whoever may change something: signed in (or a token), not a viewer, and the session's CSRF token sent."""
    who = await (api_who(request) if api else require_page(request))
    if isinstance(who, Response):
        return who
    if who.role == "viewer":
        return refuse(request, who, 403, "forbidden", api=api)
    if not await csrf_ok(request, who):
        return refuse(request, who, 403, "csrf", api=api)
    return who


def districts_now(console: Console) -> dict[str, str]:
    """Station id -> district, read now (a push must not miss a station the feed has not polled yet)."""
    return {v.station: v.district for v in queries.stations(console.pool.get(), silent_s=console.settings.silent_s)}


async def send_json(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return body if isinstance(body, dict) else None


def scope_from_form(form: Mapping[str, Any]) -> Scope:
    """The scope chosen on a page: `scope_kind` (all | district | stations) with `district` or `stations`."""
    kind = str(form.get("scope_kind", ""))
    if kind == "district":
        return parse_scope(f"district:{form.get('district', '')}")
    if kind == "stations":
        return parse_scope(f"stations:{form.get('stations', '')}")
    if kind == "all":
        return Scope("all")
    raise ScopeError("choose where to push: all stations, a district or some stations")


def expiry_from(value: object) -> float:
    """0 (none) from "" or None; epoch seconds from a number; from text, an ISO date-time (a form's
    `datetime-local` has no zone: it is the console's local time)."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise ScopeError(f"expiry: not a date and time: {str(value)[:40]!r}")


async def visible_places(request: Request, who: Principal) -> tuple[list[str], list[str]]:
    """The districts and stations `who` may choose from (a district officer: their own)."""
    console = console_of(request)
    views = await run(lambda: queries.stations(console.pool.get(), silent_s=console.settings.silent_s))
    seen = [v for v in views if who.sees(v.district)]
    return sorted({v.district for v in seen if v.district}), [v.station for v in seen]


def scope_in(fields: Mapping[str, Any]) -> Scope:
    """The scope of a JSON body (`scope`: `all`, `district:D`, `stations:A,B`) or of a page's form."""
    if "scope" in fields:
        return parse_scope(str(fields["scope"]))
    return scope_from_form(fields)


Change = Callable[[Principal, dict[str, Any]], dict[str, Any] | str]
"""A change made in a database thread from the asker and the fields sent: the JSON answer, or the refusal
`forbidden` (403) or `not_found` (404). Bad input raises ValueError (400)."""
_REFUSED: Final = {"forbidden": 403, "not_found": 404}


async def api_change(request: Request, change: Change, *, status: int = 200, body: bool = True) -> Response:
    """An API call that changes something: rights, CSRF (sessions), the JSON body, the change, the answer."""
    who = await guard_change(request, api=True)
    if isinstance(who, Response):
        return who
    fields: dict[str, Any] = {}
    if body:
        got = await send_json(request)
        if got is None:
            return refuse(request, who, 400, "send a JSON object", api=True)
        fields = got
    try:
        result = await run(lambda: change(who, fields))
    except ValueError as exc:  # ScopeError, WatchListError and NoticeError are ValueErrors
        return refuse(request, who, 400, str(exc), api=True)
    if isinstance(result, str):
        return refuse(request, who, _REFUSED[result], result, api=True)
    return JSONResponse(result, status_code=status)


async def form_change(
    request: Request, change: Change, *, done: str, again: Callable[..., Awaitable[Response]]
) -> Response:
    """A page's form that changes something: as `api_change`, then back to `done`; bad input shows the page
    again (`again(request, error=..., status=400, form=...)`) with what was typed."""
    who = await guard_change(request, api=False)
    if isinstance(who, Response):
        return who
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "csrf"}
    try:
        result = await run(lambda: change(who, form))
    except ValueError as exc:
        return await again(request, error=str(exc), status=400, form=form)
    if isinstance(result, str):
        return refuse(request, who, _REFUSED[result], result, api=False)
    return RedirectResponse(done, status_code=303)
