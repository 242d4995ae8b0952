"""From analysed frames to messages: track, vote, match the watch list, snapshot the hits.

Pure orchestration (no OpenCV): the image work comes in through two small protocols, so this is
tested with fakes and the same code runs in the worker, the CLI and the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from edge.vision.messages import PlateHit, PlateReadMessage, Snapshot, WorkerMessage
from edge.vision.tracker import Box, PlateObservation, PlateRead, PlateTracker
from edge.vision.watchlist import PlateMatcher, WatchList, WatchMatch
from edge.wire.plates import PlateKind, kind_for, parse_plate

__all__ = ["Analysis", "FrameAnalyser", "FrameSampler", "FrameStamp", "PlatePipeline", "SnapshotFn"]


@dataclass(frozen=True, slots=True)
class FrameStamp:
    index: int
    stream_time: float  # seconds on the stream's own clock (monotonic for live, PTS for files)
    wall_time: float  # epoch seconds when the frame was captured


@dataclass(frozen=True, slots=True)
class Analysis:
    observations: tuple[PlateObservation, ...]
    candidates: int


class FrameAnalyser(Protocol):
    def analyse(self, frame: Any, time: float) -> Analysis: ...


class SnapshotFn(Protocol):
    def __call__(self, frame: Any, box: Box) -> Snapshot: ...


class FrameSampler:
    """Pick frames by time: at most `rate` per second of stream time, evenly spaced."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.period = 1.0 / rate
        self._next: float | None = None

    def due(self, stream_time: float) -> bool:
        # a small tolerance keeps a 25 fps stream sampled at 5/s on every 5th frame despite rounding
        if self._next is not None and stream_time < self._next - 1e-3:
            return False
        if self._next is None or stream_time - self._next > self.period:
            self._next = stream_time + self.period
        else:
            self._next += self.period
        return True


@dataclass(slots=True)
class _Best:
    confidence: float
    frame: Any
    box: Box


class PlatePipeline:
    """Feed analysed frames in order; get hits (and reads when `keep_reads`) out."""

    def __init__(
        self,
        *,
        camera_id: str,
        analyser: FrameAnalyser,
        snapshot: SnapshotFn,
        tracker: PlateTracker | None = None,
        matcher: PlateMatcher | None = None,
        watch_list: WatchList | None = None,
        keep_reads: bool = False,
    ) -> None:
        self.camera_id = camera_id
        self.analyser = analyser
        self.snapshot = snapshot
        self.tracker = tracker or PlateTracker()
        self.matcher = matcher or PlateMatcher()
        self.watch_list = watch_list or WatchList(0)  # replace at any time: the next read uses it
        self.keep_reads = keep_reads
        self.frames_analysed = 0
        self.candidates = 0
        self.reads = 0
        self.hits = 0
        self._best: dict[int, _Best] = {}
        self._hit_tracks: set[int] = set()  # at most one hit per vehicle
        self._offset: float | None = None  # wall_time - stream_time

    def process(self, frame: Any, stamp: FrameStamp) -> list[WorkerMessage]:
        analysis = self.analyser.analyse(frame, stamp.stream_time)
        self.frames_analysed += 1
        self.candidates += analysis.candidates
        self._offset = stamp.wall_time - stamp.stream_time
        update = self.tracker.update(analysis.observations, stamp.stream_time)
        for obs, tid in zip(analysis.observations, update.track_ids, strict=True):
            best = self._best.get(tid)
            if best is None or obs.confidence > best.confidence:
                self._best[tid] = _Best(obs.confidence, frame, obs.box)
        messages = [m for r in update.reads if (m := self._on_read(r, stamp)) is not None]
        messages += [m for r in update.revised if (m := self._on_revision(r, stamp)) is not None]
        for tid in update.ended:
            self._best.pop(tid, None)
            self._hit_tracks.discard(tid)
        return messages

    def finish(self, stamp: FrameStamp) -> list[WorkerMessage]:
        """End of stream: reads still due are emitted."""
        update = self.tracker.flush(stamp.stream_time)
        messages = [m for r in update.reads if (m := self._on_read(r, stamp)) is not None]
        self._best.clear()
        self._hit_tracks.clear()
        return messages

    def _wall(self, stream_time: float) -> float:
        return stream_time + (self._offset or 0.0)

    def _on_revision(self, read: PlateRead, stamp: FrameStamp) -> WorkerMessage | None:
        """A read vehicle seen again: its improved vote may now match the watch list."""
        if read.track_id in self._hit_tracks:
            return None
        match = self.matcher.match(read.text, self.watch_list, confidences=read.char_confidences)
        return None if match is None else self._hit(read, match, stamp)

    def _on_read(self, read: PlateRead, stamp: FrameStamp) -> WorkerMessage | None:
        self.reads += 1
        match = self.matcher.match(read.text, self.watch_list, confidences=read.char_confidences)
        if match is None:
            if not self.keep_reads:
                return None
            return PlateReadMessage(
                camera_id=self.camera_id,
                time=stamp.wall_time,
                first_seen=self._wall(read.first_seen),
                plate=read.text,
                kind=_kind(read),
                confidence=round(read.confidence, 4),
                track_id=read.track_id,
                observations=read.observations,
                box=read.box,
            )
        return self._hit(read, match, stamp)

    def _hit(self, read: PlateRead, match: WatchMatch, stamp: FrameStamp) -> PlateHit:
        self.hits += 1
        self._hit_tracks.add(read.track_id)
        best = self._best.get(read.track_id)
        if best is not None:
            snap = self.snapshot(best.frame, best.box)
        else:  # cannot happen: every track's observations went through process()
            snap = Snapshot(jpeg=b"", plate_jpeg=b"", box=read.box, width=0, height=0, privacy="none")
        return PlateHit(
            camera_id=self.camera_id,
            time=stamp.wall_time,
            first_seen=self._wall(read.first_seen),
            plate=read.text,
            kind=_kind(read),
            confidence=round(read.confidence, 4),
            entry=match.entry,
            distance=match.distance,
            track_id=read.track_id,
            observations=read.observations,
            box=snap.box,
            snapshot=snap,
        )


def _kind(read: PlateRead) -> str:
    parsed = parse_plate(read.text)
    return kind_for(parsed, read.colour).value if parsed else (read.colour or PlateKind.BLUE).value
