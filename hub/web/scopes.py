"""Where a push from the console goes: every station, one district, or some stations - and who may send it.

A scope is stored as text: ``all``, ``district:NAME`` or ``stations:ID,ID,...``. Command staff may push to
any scope; a district officer only to their own district or to stations of it (never `all`); a viewer to
none. The stations a scope reaches are the ones the hub knows (heard from at least once), with the
district each one reported in its telemetry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from edge.wire import messages as wire
from hub.web.accounts import Principal

__all__ = ["Scope", "ScopeError", "parse_scope"]

Kind = Literal["all", "district", "stations"]
MAX_STATIONS: Final = 500


class ScopeError(ValueError):
    """A scope that cannot be parsed, or one the asker may not push to."""


@dataclass(frozen=True, slots=True)
class Scope:
    kind: Kind
    district: str = ""
    stations: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.kind == "district":
            return f"district:{self.district}"
        if self.kind == "stations":
            return "stations:" + ",".join(self.stations)
        return "all"

    def covers(self, station: str, district: str) -> bool:
        """Whether a station (in `district`) is one this scope reaches."""
        if self.kind == "district":
            return district == self.district
        if self.kind == "stations":
            return station in self.stations
        return True

    def reach(self, districts: Mapping[str, str]) -> list[str]:
        """The known stations this scope reaches (`districts`: station id -> its district)."""
        return sorted(s for s, d in districts.items() if self.covers(s, d))

    def allowed(self, who: Principal, districts: Mapping[str, str]) -> bool:
        """Whether `who` may push to this scope."""
        if who.role == "command":
            return True
        if who.role != "district" or self.kind == "all":
            return False
        if self.kind == "district":
            return self.district == who.district
        return all(districts.get(s) == who.district for s in self.stations)

    def visible(self, who: Principal, districts: Mapping[str, str]) -> bool:
        """Whether `who` sees an entry or a notice of this scope (a district officer: those that reach
        their district's stations; `all` reaches every station, so everybody sees it)."""
        if who.role != "district" or self.kind == "all":
            return True
        if self.kind == "district":
            return self.district == who.district
        return any(districts.get(s) == who.district for s in self.stations)


def parse_scope(text: str) -> Scope:
    """``all``, ``district:NAME`` or ``stations:ID[,ID...]`` (also from a form: spaces and newlines between ids)."""
    text = text.strip()
    if text == "all":
        return Scope("all")
    kind, _, rest = text.partition(":")
    if kind == "district":
        name = rest.strip()
        if not name or len(name) > 64 or not name.isprintable():
            raise ScopeError("a district scope needs a district name (1-64 printable characters)")
        return Scope("district", district=name)
    if kind == "stations":
        ids = _station_ids(rest.replace("\n", ",").replace(" ", ",").split(","))
        return Scope("stations", stations=ids)
    raise ScopeError(f"scope must be `all`, `district:NAME` or `stations:ID,...`, got {text[:80]!r}")


def _station_ids(raw: Iterable[str]) -> tuple[str, ...]:
    ids = sorted({s.strip() for s in raw if s.strip()})
    if not ids:
        raise ScopeError("name at least one station")
    if len(ids) > MAX_STATIONS:
        raise ScopeError(f"at most {MAX_STATIONS} stations in one scope")
    bad = [s for s in ids if not wire.STATION_ID_RE.match(s)]
    if bad:
        raise ScopeError(f"not a station id: {bad[0][:80]!r}")
    return tuple(ids)
