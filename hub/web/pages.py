"""The console's pages: alarms board, incident, stations, audit log. Fragments (`/alarms/board`,
`/stations/table`) are what htmx fetches again when the stream says something changed."""

from __future__ import annotations

from dataclasses import dataclass
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
        console.accounts().audit(
            who.name,
            "incident.seen",
            f"{view.station}/{view.id}",
            f"state={view.incident['state']} escalations={view.incident.get('escalations', 0)}",
        )

    await run(write)
    return RedirectResponse(local_path((await request.form()).get("next")) or "/alarms", status_code=303)


PAGE_SIZE = 200  # rows a wall screen can show; the fleet's counts are above the table
_PROBLEM_FIRST = {"offline": 0, "silent": 1, "online": 2}


@dataclass(frozen=True, slots=True)
class StationListing:
    rows: list[queries.StationView]  # this page of the matching stations, problems first
    matching: int
    counts: dict[str, int]  # per state, of the stations one may see in the chosen district
    chosen: dict[str, str]
    districts: list[str]
    page: int
    pages: int

    def link(self, **change: str | int) -> str:
        """The query string of this listing with some parameters changed (`page=1` is left out)."""
        params = {**self.chosen, "page": str(self.page), **{k: str(v) for k, v in change.items()}}
        if params["page"] == "1":
            del params["page"]
        return urlencode({k: v for k, v in params.items() if v})


def _station_listing(request: Request, who: Principal) -> StationListing:
    console = console_of(request)
    every = [
        v for v in queries.stations(console.pool.get(), silent_s=console.settings.silent_s) if who.sees(v.district)
    ]
    district = request.query_params.get("district", "")
    state = request.query_params.get("state", "")
    in_district = [v for v in every if not district or v.district == district]
    counts = dict.fromkeys(queries.STATES, 0)
    for v in in_district:
        counts[v.state] = counts.get(v.state, 0) + 1
    shown = sorted(
        (v for v in in_district if not state or v.state == state),
        key=lambda v: (_PROBLEM_FIRST.get(v.state, 3), v.station),
    )
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    try:
        page = min(max(1, int(request.query_params.get("page", "1"))), pages)
    except ValueError:
        page = 1
    return StationListing(
        rows=shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        matching=len(shown),
        counts=counts,
        chosen={"district": district, "state": state},
        districts=sorted({v.district for v in every if v.district}),
        page=page,
        pages=pages,
    )


async def stations_page(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    listing = await run(lambda: _station_listing(request, who))
    return console_of(request).render(request, "stations.html", who, listing=listing, states=queries.STATES)


async def stations_table(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    listing = await run(lambda: _station_listing(request, who))
    return console_of(request).render(request, "_stations_table.html", who, listing=listing, states=queries.STATES)


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
