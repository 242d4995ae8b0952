"""The JSON API (`docs/central-api.md`): the same rights as the pages, a bearer token or the session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from edge.wire.orders import public_status
from hub.web import orders_view, queries
from hub.web.accounts import Principal
from hub.web.auth import console_of, principal
from hub.web.console import run
from hub.web.orders_pages import sla_of

__all__ = ["authorised", "routes"]

_KEEPALIVE_S = 15.0


async def _who(request: Request) -> Principal | Response:
    who = await principal(request)
    if who is None:
        return JSONResponse(
            {"error": "unauthorized"}, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="police-kiosk"'}
        )
    return who


authorised = _who  # for the API routes of other modules (stats_pages.py)


async def stations(request: Request) -> Response:
    who = await _who(request)
    if isinstance(who, Response):
        return who
    console = console_of(request)
    views = await run(lambda: queries.stations(console.pool.get(), silent_s=console.settings.silent_s))
    return JSONResponse({"stations": [v.as_json() for v in views if who.sees(v.district)]})


async def incidents(request: Request) -> Response:
    who = await _who(request)
    if isinstance(who, Response):
        return who
    console = console_of(request)
    open_only = request.query_params.get("open", "0") in ("1", "true")
    feed = console.feed
    views = await run(lambda: queries.incidents(console.pool.get(), places=feed.places, open_only=open_only))
    return JSONResponse(
        {"incidents": [v.as_json() for v in views if who.sees(feed.districts.get(v.station, v.district))]}
    )


def _public(v: orders_view.OrderView) -> dict[str, object]:
    return {**public_status(v.order), "station": v.order.station, "district": v.district, "overdue": v.overdue}


async def orders(request: Request) -> Response:
    """Work orders one may see, as their public status (no personal data, no officer's name);
    `?state=open|overdue|<state>|all&station=&district=` as on the page."""
    who = await _who(request)
    if isinstance(who, Response):
        return who
    console = console_of(request)
    chosen = {k: request.query_params.get(k, "") for k in ("state", "station", "district")}
    listing = await run(
        lambda: orders_view.listing(
            console.pool.get(),
            sees=who.sees,
            names={},
            districts=console.feed.districts,
            sla=sla_of(console),
            chosen=chosen,
        )
    )
    return JSONResponse({"orders": [_public(v) for v in listing.rows]})


async def order(request: Request) -> Response:
    who = await _who(request)
    if isinstance(who, Response):
        return who
    console = console_of(request)
    ticket = request.path_params["ticket"]
    got = await run(
        lambda: orders_view.view(
            console.pool.get(), ticket, names={}, districts=console.feed.districts, sla=sla_of(console)
        )
    )
    if got is None or not who.sees(got.district):
        return JSONResponse({"error": "not_found"}, status_code=404)
    return JSONResponse(_public(got))


async def stream(request: Request) -> Response:
    """Server-Sent Events: `alarm` (an incident changed; the id resumes), `station` (a state changed),
    `order` (a work order changed), `checkin` (a patrol check-in stored), `hello` on connect, comments as
    keep-alives; each only for the stations the asker may see (feed.py)."""
    who = await _who(request)
    if isinstance(who, Response):
        return who
    feed = console_of(request).feed
    last_id = request.headers.get("last-event-id", "") or request.query_params.get("last_event_id", "")

    async def events() -> AsyncIterator[str]:
        queue = feed.subscribe(who)
        try:
            yield "retry: 1000\nevent: hello\ndata: {}\n\n"
            if last_id:
                for missed in await run(lambda: feed.replay(last_id, who)):
                    yield missed.sse()
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), _KEEPALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if event is None:
                    return
                yield event.sse()
        finally:
            feed.unsubscribe(queue)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


routes = [
    Route("/api/v1/stations", stations),
    Route("/api/v1/incidents", incidents),
    Route("/api/v1/orders", orders),
    Route("/api/v1/orders/{ticket}", order),
    Route("/api/v1/stream", stream),
]
