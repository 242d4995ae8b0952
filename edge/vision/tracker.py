"""Follow each plate across analysed frames and vote per character: one vehicle gives ONE read.

Pure and clock-free: every call takes the stream time (seconds) of the frame it describes, so
tests drive it with a fake clock. Association is greedy on the distance between an observation and
the track's predicted position (constant velocity), gated by the plate's width and by text
agreement, so two cars side by side do not swap plates.

A track emits its read once, at the earliest of:

* `min_votes` observations agree on a valid voted text (per-character, confidence-weighted);
* a single observation is very confident (`instant_confidence`), which keeps first reads fast;
* the track ends (no observation for `max_gap_s`) with a voted text of at least `min_confidence`.

After its read, a track keeps voting: `TrackerUpdate.revised` carries the current vote of read
tracks that saw more frames, so a watch-list hit can still come when later frames correct an
early read (the pipeline raises at most one hit per track).

An observation with exactly the text already seen on a track may be further from the predicted
position (`same_text_gate_widths`): frames where the plate was missed leave no velocity estimate.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from edge.wire.plates import PlateKind, is_valid_plate

__all__ = ["Box", "PlateObservation", "PlateRead", "PlateTracker", "TrackerUpdate"]


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box in frame pixels."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def iou(self, other: Box) -> float:
        ix = max(0.0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0.0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.w * self.h + other.w * other.h - inter
        return inter / union if union > 0 else 0.0

    def scaled(self, factor: float) -> Box:
        return Box(self.x * factor, self.y * factor, self.w * factor, self.h * factor)


@dataclass(frozen=True, slots=True)
class PlateObservation:
    """One grammar-valid plate read in one analysed frame."""

    box: Box
    text: str
    char_confidences: tuple[float, ...]
    confidence: float
    colour: PlateKind | None
    time: float


@dataclass(frozen=True, slots=True)
class PlateRead:
    """The voted read of one vehicle."""

    track_id: int
    text: str
    colour: PlateKind | None
    confidence: float
    char_confidences: tuple[float, ...]  # per character: the voted share of the winning character
    observations: int
    agreeing: int
    first_seen: float
    read_time: float
    box: Box
    final: bool  # emitted when the track ended rather than early


@dataclass(frozen=True, slots=True)
class TrackerUpdate:
    track_ids: tuple[int, ...]  # the track of each observation passed in, same order
    reads: tuple[PlateRead, ...]  # first (and only) read of a vehicle
    ended: tuple[int, ...]  # tracks dropped in this update (their reads, if any, were emitted)
    revised: tuple[PlateRead, ...] = ()  # current vote of already-read tracks that saw more frames


@dataclass(slots=True)
class _Track:
    track_id: int
    first_seen: float
    last: PlateObservation
    vx: float = 0.0
    vy: float = 0.0
    observations: list[PlateObservation] = field(default_factory=list)
    emitted: bool = False

    def predict(self, now: float) -> tuple[float, float]:
        dt = now - self.last.time
        return self.last.box.cx + self.vx * dt, self.last.box.cy + self.vy * dt

    def add(self, obs: PlateObservation) -> None:
        dt = obs.time - self.last.time
        if dt > 0 and self.observations:
            self.vx = (obs.box.cx - self.last.box.cx) / dt
            self.vy = (obs.box.cy - self.last.box.cy) / dt
        self.last = obs
        self.observations.append(obs)


@dataclass(frozen=True, slots=True)
class _Vote:
    text: str
    confidence: float
    shares: tuple[float, ...]
    agreeing: int
    voters: int


def _vote(observations: Sequence[PlateObservation]) -> _Vote | None:
    lengths = Counter(len(o.text) for o in observations)
    length = max(lengths, key=lambda n: (lengths[n], n))
    voters = [o for o in observations if len(o.text) == length]
    chars: list[str] = []
    shares: list[float] = []
    for i in range(length):
        weight: defaultdict[str, float] = defaultdict(float)
        for o in voters:
            weight[o.text[i]] += o.char_confidences[i]
        char = max(weight, key=lambda c: weight[c])
        chars.append(char)
        total = sum(weight.values())
        mean_conf = weight[char] / sum(1 for o in voters if o.text[i] == char)
        shares.append(mean_conf * weight[char] / total if total > 0 else 0.0)
    text = "".join(chars)
    if not is_valid_plate(text):
        return None
    confidence = math.exp(sum(math.log(max(s, 1e-9)) for s in shares) / len(shares))
    return _Vote(text, confidence, tuple(shares), sum(1 for o in voters if o.text == text), len(voters))


def _agree(a: str, b: str) -> float:
    if len(a) != len(b):
        return 0.5 if a[:2] == b[:2] else 0.0
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


class PlateTracker:
    def __init__(
        self,
        *,
        max_gap_s: float = 1.0,
        gate_widths: float = 2.5,
        same_text_gate_widths: float = 10.0,
        min_text_agreement: float = 0.5,
        min_votes: int = 2,
        instant_confidence: float = 0.97,
        min_confidence: float = 0.75,
    ) -> None:
        self.max_gap_s = max_gap_s
        self.gate_widths = gate_widths
        self.same_text_gate_widths = same_text_gate_widths
        self.min_text_agreement = min_text_agreement
        self.min_votes = min_votes
        self.instant_confidence = instant_confidence
        self.min_confidence = min_confidence
        self._tracks: dict[int, _Track] = {}
        self._next_id = 1

    @property
    def active(self) -> int:
        return len(self._tracks)

    def update(self, observations: Sequence[PlateObservation], now: float) -> TrackerUpdate:
        """Associate this frame's observations (all taken at `now`), emit due reads, end stale tracks."""
        pairs: list[tuple[float, int, int]] = []
        for oi, obs in enumerate(observations):
            for tid, track in self._tracks.items():
                px, py = track.predict(now)
                dist = math.hypot(obs.box.cx - px, obs.box.cy - py) / max(obs.box.w, track.last.box.w, 1.0)
                same = any(o.text == obs.text for o in track.observations)
                gate = self.same_text_gate_widths if same else self.gate_widths
                if dist > gate or _agree(obs.text, track.last.text) < self.min_text_agreement:
                    continue
                pairs.append((dist, oi, tid))
        assigned: dict[int, int] = {}
        used: set[int] = set()
        for _, oi, tid in sorted(pairs):
            if oi in assigned or tid in used:
                continue
            assigned[oi] = tid
            used.add(tid)
        ids: list[int] = []
        touched: list[_Track] = []
        for oi, obs in enumerate(observations):
            if oi in assigned:
                track = self._tracks[assigned[oi]]
            else:
                track = _Track(self._next_id, obs.time, obs)
                self._tracks[track.track_id] = track
                self._next_id += 1
            track.add(obs)
            ids.append(track.track_id)
            touched.append(track)
        revised = [r for r in (self._revise(t, now, final=False) for t in touched) if r is not None]
        reads = [r for r in (self._maybe_emit(t, now, final=False) for t in touched) if r is not None]
        ended: list[int] = []
        for tid, track in list(self._tracks.items()):
            if now - track.last.time > self.max_gap_s:
                read = self._maybe_emit(track, now, final=True)
                if read is not None:
                    reads.append(read)
                ended.append(tid)
                del self._tracks[tid]
        return TrackerUpdate(tuple(ids), tuple(reads), tuple(ended), tuple(revised))

    def flush(self, now: float) -> TrackerUpdate:
        """End every track (end of stream): emit the reads still due."""
        reads = [r for r in (self._maybe_emit(t, now, final=True) for t in self._tracks.values()) if r]
        ended = tuple(self._tracks)
        self._tracks.clear()
        return TrackerUpdate((), tuple(reads), ended)

    def _revise(self, track: _Track, now: float, *, final: bool) -> PlateRead | None:
        """The current vote of a track whose read was already emitted (for a late watch-list hit)."""
        if not track.emitted:
            return None
        vote = _vote(track.observations)
        return None if vote is None else self._read(track, vote, now, final=final)

    def _maybe_emit(self, track: _Track, now: float, *, final: bool) -> PlateRead | None:
        if track.emitted:
            return None
        vote = _vote(track.observations)
        if vote is None:
            return None
        due = (
            (vote.agreeing >= self.min_votes and vote.confidence >= self.min_confidence)
            or (vote.voters == 1 and vote.confidence >= self.instant_confidence)
            or (final and vote.confidence >= self.min_confidence)
        )
        if not due:
            return None
        track.emitted = True
        return self._read(track, vote, now, final=final)

    def _read(self, track: _Track, vote: _Vote, now: float, *, final: bool) -> PlateRead:
        colours = Counter(o.colour for o in track.observations if o.colour is not None)
        return PlateRead(
            track_id=track.track_id,
            text=vote.text,
            colour=colours.most_common(1)[0][0] if colours else None,
            confidence=vote.confidence,
            char_confidences=vote.shares,
            observations=len(track.observations),
            agreeing=vote.agreeing,
            first_seen=track.first_seen,
            read_time=now,
            box=track.last.box,
            final=final,
        )
