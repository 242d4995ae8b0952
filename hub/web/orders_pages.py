"""The console's work-order pages: the listing of every station's orders (overdue first, per-station
counts and age, filters), one order with its history, and the changes made at central (triage, assign,
reassign, start, resolve, refer), which go through the same rule as a station's (orders.py) and are
audited. The reporter's full contact is shown only on request, to a role that may act on the order, and
the request is audited."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from edge.wire.orders import ACTIONS, CLOSED_STATES, TRIAGES
from hub.web import orders, orders_view
from hub.web.accounts import Principal
from hub.web.auth import console_of, require_page
from hub.web.console import Console, run
from hub.web.pushing import guard_change, refuse

__all__ = ["routes", "sla_of"]


def sla_of(console: Console) -> orders_view.Sla:
    s = console.settings
    return orders_view.Sla(triage_s=s.order_triage_s, open_s=s.order_open_s)


def _names(console: Console) -> dict[str, str]:
    return {k: v.name for k, v in console.feed.places.items()}


def _listing(request: Request, who: Principal) -> orders_view.Listing:
    console = console_of(request)
    q = request.query_params
    return orders_view.listing(
        console.pool.get(),
        sees=who.sees,
        names=_names(console),
        districts=console.feed.districts,
        sla=sla_of(console),
        chosen={k: q.get(k, "") for k in ("state", "station", "district")},
    )


async def orders_page(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    listing = await run(lambda: _listing(request, who))
    return console_of(request).render(
        request, "orders.html", who, listing=listing, filters=orders_view.FILTERS, sla=sla_of(console_of(request))
    )


async def orders_table(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    listing = await run(lambda: _listing(request, who))
    return console_of(request).render(request, "_orders_table.html", who, listing=listing)


async def _order_for(request: Request, who: Principal) -> orders_view.OrderView | None:
    console = console_of(request)
    ticket = request.path_params["ticket"]
    got = await run(
        lambda: orders_view.view(
            console.pool.get(), ticket, names=_names(console), districts=console.feed.districts, sla=sla_of(console)
        )
    )
    if got is None or not who.sees(got.district):
        return None  # another district's order does not exist for this officer
    return got


async def _render_order(
    request: Request, who: Principal, got: orders_view.OrderView, *, status: int = 200, **extra: object
) -> Response:
    return console_of(request).render(
        request,
        "order.html",
        who,
        status=status,
        o=got.order,
        ov=got,
        triages=TRIAGES,
        may_act=who.may_act(got.district) and got.order.state not in CLOSED_STATES,
        may_reveal=who.may_act(got.district),
        **extra,
    )


async def order_page(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    got = await _order_for(request, who)
    if got is None:
        return console_of(request).render(request, "error.html", who, status=404, message="not_found")
    return await _render_order(request, who, got)


async def _checked(request: Request) -> tuple[Principal, orders_view.OrderView] | Response:
    """The person and the order of an action, or the error page (sign-in, rights, CSRF, not found)."""
    who = await guard_change(request, api=False)
    if isinstance(who, Response):
        return who
    got = await _order_for(request, who)
    if got is None:
        return refuse(request, who, 404, "not_found", api=False)
    if not who.may_act(got.district):
        return refuse(request, who, 403, "forbidden", api=False)
    return who, got


async def change(request: Request) -> Response:
    checked = await _checked(request)
    if isinstance(checked, Response):
        return checked
    who, got = checked
    console = console_of(request)
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("action", "triage", "officer", "outcome", "base_rev")}
    action = values["action"]
    if action not in ACTIONS:
        return await _render_order(request, who, got, status=400, refused="bad_action")
    ticket = got.order.ticket

    def write() -> orders.Applied | None:
        db = console.pool.get()
        try:
            applied = orders.central_change(
                db,
                ticket,
                action=action,
                by=who.name,
                base_rev=int(values["base_rev"]) if values["base_rev"].isdigit() else 0,
                triage=values["triage"],
                officer=values["officer"],
                outcome=values["outcome"],
            )
        except ValueError as exc:
            return orders.Applied(got.order, refused=str(exc).split("\n")[0][:200], changed=False)
        if applied is not None and not applied.refused:
            detail = values["triage"] or values["officer"] or values["outcome"][:80]
            console.accounts().audit(who.name, f"order.{action}", ticket, f"rev={applied.order.rev} {detail}")
        return applied

    applied = await run(write)
    if applied is None:
        return console.render(request, "error.html", who, status=404, message="not_found")
    if applied.refused:
        fresh = await _order_for(request, who) or got
        return await _render_order(request, who, fresh, status=409, refused=applied.refused)
    return RedirectResponse(f"/orders/{ticket}", status_code=303)


async def reveal_contact(request: Request) -> Response:
    checked = await _checked(request)
    if isinstance(checked, Response):
        return checked
    who, got = checked
    console = console_of(request)

    def read() -> str:
        contact = orders.full_contact(console.pool.get(), got.order.ticket)
        console.accounts().audit(who.name, "order.contact", got.order.ticket, "full contact shown")
        return contact

    return await _render_order(request, who, got, contact=await run(read))


routes = [
    Route("/orders", orders_page),
    Route("/orders/table", orders_table),
    Route("/orders/{ticket}", order_page),
    Route("/orders/{ticket}/change", change, methods=["POST"]),
    Route("/orders/{ticket}/contact", reveal_contact, methods=["POST"]),
]
