"""The Starlette application: pages, API, packaged static files, the feed running for its lifetime."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.web import (
    api,
    auth,
    bulletins,
    notices_pages,
    orders_pages,
    pages,
    patrol_pages,
    station_pages,
    stats_pages,
    warnings_pages,
    watchlist_pages,
)
from hub.web.console import HERE, Console, ConsoleSettings
from hub.web.db import db_executor

__all__ = ["create_app"]

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class SecurityHeaders:
    """No framing, no sniffing, no third-party anything (the command centre is an offline network)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))  # type: ignore[call-overload]
                headers += [
                    (b"content-security-policy", _CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)  # type: ignore[arg-type]


def create_app(settings: ConsoleSettings) -> Starlette:
    console = Console(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        console.loop = asyncio.get_running_loop()
        console.loop.set_default_executor(db_executor())  # this loop is the console's own (server.py)
        task = asyncio.create_task(console.feed.run(), name="console-feed")
        sweeper = asyncio.create_task(watchlist_pages.sweeper(console), name="watchlist-expiry")
        try:
            yield
        finally:
            for t in (task, sweeper):
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await t
            console.pool.close()

    async def not_found(request: Request, exc: Exception) -> Response:
        return console.render(request, "error.html", None, status=404, message="not_found")

    app = Starlette(
        routes=[
            *auth.routes,
            *pages.routes,
            *orders_pages.routes,
            *station_pages.routes,
            *bulletins.routes,
            *api.routes,
            *stats_pages.routes,
            *warnings_pages.routes,
            *watchlist_pages.routes,
            *notices_pages.routes,
            *patrol_pages.routes,
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ],
        middleware=[Middleware(SecurityHeaders)],
        lifespan=lifespan,
        exception_handlers={404: not_found},
    )
    app.state.console = console
    return app
