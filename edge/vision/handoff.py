"""Hand-offs inside a camera worker: the grabber's newest frame to the analyser, messages to the parent.

No OpenCV here: a frame is an opaque array. `LatestFrameSlot` keeps only the newest frame (or,
lossless, makes the grabber wait); `Outbox` never blocks the analyser for long.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

from edge.vision.messages import CameraStatus, PlateHit, WorkerMessage
from edge.vision.pipeline import FrameStamp

__all__ = ["GrabbedFrame", "LatestFrameSlot", "Outbox"]

log = logging.getLogger("edge.vision.worker")


@dataclass(frozen=True, slots=True)
class GrabbedFrame:
    """One frame from the grabber thread, with its stamp and when it was grabbed."""

    image: Any  # uint8 BGR
    stamp: FrameStamp
    grabbed_at: float  # monotonic


class LatestFrameSlot:
    """Holds only the newest frame. `lossless=True` makes `put` wait for the taker instead."""

    def __init__(self, *, lossless: bool = False) -> None:
        self.lossless = lossless
        self.dropped = 0
        self._item: GrabbedFrame | None = None
        self._closed = False
        self._cond = threading.Condition()

    @property
    def closed(self) -> bool:
        return self._closed

    def put(self, item: GrabbedFrame) -> bool:
        """False when the slot was closed (stop): the grabber should end."""
        with self._cond:
            while self.lossless and self._item is not None and not self._closed:
                self._cond.wait(0.2)
            if self._closed:
                return False
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._cond.notify_all()
            return True

    def take(self, timeout: float) -> GrabbedFrame | None:
        with self._cond:
            if self._item is None and not self._closed:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            self._cond.notify_all()
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class Outbox:
    """Never blocks the analyser for long: telemetry is dropped (and counted) when the queue is full."""

    def __init__(self, q: Any) -> None:
        self.q = q
        self.dropped = 0

    def send(self, message: WorkerMessage) -> None:
        try:
            self.q.put_nowait(message)
        except queue.Full:
            if isinstance(message, PlateHit | CameraStatus):
                try:
                    self.q.put(message, timeout=2.0)
                    return
                except queue.Full:
                    pass
            self.dropped += 1
            log.warning("camera outbox full: dropped a %s", type(message).__name__)
