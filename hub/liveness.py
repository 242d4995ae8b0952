"""Station liveness as central sees it: the rules the stores apply, and the notices people get.

A station is `online` while the hub hears from it (any message; a heartbeat every
`uplink.heartbeat_interval`); `silent` once nothing came for `silent_after` seconds (a frozen process, a
cut link without a will yet); `offline` after its last will, or after `offline_after` seconds of
silence; `restarting` after a clean shutdown status, until it is heard again (a clean restart never
shows as offline unless it takes longer than `offline_after`). The state lives in the database and
every transition is one conditional update there, so several hub processes agree on it.

The displayed state is never debounced. Notices are: a station that flaps gets at most one notice per
`debounce` seconds (the ones held back are counted in the next), and when many stations go down
together (a central broker restart: every will at once) they become one "mass outage" notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from edge.wire.messages import STATION_ID_RE, Status
from hub.store_base import LivenessChange

__all__ = ["TIMEOUTS", "LivenessNotifier", "Notice", "heard", "is_station_id", "liveness_of_status"]

DOWN: Final = frozenset({"silent", "offline"})
#: (from, to, which limit): the transitions the hub's periodic check makes.
TIMEOUTS: Final = (
    ("online", "silent", "silent_after"),
    ("silent", "offline", "offline_after"),
    ("restarting", "offline", "offline_after"),
)


def is_station_id(value: str) -> bool:
    return STATION_ID_RE.match(value) is not None


def liveness_of_status(status: Status) -> str:
    if status.state == "online":
        return "online"
    if status.state == "offline":
        return "restarting" if status.reason == "shutdown" else "offline"
    return "unknown"


def heard(
    stations: dict[str, int | None], known: dict[str, tuple[str, int, str]]
) -> tuple[list[LivenessChange], list[tuple[str, str]], list[str]]:
    """What hearing from `stations` (station -> the heartbeat's counter, or None) changes.

    `known` is station -> (state, counter, liveness) as stored. Returns the changes, the
    (station, liveness) updates and the stations to insert. A message from a connection whose will was
    already processed (counter not newer) does not make the station online again.
    """
    changes: list[LivenessChange] = []
    updates: list[tuple[str, str]] = []
    inserts: list[str] = []
    for st, counter in stations.items():
        row = known.get(st)
        if row is None:
            inserts.append(st)
            changes.append(LivenessChange(st, "unknown", "online"))
            continue
        state, stored_counter, live = row
        stale = state == "offline" and live == "offline" and (counter is None or counter <= stored_counter)
        new = live if stale else "online"
        updates.append((st, new))
        if new != live:
            changes.append(LivenessChange(st, live, new))
    return changes, updates, inserts


@dataclass(frozen=True, slots=True)
class Notice:
    kind: str  # "station" | "mass_outage" | "mass_outage_over"
    text: str
    station: str = ""
    count: int = 0


@dataclass(slots=True)
class _Held:
    told: list[float]  # when the last notices were told (at most `burst`)
    held: int = 0
    latest: LivenessChange | None = None


@dataclass(slots=True)
class LivenessNotifier:
    """Sans-IO: feed it liveness changes with the time; take notices at every check."""

    debounce: float = 30.0
    burst: int = 2  # notices per station per `debounce` seconds: down and up again are told at once
    mass_min: int = 10  # at least this many stations going down in one check ...
    mass_fraction: float = 0.2  # ... and this share of the known stations, is a mass outage
    mass_outage: bool = False
    _pending: list[LivenessChange] = field(default_factory=list)
    _held: dict[str, _Held] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)

    def feed(self, changes: list[LivenessChange]) -> None:
        self._pending.extend(changes)

    def flush(self, now: float, *, known: int) -> list[Notice]:
        changes, self._pending = self._pending, []
        for ch in changes:
            (self.down.add if ch.new in DOWN else self.down.discard)(ch.station)
        notices: list[Notice] = []
        went_down = {ch.station for ch in changes if ch.new in DOWN and ch.old not in DOWN}
        threshold = max(self.mass_min, int(self.mass_fraction * known))
        if not self.mass_outage and len(went_down) >= threshold:
            self.mass_outage = True
            notices.append(
                Notice(
                    "mass_outage",
                    f"mass outage: {len(went_down)} stations went down at once ({len(self.down)} of {known} down)",
                    count=len(self.down),
                )
            )
            changes = [ch for ch in changes if ch.station not in went_down]
        elif self.mass_outage:
            if len(self.down) < threshold // 2:
                self.mass_outage = False
                notices.append(
                    Notice(
                        "mass_outage_over", f"mass outage over: {len(self.down)} of {known} down", count=len(self.down)
                    )
                )
            changes = []  # during a mass outage the displayed states say it all
        for ch in changes:
            notice = self._station(ch, now)
            if notice is not None:
                notices.append(notice)
        for st, h in list(self._held.items()):  # held-back changes are told once the debounce ends
            h.told = [t for t in h.told if now - t < self.debounce]
            if h.latest is not None and len(h.told) < self.burst:
                notices.append(self._tell(h, h.latest, now))
            elif h.latest is None and not h.told:
                del self._held[st]
        return notices

    def _station(self, ch: LivenessChange, now: float) -> Notice | None:
        h = self._held.setdefault(ch.station, _Held(told=[]))
        h.told = [t for t in h.told if now - t < self.debounce]
        if len(h.told) < self.burst and h.latest is None:
            return self._tell(h, ch, now)
        h.held += 1
        h.latest = ch
        return None

    def _tell(self, h: _Held, ch: LivenessChange, now: float) -> Notice:
        extra = f" ({h.held} changes held back while it flapped)" if h.held else ""
        h.told.append(now)
        h.held, h.latest = 0, None
        return Notice("station", f"station {ch.station}: {ch.old} -> {ch.new}{extra}", station=ch.station)
