"""The vehicle-warnings page and API: recent watch-list hits across the stations one may see, newest first,
with the scene and the plate crop the station sent; filters by station and plate; refreshed every few
seconds while open (`/warnings/table`)."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.web import plate_hits
from hub.web.accounts import Principal
from hub.web.auth import console_of, require_page
from hub.web.console import run
from hub.web.pushing import api_who, districts_now, refuse

__all__ = ["routes"]


def _hits(request: Request, who: Principal) -> list[plate_hits.HitView]:
    console = console_of(request)
    db = console.pool.get()
    plate_hits.sync(db)
    districts = districts_now(console)
    places = console.feed.places
    mine = None if who.role != "district" else [s for s, d in districts.items() if d == who.district]
    got = plate_hits.hits(
        db,
        stations=mine,
        station=request.query_params.get("station", "").strip(),
        plate=request.query_params.get("plate", "").strip(),
    )
    return [
        replace(
            h, station_name=places[h.station].name if h.station in places else "", district=districts.get(h.station, "")
        )
        for h in got
    ]


def _chosen(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip() for k in ("station", "plate")}


async def page(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    hits = await run(lambda: _hits(request, who))
    chosen = _chosen(request)
    return console_of(request).render(
        request, "warnings.html", who, hits=hits, chosen=chosen, query=urlencode({k: v for k, v in chosen.items() if v})
    )


async def table(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    hits = await run(lambda: _hits(request, who))
    return console_of(request).render(request, "_warnings_table.html", who, hits=hits)


async def image(request: Request) -> Response:
    who = await require_page(request)
    if isinstance(who, Response):
        return who
    station, which = request.path_params["station"], request.path_params["which"]
    try:
        seq = int(request.path_params["seq"])
    except ValueError:
        return refuse(request, who, 404, "not_found", api=False)
    console = console_of(request)

    def read() -> bytes | None:
        if not who.sees(districts_now(console).get(station, "")):
            return None  # another district's hit does not exist for this officer
        return plate_hits.image(console.pool.get(), station, seq, which)

    jpeg = await run(read)
    if jpeg is None:
        return refuse(request, who, 404, "not_found", api=False)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


async def api_list(request: Request) -> Response:
    who = await api_who(request)
    if isinstance(who, Response):
        return who
    hits = await run(lambda: _hits(request, who))
    return JSONResponse({"hits": [h.as_json() for h in hits]})


routes = [
    Route("/warnings", page),
    Route("/warnings/table", table),
    Route("/warnings/{station}/{seq}/{which:str}.jpg", image),
    Route("/api/v1/warnings", api_list),
]
