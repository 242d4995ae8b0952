"""One camera = one worker process: capture, always-latest-frame delivery, plate analysis, messages.

Started by `edge.vision.camera.CameraWorker` (spawned); `run_camera` is its body. Threads:

* the grabber reads the source continuously and keeps only the newest frame in a
  `LatestFrameSlot` (frames replaced before the analyser took them are counted as dropped);
  it reconnects with jittered exponential backoff and reports `disconnected` / `connected` once
  per transition. A file is played at its own frame rate (`pace=True`, like a live camera) or,
  with `pace=False`, losslessly: only the frames the sampler picks by timestamp are decoded
  fully, and the grabber waits for the analyser (deterministic, for tests and tools);
* the analyser (main thread) takes the newest frame no more often than `analyses_per_second`,
  runs the `PlatePipeline`, and sends messages; it polls the watch-list file about once a second
  and swaps in a new version without a restart.

This module, `analyser` and `imaging` are the only ones of `edge` that import OpenCV / onnxruntime.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy.typing as npt
import onnxruntime

from edge.vision.analyser import OcrAnalyser
from edge.vision.handoff import GrabbedFrame, LatestFrameSlot, Outbox
from edge.vision.imaging import SnapshotMaker
from edge.vision.messages import CameraStatus, CameraTelemetry
from edge.vision.pipeline import FrameSampler, FrameStamp, PlatePipeline
from edge.vision.settings import CameraSettings
from edge.vision.watchlist import PlateMatcher, WatchListError, WatchListStore
from models.face_det import FaceDetector
from models.loader import ModelError
from models.manifest import load_manifest

__all__ = ["FrameGrabber", "LatestFrameSlot", "open_source", "run_camera"]

log = logging.getLogger(__name__)
Image = npt.NDArray[Any]  # OpenCV's MatLike: uint8 BGR in practice


def open_source(source: str, *, open_timeout_s: float = 10.0) -> Any:
    """An opened `cv2.VideoCapture` for a file, URL or device index, or None."""
    if source.isdigit():
        cap = cv2.VideoCapture(int(source))
    else:
        ms = int(open_timeout_s * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
        cap = cv2.VideoCapture(source, cv2.CAP_FFMPEG, params)
    if not cap.isOpened():
        cap.release()
        return None
    return cap


class FrameGrabber(threading.Thread):
    def __init__(
        self, settings: CameraSettings, slot: LatestFrameSlot, status: Callable[[str, str], None],
        *, opener: Callable[[str], Any] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(name=f"grab-{settings.camera_id}", daemon=True)
        self.settings = settings
        self.slot = slot
        self.status = status
        self.opener = opener or (lambda s: open_source(s, open_timeout_s=settings.open_timeout_s))
        self.is_file = Path(settings.source).is_file()
        self.frames_in = 0
        self.reconnects = 0
        self.connected = False
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.slot.close()

    def _sleep_backoff(self, attempt: int) -> None:
        delay = min(self.settings.reconnect_max_s, self.settings.reconnect_initial_s * 2 ** min(attempt, 16))
        self._halt.wait(delay * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not crypto

    def run(self) -> None:
        attempt = 0
        down_reported = False  # "disconnected" is reported once per outage, not at every retry
        while not self._halt.is_set():
            cap = self.opener(self.settings.source)
            if cap is None:
                self.connected = False
                if not down_reported:
                    down_reported = True
                    self.status("disconnected", f"cannot open {self.settings.source}")
                self._sleep_backoff(attempt)
                attempt += 1
                self.reconnects += 1
                continue
            attempt = 0
            down_reported = False
            if not self.connected:
                self.connected = True
                self.status("connected", self.settings.source)
            try:
                self._read(cap)
            finally:
                cap.release()
            if self._halt.is_set():
                break
            if self.is_file and not self.settings.loop:
                self.slot.close()
                return
            if not self.is_file:
                self.connected = False
                down_reported = True
                self.status("disconnected", "stream ended or stalled")
                self.reconnects += 1
                self._sleep_backoff(0)

    def _read(self, cap: Any) -> None:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0) or 25.0
        lossless = self.is_file and not self.settings.pace
        sampler = FrameSampler(self.settings.analyses_per_second)
        start_mono, start_wall = time.monotonic(), time.time()
        index = 0
        while not self._halt.is_set():
            pts = index / fps
            if lossless:
                if not cap.grab():
                    return
                self.frames_in += 1
                index += 1
                if not sampler.due(pts):
                    continue
                ok, image = cap.retrieve()
                stamp = FrameStamp(index - 1, pts, start_wall + pts)
            else:
                ok, image = cap.read()
                if self.is_file and self.settings.pace:
                    self._halt.wait(max(0.0, start_mono + pts - time.monotonic()))
                stamp = FrameStamp(index, time.monotonic(), time.time())
                index += 1
                self.frames_in += int(ok)
            if not ok:
                return
            if not self.slot.put(GrabbedFrame(image, stamp, time.monotonic())):
                return


def _face_finder() -> Callable[[Any], list[tuple[float, float, float, float]]] | None:
    """The face detector for snapshots, or None (snapshots are still pixelated outside the vehicle)."""
    try:
        detector = FaceDetector(load_manifest()["face_centres"])
    except ModelError as exc:
        log.warning("no face detector for snapshots (outside the vehicle is still pixelated): %s", exc)
        return None
    return lambda image: [(f.x, f.y, f.w, f.h) for f in detector.detect(image)]


def run_camera(settings: CameraSettings, outbox_queue: Any, stop: Any) -> int:
    """The worker process body. Returns the exit code (0 when stopped or at the end of a file)."""
    cv2.setNumThreads(1)  # one core per camera: OpenCV's own thread pool would fight onnxruntime's
    onnxruntime.set_default_logger_severity(3)  # errors only in this process
    outbox = Outbox(outbox_queue)
    cam = settings.camera_id

    def status(state: str, detail: str = "") -> None:
        outbox.send(CameraStatus(camera_id=cam, time=time.time(), state=state, detail=detail))

    status("starting", settings.source)
    store = WatchListStore(settings.watch_list) if settings.watch_list is not None else None
    try:
        analyser = OcrAnalyser.load(
            intra_op_threads=settings.intra_op_threads,
            min_plate_width=settings.min_plate_width,
            max_candidates=settings.max_candidates,
            detector_max_side=None,  # sized for min_plate_width
        )
        watch_list = store.load() if store is not None else None
    except (ModelError, WatchListError) as exc:
        status("failed", str(exc))
        return 2
    pipeline = PlatePipeline(
        camera_id=cam,
        analyser=analyser,
        snapshot=SnapshotMaker(max_width=settings.snapshot_max_width, faces=_face_finder()).make,
        matcher=PlateMatcher(max_distance=settings.match_max_distance),
        watch_list=watch_list,
        keep_reads=settings.keep_reads,
    )
    slot = LatestFrameSlot(lossless=Path(settings.source).is_file() and not settings.pace)
    grabber = FrameGrabber(settings, slot, status)
    grabber.start()
    sampler = FrameSampler(settings.analyses_per_second)
    parent = os.getppid()
    lag = lag_max = busy = 0.0
    last_stamp = FrameStamp(0, time.monotonic(), time.time())
    next_poll = next_telemetry = time.monotonic()

    def telemetry() -> None:
        n = pipeline.frames_analysed
        outbox.send(CameraTelemetry(
            camera_id=cam, time=time.time(), connected=grabber.connected, frames_in=grabber.frames_in,
            frames_analysed=n, frames_dropped=slot.dropped, lag_ms=round(lag * 1000, 1),
            lag_ms_max=round(lag_max * 1000, 1), analyse_ms_mean=round(busy / n * 1000, 1) if n else 0.0,
            reconnects=grabber.reconnects, candidates=pipeline.candidates, reads=pipeline.reads,
            hits=pipeline.hits, watch_list_version=pipeline.watch_list.version,
            watch_list_entries=len(pipeline.watch_list.entries),
        ))  # fmt: skip

    ended = False
    try:
        while not stop.is_set() and os.getppid() == parent:
            now = time.monotonic()
            if store is not None and now >= next_poll:
                next_poll = now + 1.0
                try:
                    new = store.poll()
                except WatchListError as exc:
                    status("watch_list_rejected", str(exc))
                else:
                    if new is not None:
                        pipeline.watch_list = new
                        status("watch_list_installed", f"version {new.version}, {len(new.entries)} entries")
            if now >= next_telemetry:
                next_telemetry = now + settings.telemetry_interval_s
                telemetry()
            item = slot.take(timeout=0.2)
            if item is None:
                if slot.closed:
                    ended = True
                    break
                continue
            if not slot.lossless and not sampler.due(item.stamp.stream_time):
                continue
            started = time.monotonic()
            for message in pipeline.process(item.image, item.stamp):
                outbox.send(message)
            done = time.monotonic()
            busy += done - started
            lag = done - item.grabbed_at
            lag_max = max(lag_max, lag)
            last_stamp = item.stamp
    except Exception as exc:  # crash loudly, but tell the parent why first
        status("failed", f"{type(exc).__name__}: {exc}")
        raise
    finally:
        grabber.stop()
        grabber.join(5)
    for message in pipeline.finish(last_stamp):
        outbox.send(message)
    telemetry()
    status("ended" if ended else "stopped")
    return 0
