from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from edge.vision.messages import PlateHit, PlateReadMessage, Snapshot
from edge.vision.pipeline import Analysis, FrameSampler, FrameStamp, PlatePipeline
from edge.vision.tracker import Box, PlateObservation, PlateRead, PlateTracker
from edge.vision.watchlist import WatchList
from edge.wire.plates import PlateKind


def obs(text: str, t: float, x: float, *, conf: float = 0.9, y: float = 500.0, w: float = 150.0) -> PlateObservation:
    return PlateObservation(Box(x, y, w, 45.0), text, (conf,) * len(text), conf, PlateKind.BLUE, t)


def test_box_iou() -> None:
    a = Box(0, 0, 10, 10)
    assert a.iou(a) == 1.0
    assert a.iou(Box(5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert a.iou(Box(20, 20, 5, 5)) == 0.0
    assert a.scaled(0.5) == Box(0, 0, 5, 5)


def test_one_vehicle_with_noisy_reads_gives_one_voted_read() -> None:
    tracker = PlateTracker(instant_confidence=1.1)  # never read from a single frame here
    reads_text = ["粤B12345", "粤B1Z345", "粤B12345", "粤B12S45", "粤B12345", "粤B12345"]
    reads: list[PlateRead] = []
    for i, text in enumerate(reads_text):
        t = i * 0.2
        reads += tracker.update([obs(text, t, 100 + 120 * i)], t).reads  # moves 600 px/s
    reads += tracker.update([], 5.0).reads
    reads += tracker.flush(6.0).reads
    assert len(reads) == 1
    read = reads[0]
    assert read.text == "粤B12345"
    assert read.agreeing >= 2
    assert read.first_seen == 0.0
    assert read.colour is PlateKind.BLUE
    assert not read.final


def test_per_character_voting_beats_every_single_frame() -> None:
    # no two frames agree exactly, but each position has a clear majority
    tracker = PlateTracker(min_votes=99, instant_confidence=1.1, min_confidence=0.3)
    for i, text in enumerate(["粤B1Z345", "粤B12S45", "粤B123A5", "粤B12345"[:6] + "6"]):
        tracker.update([obs(text, i * 0.2, 100 + 50 * i)], i * 0.2)
    (read,) = tracker.flush(2.0).reads
    assert read.text == "粤B12345"
    assert read.final


def test_two_vehicles_side_by_side_are_not_swapped() -> None:
    tracker = PlateTracker(instant_confidence=1.1)
    reads: list[PlateRead] = []
    for i in range(5):
        t = i * 0.2
        a = obs("粤B12345", t, 100 + 60 * i)
        b = obs("浙C67890", t, 400 + 60 * i)  # two plate widths to the right, same speed
        update = tracker.update([b, a] if i % 2 else [a, b], t)
        reads += update.reads
    reads += tracker.flush(2.0).reads
    assert sorted(r.text for r in reads) == ["浙C67890", "粤B12345"]
    assert len({r.track_id for r in reads}) == 2


def test_a_vehicle_that_leaves_and_returns_later_is_read_again() -> None:
    tracker = PlateTracker(instant_confidence=1.1)
    first = [r for i in range(3) for r in tracker.update([obs("粤B12345", i * 0.2, 100)], i * 0.2).reads]
    assert len(first) == 1
    assert tracker.update([], 3.0).ended  # gap > max_gap_s ends the track
    assert tracker.active == 0
    again = [r for i in range(3) for r in tracker.update([obs("粤B12345", 10 + i * 0.2, 100)], 10 + i * 0.2).reads]
    assert len(again) == 1
    assert again[0].track_id != first[0].track_id


def test_single_sightings_read_instantly_only_when_very_confident() -> None:
    tracker = PlateTracker(instant_confidence=0.97, min_confidence=0.75)
    assert tracker.update([obs("粤B12345", 0.0, 100, conf=0.99)], 0.0).reads[0].text == "粤B12345"
    assert tracker.update([obs("浙C67890", 0.0, 900, conf=0.9)], 0.0).reads == ()
    # the mediocre single sighting is read when its track ends; a poor one never
    ended = tracker.update([obs("苏E12345", 1.5, 1500, conf=0.5)], 1.5)
    assert [r.text for r in ended.reads] == ["浙C67890"]
    assert ended.reads[0].final
    assert tracker.flush(5.0).reads == ()


def test_the_read_is_not_repeated_while_the_track_lives() -> None:
    tracker = PlateTracker()
    count = sum(len(tracker.update([obs("粤B12345", i * 0.2, 100 + 10 * i)], i * 0.2).reads) for i in range(20))
    count += len(tracker.flush(5.0).reads)
    assert count == 1


def test_sampler_picks_frames_by_time() -> None:
    sampler = FrameSampler(5.0)
    picked = [i for i in range(50) if sampler.due(i / 25)]
    assert picked == list(range(0, 50, 5))
    slow = FrameSampler(5.0)
    assert [slow.due(t) for t in (0.0, 0.1, 1.0, 1.1, 1.2)] == [True, False, True, False, True]
    with pytest.raises(ValueError, match="rate"):
        FrameSampler(0)


# ---------------------------------------------------------------- pipeline with fakes
@dataclass
class FakeAnalyser:
    script: dict[int, list[PlateObservation]]
    calls: int = 0

    def analyse(self, frame: Any, time: float) -> Analysis:
        found = [
            PlateObservation(o.box, o.text, o.char_confidences, o.confidence, o.colour, time)
            for o in self.script.get(frame, [])
        ]
        self.calls += 1
        return Analysis(tuple(found), len(found))


@dataclass
class FakeSnapshot:
    frames: list[Any] = field(default_factory=list)

    def __call__(self, frame: Any, box: Box) -> Snapshot:
        self.frames.append(frame)
        return Snapshot(jpeg=b"jpeg", plate_jpeg=b"plate", box=box, width=1280, height=720, privacy="test")


def _drive(pipeline: PlatePipeline, frames: range) -> list[Any]:
    out: list[Any] = []
    for f in frames:
        out += pipeline.process(f, FrameStamp(f, f * 0.2, 1000.0 + f * 0.2))
    out += pipeline.finish(FrameStamp(99, 99.0, 1099.0))
    return out


def test_pipeline_one_hit_per_vehicle_with_the_best_frame_as_snapshot() -> None:
    script = {f: [obs("粤B12345", 0, 100 + 40 * f, conf={1: 0.95, 2: 0.99}.get(f, 0.9))] for f in range(6)}
    snap = FakeSnapshot()
    wl = WatchList.build(version=4, entries=[{"plate": "粤B12345", "reason": "stolen", "priority": 1}])
    pipeline = PlatePipeline(camera_id="cam", analyser=FakeAnalyser(script), snapshot=snap, watch_list=wl)
    out = _drive(pipeline, range(6))
    hits = [m for m in out if isinstance(m, PlateHit)]
    assert len(out) == len(hits) == 1
    hit = hits[0]
    assert (hit.plate, hit.entry.reason, hit.entry.list_version, hit.distance) == ("粤B12345", "stolen", 4, 0.0)
    assert hit.camera_id == "cam"
    assert hit.first_seen == pytest.approx(1000.0)
    assert hit.time == pytest.approx(1000.2)  # read on the second agreeing frame
    assert snap.frames == [1]  # best observation so far when the read completed
    assert hit.snapshot.jpeg == b"jpeg"
    assert pipeline.reads == pipeline.hits == 1


def test_pipeline_keeps_non_hits_as_counters_unless_asked() -> None:
    script = {f: [obs("浙C67890", 0, 100 + 40 * f)] for f in range(4)}
    quiet = PlatePipeline(camera_id="c", analyser=FakeAnalyser(script), snapshot=FakeSnapshot())
    assert _drive(quiet, range(4)) == []
    assert (quiet.reads, quiet.hits) == (1, 0)
    chatty = PlatePipeline(camera_id="c", analyser=FakeAnalyser(script), snapshot=FakeSnapshot(), keep_reads=True)
    (read,) = _drive(chatty, range(4))
    assert isinstance(read, PlateReadMessage)
    assert read.plate == "浙C67890"
    assert read.kind == "blue"


def test_pipeline_uses_a_swapped_watch_list_for_the_next_read() -> None:
    script = {f: [obs("粤B12345" if f < 10 else "浙C67890", 0, 100 + 40 * (f % 10))] for f in range(20)}
    pipeline = PlatePipeline(camera_id="c", analyser=FakeAnalyser(script), snapshot=FakeSnapshot())
    first = [m for f in range(10) for m in pipeline.process(f, FrameStamp(f, f * 0.2, f * 0.2))]
    assert first == []
    pipeline.watch_list = WatchList.build(version=9, entries=[{"plate": "浙C67890", "reason": "x"}])
    later = [m for f in range(10, 20) for m in pipeline.process(f, FrameStamp(f, f * 0.2 + 5, f * 0.2 + 5))]
    assert [type(m).__name__ for m in later] == ["PlateHit"]
    assert later[0].entry.list_version == 9  # type: ignore[union-attr]


def test_a_plate_missed_for_a_few_frames_stays_on_its_track() -> None:
    tracker = PlateTracker(instant_confidence=1.1)
    first = tracker.update([obs("粤B12345", 0.0, 100)], 0.0)
    # missed at 0.2, 0.4, 0.6: seen again 600 px (4 plate widths) further, beyond the usual gate
    later = tracker.update([obs("粤B12345", 0.8, 700)], 0.8)
    assert later.track_ids == first.track_ids
    assert [r.text for r in later.reads] == ["粤B12345"]
    # a different plate that far away is another vehicle
    other = tracker.update([obs("粤B12346", 1.0, 1400)], 1.0)
    assert other.track_ids != first.track_ids


def test_read_tracks_keep_voting_in_revisions() -> None:
    tracker = PlateTracker(instant_confidence=0.95)
    first = tracker.update([obs("皖P310QD", 0.0, 100, conf=0.99)], 0.0)
    (read,) = first.reads
    assert read.text == "皖P310QD"
    assert read.char_confidences == pytest.approx((0.99,) * 7)
    assert first.revised == ()
    second = tracker.update([obs("琼P310QD", 0.2, 220, conf=0.99)], 0.2)
    assert second.reads == ()  # one read per vehicle
    (revised,) = second.revised
    assert revised.track_id == read.track_id
    assert revised.char_confidences[0] < 0.5  # the frames disagree on the province
    assert revised.char_confidences[1:] == pytest.approx((0.99,) * 6)


def test_pipeline_raises_a_late_hit_when_more_frames_make_the_province_uncertain() -> None:
    # the first frame reads the wrong province with confidence; later frames disagree
    script = {
        0: [obs("皖P310QD", 0, 100, conf=0.99)],
        1: [obs("琼P310QD", 0, 220, conf=0.99)],
        2: [obs("琼P310QD", 0, 340, conf=0.99)],
        3: [obs("琼P310QD", 0, 460, conf=0.99)],
    }
    wl = WatchList.build(version=1, entries=[{"plate": "琼P310QD", "reason": "stolen"}])
    pipeline = PlatePipeline(camera_id="c", analyser=FakeAnalyser(script), snapshot=FakeSnapshot(), watch_list=wl)
    out = _drive(pipeline, range(4))
    assert [(type(m).__name__, m.plate) for m in out] == [("PlateHit", "皖P310QD")]
    hit = out[0]
    assert isinstance(hit, PlateHit)
    assert hit.distance == 0.5  # near match: the crew sees it is not exact
    assert hit.time == pytest.approx(1000.2)  # on the second frame, not the first
    assert (pipeline.reads, pipeline.hits) == (1, 1)
