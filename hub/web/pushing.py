"""What the watch-list and notice pages share: who is asking (page or API), the push scope and the expiry
from a form or a JSON body, the stations one may see, refusals in the right form (page or JSON), the page
itself (`render_page`), and their table of routes (`item_routes`: the page, its forms and the API, the same
six for both)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Protocol, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from hub.web import queries
from hub.web.accounts import Principal
from hub.web.auth import console_of, csrf_ok, principal, require_page
from hub.web.console import Console, run
from hub.web.db import Db
from hub.web.scopes import Scope, ScopeError, parse_scope

__all__ = [
    "Change",
    "api_change",
    "api_who",
    "districts_now",
    "expiry_from",
    "form_change",
    "guard_change",
    "item_routes",
    "listing",
    "refuse",
    "render_page",
    "scope_from_form",
    "scope_in",
    "send_json",
    "take_off",
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


class Pushed(Protocol):
    """A watch-list entry or a notice: something with a scope that was pushed."""

    @property
    def id(self) -> str: ...

    @property
    def scope(self) -> Scope: ...

    def as_json(self) -> dict[str, Any]: ...


P = TypeVar("P", bound=Pushed)


def take_off(
    request: Request,
    item_id: str,
    *,
    live: Callable[[Db], Sequence[P]],
    take: Callable[[Db, str, str], P | None],
    push: Callable[[Db, Scope, Mapping[str, str], str], str],
    action: str,
    label: Callable[[P], str],
    key: str,
) -> Change:
    """The change that takes a live item off (`take(db, id, by)`) and pushes what its scope now holds; one may
    take off only what one may push to, and another district's item does not exist for a district officer."""

    def change(who: Principal, fields: dict[str, Any]) -> dict[str, Any] | str:
        console = console_of(request)
        db = console.pool.get()
        districts = districts_now(console)
        found = [i for i in live(db) if i.id == item_id]
        if not found or not found[0].scope.visible(who, districts):
            return "not_found"
        if not found[0].scope.allowed(who, districts):
            return "forbidden"
        gone = take(db, item_id, who.name)
        if gone is None:
            return "not_found"
        pid = push(db, gone.scope, districts, who.name)
        console.accounts().audit(who.name, action, label(gone), f"scope={gone.scope} push={pid}")
        return {key: gone.as_json()}

    return change


async def render_page(
    request: Request,
    template: str,
    data: Callable[[Request, Principal], dict[str, Any]],
    *,
    error: str = "",
    status: int = 200,
    form: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A page of pushed items: `data`'s items for the asker, the places they may push to, and the form being
    filled again (after a refusal) with its error."""
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    got = await run(lambda: data(request, who))
    districts, stations = await visible_places(request, who)
    return console_of(request).render(
        request,
        template,
        who,
        status=status,
        error=error,
        form=form or {},
        districts=districts,
        stations=stations,
        **extra,
        **got,
    )


async def listing(request: Request, data: Callable[[Principal], dict[str, Any]], key: str) -> Response:
    """`GET /api/v1/...`: the page's items under `key` and its pushes, as JSON."""
    who = await api_who(request)
    if isinstance(who, Response):
        return who
    got = await run(lambda: data(who))
    return JSONResponse({key: [i.as_json() for i in got[key]], "pushes": [p.as_json() for p in got["pushes"]]})


def item_routes(
    path: str,
    *,
    api: str,
    item: str,
    take_off_verb: str,
    page: Callable[..., Awaitable[Response]],
    data: Callable[[Request, Principal], dict[str, Any]],
    key: str,
    add: Callable[[Request, Principal, dict[str, Any]], dict[str, Any] | str],
    taker: Callable[[Request], Change],
) -> list[Route]:
    """The routes of a page of pushed items and its API, with the same rights: `GET path` (`page`), `POST path`
    (the form that adds: `add`), `POST path/{item}/take_off_verb` (the form that takes one off: `taker`);
    `GET api` (`data`'s items under `key`, and its pushes), `POST api` (add, 201), `DELETE api/{item}`."""

    async def add_form(request: Request) -> Response:
        return await form_change(request, lambda who, f: add(request, who, f), done=path, again=page)

    async def take_off_form(request: Request) -> Response:
        return await form_change(request, taker(request), done=path, again=page)

    async def api_list(request: Request) -> Response:
        return await listing(request, lambda who: data(request, who), key)

    async def api_add(request: Request) -> Response:
        return await api_change(request, lambda who, f: add(request, who, f), status=201)

    async def api_take_off(request: Request) -> Response:
        return await api_change(request, taker(request), body=False)

    return [
        Route(path, page, methods=["GET"]),
        Route(path, add_form, methods=["POST"]),
        Route(f"{path}/{{{item}}}/{take_off_verb}", take_off_form, methods=["POST"]),
        Route(api, api_list, methods=["GET"]),
        Route(api, api_add, methods=["POST"]),
        Route(f"{api}/{{{item}}}", api_take_off, methods=["DELETE"]),
    ]
