"""The console's pages: alarms board, incident, stations, audit log. Fragments (`/alarms/board`,
`/stations/table`) are what htmx fetches again when the stream says something changed."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.web import queries
from hub.web.accounts import Principal
from hub.web.auth import console_of, csrf_ok, local_path, require_page
from hub.web.console import run

__all__ = ["routes"]


def _visible_incidents(request: Request, who: Principal) -> list[queries.IncidentView]:
    console = console_of(request)
    feed = console.feed
    views = queries.incidents(console.pool.get(), places=feed.places)
    return [v for v in views if who.sees(feed.districts.get(v.station, v.district))]


async def home(request: Request) -> Response:
    return RedirectResponse("/alarms", status_code=303)


async def alarms(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    views = await run(lambda: _visible_incidents(request, who))
    return console_of(request).render(request, "alarms.html", who, incidents=views)


async def board(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    views = await run(lambda: _visible_incidents(request, who))
    return console_of(request).render(request, "_board.html", who, incidents=views)


async def _incident_for(request: Request, who: Principal) -> queries.IncidentView | None:
    console = console_of(request)
    station, iid = request.path_params["station"], request.path_params["incident"]
    view = await run(lambda: queries.incident(console.pool.get(), station, iid, places=console.feed.places))
    if view is None or not who.sees(console.feed.districts.get(view.station, "")):
        return None  # another district's incident does not exist for this officer
    return view


async def incident_page(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    view = await _incident_for(request, who)
    if view is None:
        return console_of(request).render(request, "error.html", who, status=404, message="not_found")
    return console_of(request).render(request, "incident.html", who, inc=view)


async def mark_seen(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    console = console_of(request)
    if not await csrf_ok(request, who):
        return console.render(request, "error.html", who, status=403, message="csrf")
    view = await _incident_for(request, who)
    if view is None:
        return console.render(request, "error.html", who, status=404, message="not_found")
    if not who.may_act(view.district):
        return console.render(request, "error.html", who, status=403, message="forbidden")

    def write() -> None:
        queries.mark_seen(console.pool.get(), view, who.name)
        console.accounts().audit(who.name, "incident.seen", f"{view.station}/{view.id}",
                                 f"state={view.incident['state']} escalations={view.incident.get('escalations', 0)}")

    await run(write)
    return RedirectResponse(local_path((await request.form()).get("next")) or "/alarms", status_code=303)


def _station_filter(request: Request, who: Principal) -> tuple[list[queries.StationView], dict[str, str], list[str]]:
    console = console_of(request)
    every = [v for v in queries.stations(console.pool.get(), silent_s=console.settings.silent_s)
             if who.sees(v.district)]
    district = request.query_params.get("district", "")
    state = request.query_params.get("state", "")
    shown = [v for v in every if (not district or v.district == district) and (not state or v.state == state)]
    districts = sorted({v.district for v in every if v.district})
    return shown, {"district": district, "state": state}, districts


async def stations_page(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    shown, chosen, districts = await run(lambda: _station_filter(request, who))
    return console_of(request).render(request, "stations.html", who, stations=shown, chosen=chosen,
                                      districts=districts, states=queries.STATES,
                                      query=urlencode({k: v for k, v in chosen.items() if v}))


async def stations_table(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    shown, _, _ = await run(lambda: _station_filter(request, who))
    return console_of(request).render(request, "_stations_table.html", who, stations=shown)


async def audit_page(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    console = console_of(request)
    if who.role != "command":
        return console.render(request, "error.html", who, status=403, message="forbidden")
    entries = await run(lambda: console.accounts().audit_log())
    return console.render(request, "audit.html", who, entries=entries)


routes = [
    Route("/", home),
    Route("/alarms", alarms),
    Route("/alarms/board", board),
    Route("/incidents/{station}/{incident}", incident_page),
    Route("/incidents/{station}/{incident}/seen", mark_seen, methods=["POST"]),
    Route("/stations", stations_page),
    Route("/stations/table", stations_table),
    Route("/audit", audit_page),
]
