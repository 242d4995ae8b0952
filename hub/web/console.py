"""The console's shared state: settings, the database pool, the live feed and the templates."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from hub.web import response_months, response_times
from hub.web.accounts import Accounts, Principal
from hub.web.db import DbPool, in_db_thread
from hub.web.feed import Feed
from hub.web.i18n import LANGS, translator

__all__ = ["Console", "ConsoleSettings", "run"]

HERE = Path(__file__).resolve().parent
T = TypeVar("T")


async def run(fn: Callable[[], T]) -> T:
    """Database work off the event loop (each worker thread has its own connection)."""
    return await in_db_thread(fn)


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    db_url: str
    silent_s: float = 90.0  # online, but nothing heard for this long: "silent" (3 telemetry intervals)
    poll_s: float = 0.2  # how often the feed looks for newly stored events
    max_failures: int = 5  # wrong passwords in a row before the account locks
    lock_s: float = 900.0
    secure_cookies: bool = False  # set behind TLS (a reverse proxy): cookies only over HTTPS
    order_triage_s: float = 3600.0  # a work order still new (untriaged) after this long is overdue
    order_open_s: float = 72 * 3600.0  # an order not resolved or referred after this long is overdue


def prepare_database(url: str) -> None:
    """Migrate every part of the database (hub/parts.py; creates them if the hub never ran here) and
    backfill the console's response times. A part newer than this hub raises `SchemaTooNewError`."""
    from hub.parts import migrate_parts
    from hub.store import open_store
    from hub.web.db import Db

    open_store(url).close()
    migrate_parts(url)
    db = Db(url)
    try:
        response_times.backfill(db)
        response_months.ensure(db, response_months.local_tz())  # the month cells, once
    finally:
        db.close()


class Console:
    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self.pool = DbPool(settings.db_url)
        self.feed = Feed(self.pool, silent_s=settings.silent_s, poll_s=settings.poll_s)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.filters["clock"] = _clock
        self.templates.env.filters["since"] = _since
        self.templates.env.filters["stamp"] = _stamp
        self.loop: asyncio.AbstractEventLoop | None = None

    def end_streams(self) -> None:
        """From any thread: end the open event streams so that the server can stop at once."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.feed.close_all)

    def accounts(self) -> Accounts:
        s = self.settings
        return Accounts(self.pool.get(), max_failures=s.max_failures, lock_s=s.lock_s)

    def render(self, request: Request, name: str, who: Principal | None, status: int = 200, **context: Any) -> Response:
        lang = lang_of(request)
        context.update(
            request=request, who=who, lang=lang, t=translator(lang), csrf=who.csrf if who else "", path=request.url.path
        )
        return self.templates.TemplateResponse(request, name, context, status_code=status)


def lang_of(request: Request) -> str:
    lang = request.cookies.get("lang", "zh")
    return lang if lang in LANGS else "zh"


def _clock(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else ""


def _stamp(iso: str) -> str:
    """An RFC 3339 UTC stamp as the console's local clock (as `clock` shows times)."""
    try:
        return _clock(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return iso


def _since(t: float | None) -> str:
    if not t:
        return ""
    s = max(0, int(time.time() - t))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
