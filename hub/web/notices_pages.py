"""The notices page and API: write an anti-fraud notice, preview it as the kiosk shows it, push it to every
station, a district or one station with an expiry, and withdraw it.

Rights as for the watch list (`hub.web.scopes`): command staff anywhere, a district officer their district or
its stations, a viewer reads. Pushing and withdrawing are audited (`notice.push`, `notice.withdraw`) and
queued in central's outbox (`hub.web.notices.push`: the whole set of each scope the change alters).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.web import notices, pushlog
from hub.web.accounts import Principal
from hub.web.auth import console_of
from hub.web.pushing import (
    Change,
    districts_now,
    expiry_from,
    guard_change,
    item_routes,
    render_page,
    scope_in,
    take_off,
)
from hub.web.scopes import parse_scope

__all__ = ["routes"]


def _page_data(request: Request, who: Principal) -> dict[str, Any]:
    db = console_of(request).pool.get()
    districts = districts_now(console_of(request))
    shown = [n for n in notices.notices(db) if n.scope.visible(who, districts)]
    pushes = [p for p in pushlog.recent(db, notices.COMMAND) if parse_scope(p.scope).visible(who, districts)]
    return {"notices": shown, "pushes": pushes, "now": time.time()}


async def page(
    request: Request,
    *,
    error: str = "",
    status: int = 200,
    form: dict[str, str] | None = None,
    preview: notices.NoticeView | None = None,
) -> Response:
    return await render_page(
        request, "notices.html", _page_data, error=error, status=status, form=form, preview=preview
    )


def _draft(who: Principal, fields: dict[str, Any]) -> notices.NoticeView:
    return notices.draft(
        title_zh=str(fields.get("title_zh", "")),
        title_en=str(fields.get("title_en", "")),
        body_zh=str(fields.get("body_zh", "")),
        body_en=str(fields.get("body_en", "")),
        expires=expiry_from(fields.get("expires")),
        scope=scope_in(fields),
        by=who.name,
        now=time.time(),
    )


def _push(request: Request, who: Principal, fields: dict[str, Any]) -> dict[str, Any] | str:
    """Store the notice and push the sets it changes; "forbidden" when `who` may not push to its scope."""
    notice = _draft(who, fields)
    console = console_of(request)
    db = console.pool.get()
    districts = districts_now(console)
    if not notice.scope.allowed(who, districts):
        return "forbidden"
    notices.add(db, notice)
    pid = notices.push(db, notice.scope, districts, by=who.name)
    detail = f"scope={notice.scope} title={notice.title_zh[:40]} push={pid}"
    console.accounts().audit(who.name, "notice.push", notice.id, detail)
    return {"notice": notice.as_json()}


def _withdrawer(request: Request) -> Change:
    return take_off(
        request,
        request.path_params["notice"],
        live=lambda db: [n for n in notices.notices(db) if not n.withdrawn_at],
        take=lambda db, nid, by: notices.withdraw(db, nid, by=by),
        push=lambda db, scope, districts, by: notices.push(db, scope, districts, by=by),
        action="notice.withdraw",
        label=lambda n: n.id,
        key="notice",
    )


async def preview(request: Request) -> Response:
    """The notice as the kiosk will show it; the fragment for htmx, the whole page otherwise."""
    who = await guard_change(request, api=False)
    if isinstance(who, Response):
        return who
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "csrf"}
    try:
        draft, error = _draft(who, form), ""
    except ValueError as exc:
        draft, error = None, str(exc)
    if request.headers.get("hx-request"):
        return console_of(request).render(request, "_notice_preview.html", who, preview=draft, error=error)
    return await page(request, error=error, form=form, preview=draft, status=400 if error else 200)


routes = [
    *item_routes(
        "/notices",
        api="/api/v1/notices",
        item="notice",
        take_off_verb="withdraw",
        page=page,
        data=_page_data,
        key="notices",
        add=_push,
        taker=_withdrawer,
    ),
    Route("/notices/preview", preview, methods=["POST"]),
]
