"""Who is asking (a bearer token or a session cookie), sign-in and sign-out, and the CSRF check.

Sessions: an HttpOnly, SameSite=Strict cookie holding a random id (its SHA-256 is stored). Every POST
made with a session must carry the session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``);
the sign-in form itself is protected by a double-submit cookie. Bearer tokens are not ambient
credentials, so their requests need no CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.web.accounts import Principal
from hub.web.console import Console, run

__all__ = ["SESSION_COOKIE", "csrf_ok", "local_path", "principal", "require_page", "routes"]

SESSION_COOKIE = "pk_session"
_LOGIN_COOKIE = "pk_login"


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


async def principal(request: Request) -> Principal | None:
    console = console_of(request)
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        token = auth[7:].strip()
        return await run(lambda: console.accounts().by_token(token))
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        return await run(lambda: console.accounts().by_session(sid))
    return None


async def require_page(request: Request) -> Principal | Response:
    who = await principal(request)
    if who is None:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    return who


async def csrf_ok(request: Request, who: Principal) -> bool:
    if who.via_token:
        return True
    sent = request.headers.get("x-csrf-token", "")
    if not sent:
        form = await request.form()
        value = form.get("csrf", "")
        sent = value if isinstance(value, str) else ""
    return bool(who.csrf) and hmac.compare_digest(sent.encode(), who.csrf.encode())


def local_path(value: object) -> str:
    """`value` if it is a path on this server, else "" (never `//host` or `/\\host`: browsers go there)."""
    nxt = value if isinstance(value, str) else ""
    if not nxt.startswith("/") or nxt.startswith(("//", "/\\")) or any(c in nxt for c in "\r\n"):
        return ""
    return nxt


def _safe_next(value: object) -> str:
    return local_path(value) or "/alarms"


async def login_page(request: Request, *, error: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = console_of(request).render(
        request,
        "login.html",
        None,
        status=status,
        login_csrf=token,
        error=error,
        next=_safe_next(request.query_params.get("next")),
    )
    response.set_cookie(
        _LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=console_of(request).settings.secure_cookies
    )
    return response


async def login(request: Request) -> Response:
    console = console_of(request)
    form = await request.form()
    sent, cookie = form.get("csrf", ""), request.cookies.get(_LOGIN_COOKIE, "")
    if not (isinstance(sent, str) and cookie and hmac.compare_digest(sent.encode(), cookie.encode())):
        return console.render(request, "error.html", None, status=403, message="csrf")
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    result = await run(lambda: console.accounts().login(name, password))
    if result.session is None:
        return await login_page(request, error="locked" if result.locked else "bad_login", status=401)
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, result.session, httponly=True, samesite="strict", secure=console.settings.secure_cookies
    )
    response.delete_cookie(_LOGIN_COOKIE)
    return response


async def logout(request: Request) -> Response:
    who = await principal(request)
    if who is None or who.via_token:
        return RedirectResponse("/login", status_code=303)
    if not await csrf_ok(request, who):
        return console_of(request).render(request, "error.html", who, status=403, message="csrf")
    sid = request.cookies.get(SESSION_COOKIE, "")
    await run(lambda: console_of(request).accounts().logout(sid, who.name))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


async def set_lang(request: Request) -> Response:
    lang = request.path_params["lang"]
    response = RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    if lang in ("zh", "en"):
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
    return response


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/lang/{lang}", set_lang, methods=["GET"]),
]
