"""Each station's response figures per month, kept as incidents change, so that a year of statistics reads
a few thousand rows instead of every incident (`hub.web.stats`).

Why months and not days: a fleet of 2,000 stations with 200,000 incidents a year has about one incident per
station every four days, so per-station daily figures would hold nearly as many rows as the incidents
themselves. A station's month holds about eight; a year by station or by district is then 2,000 x 12 cells.

One row per station and month in the console's time zone (``YYYY-MM``), derived from `console_response`
(table `console_response_month`): the alarms, by kind (the four known kinds in columns of their own, any
other in a small JSON object), per 1-3-5 target how many were met and decided, and the seconds to respond,
arrive and close, every value (`encode_values`), so that percentiles stay exact: the nearest rank over the
very values the straightforward computation sorts. The database sums a query's cells per group and per month
and joins their values into one text each, so Python reads a row per group and per month, not per cell.

`refresh` rebuilds a station's month from its `console_response` rows in the same transaction that changed
one of them (the old revision's month and the new one's: an incident whose raised time moves to another
month leaves one and joins the other). The time zone the cells are cut in is kept in `console_meta`; a
report in another zone (the hub machine's offset changed) rebuilds them all once (`ensure`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo

import msgspec

from hub.web.db import Db

__all__ = [
    "KINDS",
    "Times",
    "decode_kinds",
    "decode_values",
    "encode_values",
    "ensure",
    "local_day",
    "local_tz",
    "midnight",
    "month_key",
    "month_of",
    "month_start",
    "next_month",
    "rebuild",
    "refresh",
    "stored_tz",
    "tz_key",
]

KINDS: Final = ("panic", "duress", "holdup", "emergency")  # counted in columns of their own; others as JSON
META: Final = "response_months_tz"
ROWS: Final = (
    "SELECT station, kind, raised_at, respond_s, arrive_s, close_s, respond_ok, arrive_ok, resolve_ok "
    "FROM console_response"
)
Times = tuple[list[float], list[float], list[float]]  # respond, arrive, close
_values_decoder = msgspec.json.Decoder(list[float])
_kinds_decoder = msgspec.json.Decoder(dict[str, int])
_encoder = msgspec.json.Encoder()
_CHUNK: Final = 400
_META_READ: Final = "SELECT value FROM console_meta WHERE name = ?"
_META_LOCKED: Final = _META_READ + " FOR UPDATE"


def local_tz() -> tzinfo:
    """The console's time zone: the hub machine's (periods are its days, weeks and months)."""
    tz = datetime.now().astimezone().tzinfo
    assert tz is not None
    return tz


def tz_key(tz: tzinfo) -> str | None:
    """A time zone as text (kept beside the cells), or None for one that cannot be named that way."""
    if isinstance(tz, ZoneInfo):
        return f"zone:{tz.key}"
    if isinstance(tz, timezone):
        offset = tz.utcoffset(None)
        return f"offset:{offset.total_seconds():g}"
    return None


def _tz_of(key: str) -> tzinfo | None:
    kind, _, value = key.partition(":")
    if kind == "zone":
        return ZoneInfo(value)
    if kind == "offset":
        return timezone(timedelta(seconds=float(value)))
    return None


def midnight(day: date, tz: tzinfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def local_day(t: float, tz: tzinfo) -> date:
    """The day `t` falls in, exactly as the straightforward queries cut it (`midnight(day) <= t <
    midnight(day + 1)`): `fromtimestamp` rounds to the microsecond and could move a time just before
    midnight into the next day."""
    day = datetime.fromtimestamp(t, tz).date()
    if midnight(day, tz) > t:
        return day - timedelta(days=1)
    if midnight(day + timedelta(days=1), tz) <= t:
        return day + timedelta(days=1)
    return day


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_of(t: float, tz: tzinfo) -> str:
    return month_key(local_day(t, tz))


def encode_values(values: list[float]) -> str:
    """Seconds as JSON numbers joined by commas, without brackets: the database joins a group's cells with
    another comma (`group_concat` / `string_agg`) and the whole is read back at once (`decode_values`). JSON's
    numbers are the shortest text that reads back as the same float: the percentiles stay exact."""
    return _encoder.encode(values).decode()[1:-1]


def decode_values(text: str | None) -> list[float]:
    return _values_decoder.decode(f"[{text}]") if text else []


def decode_kinds(text: str | bytes) -> dict[str, int]:
    return _kinds_decoder.decode(text)


def _cells(rows: Iterable[Sequence[Any]], tz: tzinfo) -> list[tuple[Any, ...]]:
    """The cells (table rows) of the months the given `console_response` rows fall in."""
    cells: dict[tuple[str, str], tuple[list[int], dict[str, int], Times]] = {}
    for station, kind, raised, r, a, c, *oks in rows:
        key = (month_of(raised, tz), station)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = ([0] * 7, {}, ([], [], []))
        figures, kinds, times = cell
        figures[0] += 1
        kinds[kind] = kinds.get(kind, 0) + 1
        for i, ok in enumerate(oks):
            if ok is not None:
                figures[1 + 2 * i] += int(ok)
                figures[2 + 2 * i] += 1
        for values, value in zip(times, (r, a, c), strict=True):
            if value is not None:
                values.append(float(value))
    out = []
    for (month, station), (figures, kinds, times) in cells.items():
        for values in times:
            values.sort()
        other = {k: n for k, n in sorted(kinds.items()) if k not in KINDS}
        out.append(
            (
                month,
                station,
                figures[0],
                *(kinds.get(k, 0) for k in KINDS),
                _encoder.encode(other).decode() if other else "",
                *figures[1:],
                *(encode_values(values) for values in times),
            )
        )
    return out


def _insert(db: Db, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    width = len(rows[0])
    row_marks = "(" + ", ".join(["?"] * width) + ")"
    for i in range(0, len(rows), _CHUNK):
        chunk = rows[i : i + _CHUNK]
        marks = ", ".join([row_marks] * len(chunk))  # placeholders only: the values are parameters
        db.run(f"INSERT INTO console_response_month VALUES {marks}", [v for row in chunk for v in row])  # noqa: S608


def stored_tz(db: Db, *, lock: bool = False) -> tzinfo | None:
    """The time zone the cells are cut in, or None if they were never built."""
    # On PostgreSQL a writer locks the row, so a rebuild in another zone waits for it (and it for the rebuild);
    # SQLite's writers are serialised already.
    row = db.one(_META_LOCKED if lock and db.pg else _META_READ, (META,))
    return None if row is None else _tz_of(str(row[0]))


def refresh(db: Db, station: str, raised: Iterable[float]) -> None:
    """Rebuild `station`'s months that hold the given raised times (call inside the transaction that changed
    its `console_response` rows). Nothing to do while the cells were never built (`ensure` builds them)."""
    tz = stored_tz(db, lock=True)
    if tz is None:
        return
    for month in sorted({local_day(t, tz).replace(day=1) for t in raised}):
        key = month_key(month)
        db.run("DELETE FROM console_response_month WHERE month = ? AND station = ?", (key, station))
        rows = db.rows(
            ROWS + " WHERE station = ? AND raised_at >= ? AND raised_at < ?",
            (station, midnight(month, tz), midnight(next_month(month), tz)),
        )
        _insert(db, _cells(rows, tz))


def rebuild(db: Db, tz: tzinfo) -> bool:
    """Every cell again, cut in `tz` (which is kept for `refresh`). False if `tz` cannot be kept."""
    key = tz_key(tz)
    if key is None:
        return False
    with db.transaction():
        db.run(
            "INSERT INTO console_meta VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (META, key),
        )
        stored_tz(db, lock=True)
        db.run("DELETE FROM console_response_month")
        _insert(db, _cells(db.rows(ROWS), tz))
    return True


def ensure(db: Db, tz: tzinfo) -> bool:
    """Whether the cells are cut in `tz`, building them if they are not (first use, or the zone changed)."""
    key = tz_key(tz)
    if key is None:
        return False
    row = db.one(_META_READ, (META,))
    if row is not None and row[0] == key:
        return True
    return rebuild(db, tz)
