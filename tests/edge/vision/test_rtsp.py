"""The camera worker on a real RTSP server (127.0.0.1): H.264 and H.265, and reconnecting after a restart."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from edge.vision.camera import CameraWorker
from edge.vision.messages import CameraStatus, PlateReadMessage, WorkerMessage
from edge.vision.settings import CameraSettings
from tests.support.paths import ROOT
from tests.support.rtsp import RtspServer, encode_clip

GEN = ROOT / "scripts" / "gen_plate_media.py"
PLATE = "苏E5M382"


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("rtsp-media")
    source = out / "source.mp4"
    subprocess.run(
        [sys.executable, str(GEN), "video", str(source), "--seconds", "10", "--size", "small", "--seed", "21",
         "--plate", PLATE],
        check=True, capture_output=True,
    )  # fmt: skip
    return {codec: encode_clip(source, out / f"{codec}.mp4", codec=codec) for codec in ("h264", "h265")}


class Watcher:
    """Messages from a camera worker, waited for one condition at a time."""

    def __init__(self, worker: CameraWorker) -> None:
        self.worker = worker
        self.seen: list[WorkerMessage] = []

    def until(self, what: str, found: Callable[[WorkerMessage], bool], timeout: float = 90.0) -> WorkerMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.worker.get(timeout=0.5)
            if message is None:
                assert self.worker.is_alive(), f"worker died waiting for {what}: {self._log()}"
                continue
            self.seen.append(message)
            if found(message):
                return message
        raise AssertionError(f"no {what} within {timeout} s: {self._log()}")

    def _log(self) -> list[str]:
        return [f"{type(m).__name__} {getattr(m, 'state', getattr(m, 'plate', ''))}" for m in self.seen[-20:]]


def _state(state: str) -> Callable[[WorkerMessage], bool]:
    return lambda m: isinstance(m, CameraStatus) and m.state == state


def _read(m: WorkerMessage) -> bool:
    return isinstance(m, PlateReadMessage) and m.plate == PLATE


@contextmanager
def _camera(url: str) -> Iterator[Watcher]:
    """A camera worker on `url`, watched; stopped cleanly at the end."""
    worker = CameraWorker(CameraSettings(
        camera_id="rtsp", source=url, keep_reads=True, reconnect_initial_s=0.2, reconnect_max_s=1.0,
        open_timeout_s=5.0, telemetry_interval_s=60.0,
    ))  # fmt: skip
    worker.start()
    try:
        yield Watcher(worker)
    finally:
        assert worker.stop() == 0
        worker.close()


def test_an_rtsp_camera_is_read_and_reconnects_when_the_server_restarts(clips: dict[str, Path]) -> None:
    server = RtspServer(clips["h264"], codec="h264")
    server.start()
    try:
        with _camera(server.url) as watch:
            watch.until("connected", _state("connected"))
            watch.until(f"a read of {PLATE}", _read)
            server.stop()  # the camera loses power
            watch.until("disconnected", _state("disconnected"))
            server.start()  # and comes back on the same address
            watch.until("connected again", _state("connected"))
            watch.until(f"a read of {PLATE} after the restart", _read)
    finally:
        server.stop()
    states = [m.state for m in watch.seen if isinstance(m, CameraStatus)]
    assert states[:2] == ["starting", "connected"]
    down = states.index("disconnected")
    assert "connected" in states[down:]


def test_an_h265_rtsp_camera_is_read(clips: dict[str, Path]) -> None:
    with RtspServer(clips["h265"], codec="h265") as server, _camera(server.url) as watch:
        watch.until("connected", _state("connected"))
        watch.until(f"a read of {PLATE}", _read)
