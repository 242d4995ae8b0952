"""The watch-list page and API: add and remove entries, each change pushed signed to the stations it reaches.

Command staff may list a plate for every station, a district or some stations; a district officer only for
their district or its stations (page and API refuse anything else); a viewer reads. Every change is audited
(`watchlist.add`, `watchlist.remove`, `watchlist.expired`) and queued in central's outbox
(`hub.web.watchlist.push`); the page shows how far each push got.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hub.web import pushlog, watchlist
from hub.web.accounts import Principal
from hub.web.auth import console_of
from hub.web.console import Console, run
from hub.web.pushing import (
    Change,
    districts_now,
    expiry_from,
    item_routes,
    render_page,
    scope_in,
    take_off,
)
from hub.web.scopes import parse_scope

__all__ = ["routes", "sweep_expired"]

log = logging.getLogger(__name__)
SWEEP_S = 60.0


def _page_data(request: Request, who: Principal) -> dict[str, Any]:
    db = console_of(request).pool.get()
    districts = districts_now(console_of(request))
    live = [e for e in watchlist.entries(db) if e.scope.visible(who, districts)]
    removed = [e for e in watchlist.entries(db, removed=True, limit=200) if e.scope.visible(who, districts)][:20]
    pushes = [p for p in pushlog.recent(db, watchlist.COMMAND) if parse_scope(p.scope).visible(who, districts)]
    return {"entries": live, "removed": removed, "pushes": pushes}


async def page(request: Request, *, error: str = "", status: int = 200, form: dict[str, str] | None = None) -> Response:
    return await render_page(request, "watchlist.html", _page_data, error=error, status=status, form=form)


def _add(request: Request, who: Principal, fields: dict[str, Any]) -> dict[str, Any] | str:
    """Add an entry and push the lists it changes; "forbidden" when `who` may not push to its scope."""
    console = console_of(request)
    db = console.pool.get()
    districts = districts_now(console)
    scope = scope_in(fields)
    if not scope.allowed(who, districts):
        return "forbidden"
    entry = watchlist.add(
        db,
        plate=str(fields.get("plate", "")),
        reason=str(fields.get("reason", "")),
        priority=int(fields.get("priority") or 5),
        scope=scope,
        expires=expiry_from(fields.get("expires")),
        by=who.name,
    )
    pid = watchlist.push(db, scope, districts, by=who.name)
    detail = f"scope={scope} priority={entry.priority} expires={entry.expires:.0f} push={pid}"
    console.accounts().audit(who.name, "watchlist.add", entry.plate, detail)
    return {"entry": entry.as_json()}


def _remover(request: Request) -> Change:
    return take_off(
        request,
        request.path_params["entry"],
        live=watchlist.entries,
        take=lambda db, eid, by: watchlist.remove(db, eid, by=by),
        push=lambda db, scope, districts, by: watchlist.push(db, scope, districts, by=by),
        action="watchlist.remove",
        label=lambda e: e.plate,
        key="entry",
    )


def sweep_expired(console: Console) -> int:
    """Take expired entries off and push new lists to the stations they reached; returns how many expired."""
    db = console.pool.get()
    gone = watchlist.expire_due(db)
    if gone:
        districts = districts_now(console)
        for scope in {e.scope for e in gone}:
            pid = watchlist.push(db, scope, districts, by="expiry")
            plates = " ".join(sorted(e.plate for e in gone if e.scope == scope))
            console.accounts().audit("expiry", "watchlist.expired", plates, f"scope={scope} push={pid}")
    return len(gone)


async def sweeper(console: Console) -> None:
    """Every minute, while the console runs: `sweep_expired`."""
    while True:
        try:
            await run(lambda: sweep_expired(console))
        except Exception:  # a database hiccup: log it, try again next minute
            log.exception("taking expired watch-list entries off failed; retrying")
        await asyncio.sleep(SWEEP_S)


routes = item_routes(
    "/watchlist",
    api="/api/v1/watchlist",
    item="entry",
    take_off_verb="remove",
    page=page,
    data=_page_data,
    key="entries",
    add=_add,
    taker=_remover,
)
