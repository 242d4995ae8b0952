"""The camera worker: frame delivery, reconnects, and short generated videos end to end."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.vision.camera import CameraWorker
from edge.vision.handoff import GrabbedFrame as _Grabbed
from edge.vision.messages import CameraStatus, CameraTelemetry, PlateHit, WorkerMessage
from edge.vision.pipeline import FrameStamp
from edge.vision.settings import CameraSettings
from edge.vision.watchlist import WatchList, WatchListStore
from edge.vision.worker import FrameGrabber, LatestFrameSlot
from tests.support.paths import ROOT

GEN = ROOT / "scripts" / "gen_plate_media.py"
WANTED = "粤B8Z527"
OTHER = "浙C67D90"


def _frame(i: int) -> _Grabbed:
    return _Grabbed(np.full((4, 4, 3), i, np.uint8), FrameStamp(i, i / 25, 1000 + i / 25), float(i))


def test_latest_frame_slot_keeps_only_the_newest_and_counts_drops() -> None:
    slot = LatestFrameSlot()
    for i in range(3):
        assert slot.put(_frame(i))
    got = slot.take(timeout=0)
    assert got is not None
    assert got.stamp.index == 2
    assert slot.dropped == 2
    assert slot.take(timeout=0) is None
    slot.close()
    assert not slot.put(_frame(9))
    assert slot.closed


def test_lossless_slot_hands_over_every_frame_in_order() -> None:
    slot = LatestFrameSlot(lossless=True)
    producer = threading.Thread(target=lambda: [slot.put(_frame(i)) for i in range(5)])
    producer.start()
    got: list[int] = []
    while len(got) < 5:
        item = slot.take(timeout=1.0)
        if item is not None:
            got.append(item.stamp.index)
    producer.join(5)
    assert got == [0, 1, 2, 3, 4]
    assert slot.dropped == 0


class FakeCapture:
    def __init__(self, frames: int) -> None:
        self.left = frames
        self.released = False

    def get(self, prop: int) -> float:
        return 25.0

    def read(self) -> tuple[bool, Any]:
        if self.left == 0:
            return False, None
        self.left -= 1
        return True, np.zeros((4, 4, 3), np.uint8)

    def release(self) -> None:
        self.released = True


def test_grabber_reconnects_with_backoff_and_reports_each_transition_once() -> None:
    script: list[FakeCapture | None] = [None, None, FakeCapture(3), None, FakeCapture(2)]
    opened: list[FakeCapture] = []
    states: list[str] = []
    done = threading.Event()

    def opener(source: str) -> FakeCapture | None:
        if not script:
            done.set()
            return None
        cap = script.pop(0)
        if cap is not None:
            opened.append(cap)
        return cap

    settings = CameraSettings(camera_id="c", source="rtsp://127.0.0.1:9/none", reconnect_initial_s=0.001,
                              reconnect_max_s=0.002)  # fmt: skip
    slot = LatestFrameSlot()
    grabber = FrameGrabber(settings, slot, lambda state, detail: states.append(state), opener=opener)
    grabber.start()
    assert done.wait(10)
    grabber.stop()
    grabber.join(5)
    assert not grabber.is_alive()
    assert states[:5] == ["disconnected", "connected", "disconnected", "connected", "disconnected"]
    assert grabber.frames_in == 5
    assert grabber.reconnects >= 4
    assert all(cap.released for cap in opened)
    assert slot.dropped == 4  # nobody took frames: all but the newest were replaced


# ---------------------------------------------------------------- end to end with generated video
@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vision-media")
    for name, plates in (("wanted", [OTHER, WANTED]), ("clean", [OTHER])):
        subprocess.run(
            [sys.executable, str(GEN), "video", str(out / f"{name}.mp4"), "--seconds", "6", "--size", "small",
             "--seed", "21", *[arg for p in plates for arg in ("--plate", p)]],
            check=True, capture_output=True,
        )  # fmt: skip
    store = WatchListStore(out / "watch.json")
    entries = [
        {"plate": WANTED, "reason": "stolen", "priority": 1},
        {"plate": "京A0123警", "reason": "x", "priority": 3},
    ]
    store.save(WatchList.build(version=5, entries=entries))
    return out


def _run(settings: CameraSettings, *, on_connect: Any = None) -> Iterator[WorkerMessage]:
    worker = CameraWorker(settings)
    worker.start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            message = worker.get(timeout=0.5)
            if message is None:
                if not worker.is_alive():
                    break
                continue
            yield message
            if isinstance(message, CameraStatus) and message.state == "connected" and on_connect:
                on_connect()
            if isinstance(message, CameraStatus) and message.state in {"ended", "failed"}:
                break
    finally:
        assert worker.stop() == 0
        while (left := worker.get(0)) is not None:
            yield left
        worker.close()


def test_a_watch_listed_plate_gives_exactly_one_hit(media: Path) -> None:
    settings = CameraSettings(camera_id="cam1", source=str(media / "wanted.mp4"), watch_list=media / "watch.json",
                              pace=False)  # fmt: skip
    messages = list(_run(settings))
    hits = [m for m in messages if isinstance(m, PlateHit)]
    assert len(hits) == 1, [m.to_dict() for m in messages]
    hit = hits[0]
    assert (hit.plate, hit.entry.plate, hit.entry.reason, hit.entry.list_version) == (WANTED, WANTED, "stolen", 5)
    assert hit.distance == 0.0
    assert hit.kind == "blue"
    assert hit.camera_id == "cam1"
    assert hit.first_seen <= hit.time
    assert hit.snapshot.jpeg[:2] == b"\xff\xd8"
    assert hit.snapshot.plate_jpeg[:2] == b"\xff\xd8"
    assert hit.snapshot.privacy == "outside-vehicle-pixelated+faces-blurred"  # the face detector loaded
    assert 0 <= hit.box.x < hit.snapshot.width
    assert 0 <= hit.box.y < hit.snapshot.height
    json.dumps(hit.to_dict())  # the event summary is JSON-ready
    telemetry = [m for m in messages if isinstance(m, CameraTelemetry)][-1]
    assert telemetry.frames_in == 150
    assert telemetry.frames_analysed == 30  # 6 s at 5 analyses per second
    assert telemetry.reads == 2  # the other vehicle was read too, but only counted
    assert telemetry.hits == 1
    assert telemetry.watch_list_version == 5
    states = [m.state for m in messages if isinstance(m, CameraStatus)]
    assert states == ["starting", "connected", "ended"]


def test_a_video_without_a_listed_plate_gives_no_hit(media: Path) -> None:
    settings = CameraSettings(camera_id="cam2", source=str(media / "clean.mp4"), watch_list=media / "watch.json",
                              pace=False)  # fmt: skip
    messages = list(_run(settings))
    assert not [m for m in messages if isinstance(m, PlateHit)]
    telemetry = [m for m in messages if isinstance(m, CameraTelemetry)][-1]
    assert telemetry.reads == 1
    assert telemetry.hits == 0


def test_a_new_watch_list_is_installed_while_the_camera_runs(media: Path, tmp_path: Path) -> None:
    store = WatchListStore(tmp_path / "watch.json")
    store.save(WatchList(1))

    def install() -> None:
        store.save(WatchList.build(version=2, entries=[{"plate": WANTED, "reason": "new", "priority": 1}]))

    # played in real time: the wanted car only enters after about 3 s, the list is swapped at once
    settings = CameraSettings(camera_id="cam3", source=str(media / "wanted.mp4"), watch_list=store.path)
    messages = list(_run(settings, on_connect=install))
    installed = [m for m in messages if isinstance(m, CameraStatus) and m.state == "watch_list_installed"]
    assert installed
    assert "version 2" in installed[0].detail
    hits = [m for m in messages if isinstance(m, PlateHit)]
    assert [(h.plate, h.entry.list_version, h.entry.reason) for h in hits] == [(WANTED, 2, "new")]


def test_a_missing_source_is_reported_and_retried(tmp_path: Path) -> None:
    settings = CameraSettings(camera_id="gone", source=str(tmp_path / "nothing.mp4"), reconnect_initial_s=0.05,
                              reconnect_max_s=0.1, telemetry_interval_s=0.2)  # fmt: skip
    worker = CameraWorker(settings)
    worker.start()
    seen: list[WorkerMessage] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            message = worker.get(timeout=0.5)
            if message is not None:
                seen.append(message)
            retried = [m for m in seen if isinstance(m, CameraTelemetry) and m.reconnects >= 2]
            if retried:
                break
    finally:
        assert worker.stop() == 0
        worker.close()
    assert retried
    assert not retried[-1].connected
    states = [m.state for m in seen if isinstance(m, CameraStatus)]
    assert states.count("disconnected") == 1  # reported once, not at every retry


def test_the_daemon_side_never_loads_opencv_or_onnxruntime() -> None:
    code = (
        "import sys, edge.vision.camera, edge.vision.cli, edge.vision.pipeline, edge.vision.messages, "
        "edge.vision.watchlist, edge.wire.plates, edge.vision.tracker, edge.vision.component, edge.daemon.core, "
        "edge.daemon.composition, edge.alarms.component, edge.kiosk.component; "
        "print(sorted(m for m in ('cv2', 'onnxruntime', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


async def test_messages_can_be_consumed_from_the_event_loop(media: Path) -> None:
    settings = CameraSettings(camera_id="async", source=str(media / "clean.mp4"), pace=False)
    worker = CameraWorker(settings)
    worker.start()
    seen: list[WorkerMessage] = []
    try:
        async for message in worker.messages():
            seen.append(message)
    finally:
        assert worker.stop() == 0
        worker.close()
    states = [m.state for m in seen if isinstance(m, CameraStatus)]
    assert states == ["starting", "connected", "ended"]
    assert isinstance(seen[-2], CameraTelemetry)
