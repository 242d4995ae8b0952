"""The watch list: entries, an atomically written local file, hot swap, and OCR-aware fuzzy matching.

Pure (no OpenCV): the daemon installs a new list with `WatchListStore.save()`; each camera worker
calls `WatchListStore.poll()` about once a second and swaps in the new version without a restart.

File format (JSON, UTF-8)::

    {"version": 42, "entries": [{"plate": "粤B12345", "reason": "stolen", "priority": 1}]}

`priority` is 1 (most urgent) to 9. Unknown keys are errors; errors name the file, the key path
and the bad value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.system.files import write_atomic
from edge.wire.plates import normalise_plate, parse_plate

__all__ = [
    "DEFAULT_CONFUSIONS",
    "PlateMatcher",
    "WatchEntry",
    "WatchList",
    "WatchListError",
    "WatchListStore",
    "WatchMatch",
]

DEFAULT_CONFUSIONS: tuple[str, ...] = ("0DQ", "8B", "2Z", "5S", "17")
"""Groups of characters the recogniser confuses; a substitution inside a group is cheaper."""


class WatchListError(ValueError):
    """A watch-list file or entry is invalid; the message names the file, key path and value."""


@dataclass(frozen=True, slots=True)
class WatchEntry:
    plate: str
    reason: str
    priority: int
    list_version: int


@dataclass(frozen=True, slots=True)
class WatchMatch:
    entry: WatchEntry
    distance: float

    @property
    def exact(self) -> bool:
        return self.distance == 0.0


@dataclass(frozen=True, slots=True)
class WatchList:
    version: int
    entries: tuple[WatchEntry, ...] = ()

    @classmethod
    def build(cls, *, version: int, entries: Iterable[Mapping[str, Any]], origin: str = "<memory>") -> WatchList:
        """Validate raw entries (`plate`, `reason`, optional `priority`) into a list."""
        checked: list[WatchEntry] = []
        seen: set[str] = set()
        for index, raw in enumerate(entries):
            where = f"{origin}: entries[{index}]"
            if not isinstance(raw, Mapping):
                raise WatchListError(f"{where}: expected an object, got {raw!r}")
            unknown = set(raw) - {"plate", "reason", "priority"}
            if unknown:
                raise WatchListError(f"{where}: unknown key(s) {sorted(unknown)}")
            plate_raw, reason, priority = raw.get("plate"), raw.get("reason", ""), raw.get("priority", 5)
            if not isinstance(plate_raw, str) or parse_plate(plate_raw) is None:
                raise WatchListError(f"{where}.plate: not a valid plate: {plate_raw!r}")
            if not isinstance(reason, str):
                raise WatchListError(f"{where}.reason: expected a string, got {reason!r}")
            if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 9:
                raise WatchListError(f"{where}.priority: expected an integer 1..9, got {priority!r}")
            plate = normalise_plate(plate_raw)
            if plate in seen:
                raise WatchListError(f"{where}.plate: duplicate plate {plate!r}")
            seen.add(plate)
            checked.append(WatchEntry(plate, reason, priority, version))
        return cls(version, tuple(checked))

    def to_json(self) -> bytes:
        doc = {
            "version": self.version,
            "entries": [{"plate": e.plate, "reason": e.reason, "priority": e.priority} for e in self.entries],
        }
        return json.dumps(doc, ensure_ascii=False, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes, *, origin: str = "<memory>") -> WatchList:
        try:
            doc = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WatchListError(f"{origin}: not valid JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise WatchListError(f"{origin}: expected an object at the top level")
        unknown = set(doc) - {"version", "entries"}
        if unknown:
            raise WatchListError(f"{origin}: unknown key(s) {sorted(unknown)}")
        version, entries = doc.get("version"), doc.get("entries")
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise WatchListError(f"{origin}: version: expected a non-negative integer, got {version!r}")
        if not isinstance(entries, list):
            raise WatchListError(f"{origin}: entries: expected a list, got {entries!r}")
        return cls.build(version=version, entries=entries, origin=origin)


@dataclass(frozen=True, slots=True)
class _FileStamp:
    inode: int
    size: int
    mtime_ns: int


@dataclass(slots=True)
class WatchListStore:
    """The local watch-list file. `save` is atomic (temp file, fsync, rename, fsync directory)."""

    path: Path
    _stamp: _FileStamp | None = field(default=None, init=False)

    def save(self, watch_list: WatchList) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, watch_list.to_json(), mode=0o640)

    def load(self) -> WatchList:
        """The stored list; an absent file is an empty list of version 0."""
        try:
            stat = self.path.stat()
            data = self.path.read_bytes()
        except FileNotFoundError:
            self._stamp = None
            return WatchList(0)
        self._stamp = _FileStamp(stat.st_ino, stat.st_size, stat.st_mtime_ns)
        return WatchList.from_json(data, origin=str(self.path))

    def poll(self) -> WatchList | None:
        """The list if the file changed since the last `load`/`poll`, else None (one `stat` call).

        Raises `WatchListError` for a bad new file; the caller keeps its current list.
        """
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        stamp = _FileStamp(stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        return WatchList.from_json(self.path.read_bytes(), origin=str(self.path))


class PlateMatcher:
    """Exact and near matching with an edit distance that knows OCR confusions.

    Substituting characters of the same confusion group (0/D/Q, 8/B, 2/Z, 5/S, 1/7 by default)
    costs `confusion_cost`; any other substitution, insertion or deletion costs 1. The default
    threshold (0.5) accepts one confusable substitution and nothing else: a plate one ordinary
    character away is another vehicle, and a false hit sends officers after an innocent driver.

    When the read's per-character confidences are given, a character read with less than
    `uncertain_below` confidence (the frames disagreed, or the model hesitated: typically the
    province glyph on a small plate) is substituted at `confusion_cost` too.
    """

    def __init__(
        self,
        *,
        max_distance: float = 0.5,
        confusion_cost: float = 0.5,
        confusions: Iterable[str] = DEFAULT_CONFUSIONS,
        uncertain_below: float = 0.5,
    ) -> None:
        if max_distance < 0 or not 0 < confusion_cost <= 1:
            raise ValueError("max_distance must be >= 0 and 0 < confusion_cost <= 1")
        self.max_distance = max_distance
        self.confusion_cost = confusion_cost
        self.uncertain_below = uncertain_below
        self._group: dict[str, int] = {}
        for index, group in enumerate(confusions):
            for char in group:
                self._group[char] = index

    def substitution_cost(self, a: str, b: str) -> float:
        if a == b:
            return 0.0
        ga, gb = self._group.get(a), self._group.get(b)
        return self.confusion_cost if ga is not None and ga == gb else 1.0

    def distance(self, a: str, b: str, *, limit: float | None = None, uncertain: Sequence[bool] | None = None) -> float:
        """Weighted Levenshtein distance; stops early (returns > limit) once it exceeds `limit`.

        `uncertain[i]` marks characters of `a` read with low confidence (cheap to substitute).
        """
        if a == b:
            return 0.0
        previous = [float(j) for j in range(len(b) + 1)]
        for i, ca in enumerate(a, start=1):
            current = [float(i)]
            unsure = uncertain is not None and uncertain[i - 1]
            for j, cb in enumerate(b, start=1):
                sub = self.substitution_cost(ca, cb)
                if unsure:
                    sub = min(sub, self.confusion_cost)
                current.append(min(previous[j] + 1.0, current[j - 1] + 1.0, previous[j - 1] + sub))
            if limit is not None and min(current) > limit:
                return min(current)
            previous = current
        return previous[-1]

    def _substitutions(self, a: str, b: str, uncertain: Sequence[bool]) -> float:
        total = 0.0
        for ca, cb, unsure in zip(a, b, uncertain, strict=True):
            if ca != cb:
                cost = self.substitution_cost(ca, cb)
                total += min(cost, self.confusion_cost) if unsure else cost
                if total > self.max_distance:
                    break
        return total

    def match(
        self, plate: str, watch_list: WatchList, *, confidences: Sequence[float] | None = None
    ) -> WatchMatch | None:
        """The closest entry within `max_distance` (ties: most urgent priority), or None."""
        read = normalise_plate(plate)
        if confidences is not None and len(confidences) == len(read):
            uncertain = [c < self.uncertain_below for c in confidences]
        else:
            uncertain = [False] * len(read)
        best: WatchMatch | None = None
        for entry in watch_list.entries:
            if abs(len(entry.plate) - len(read)) > self.max_distance:
                continue
            if self.max_distance < 1.0:  # no insertion or deletion fits: substitutions only
                d = self._substitutions(read, entry.plate, uncertain)
            else:
                d = self.distance(read, entry.plate, limit=self.max_distance, uncertain=uncertain)
            if d > self.max_distance:
                continue
            if best is None or (d, entry.priority) < (best.distance, best.entry.priority):
                best = WatchMatch(entry, d)
        return best
