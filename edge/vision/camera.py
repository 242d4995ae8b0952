"""Daemon side of a camera: its settings and a handle on its worker process. No OpenCV here.

    worker = CameraWorker(CameraSettings(camera_id="cam1", source="rtsp://...", watch_list=path))
    worker.start()
    async for message in worker.messages():   # PlateHit, CameraTelemetry, CameraStatus, ...
        ...
    worker.stop()

One camera = one process (spawned, never forked: the daemon has threads and an event loop). The
child imports `edge.vision.worker` (OpenCV, onnxruntime) itself; this module never does. Messages
come back over a bounded multiprocessing queue; if the parent stops reading, the worker drops
telemetry first and counts it, and never blocks its analyser on the parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import multiprocessing.synchronize
import queue
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from multiprocessing.context import SpawnProcess
from typing import Any

from edge.vision.messages import WorkerMessage
from edge.vision.settings import CameraSettings

__all__ = ["CameraWorker"]


def _child_main(settings: CameraSettings, outbox: Any, stop: Any) -> None:
    import sys

    from edge.vision.worker import run_camera

    sys.exit(run_camera(settings, outbox, stop))


class CameraWorker:
    """A handle on one camera's worker process."""

    def __init__(self, settings: CameraSettings, *, queue_size: int = 256) -> None:
        self.settings = settings
        self._ctx = multiprocessing.get_context("spawn")
        self._queue: multiprocessing.Queue[WorkerMessage] = self._ctx.Queue(queue_size)
        self._stop: multiprocessing.synchronize.Event = self._ctx.Event()
        self._process: SpawnProcess | None = None
        self._pending: deque[WorkerMessage] = deque()

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError(f"camera {self.settings.camera_id!r} already started")
        self._process = self._ctx.Process(
            target=_child_main,
            args=(self.settings, self._queue, self._stop),
            name=f"camera-{self.settings.camera_id}",
            daemon=True,
        )
        self._process.start()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def is_alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def exitcode(self) -> int | None:
        return None if self._process is None else self._process.exitcode

    def get(self, timeout: float | None = None) -> WorkerMessage | None:
        """The next message, or None after `timeout` seconds (blocking: call from a thread)."""
        if self._pending:
            return self._pending.popleft()
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    async def messages(self, *, poll_s: float = 0.25) -> AsyncIterator[WorkerMessage]:
        """Messages until the worker has exited and its queue is drained.

        A daemon thread of this iterator's own waits on the queue (nothing blocks the event loop)
        and ends with the iteration, even when the consumer stops early.
        """
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[WorkerMessage | None] = asyncio.Queue()
        done = threading.Event()

        def deliver(message: WorkerMessage | None) -> bool:
            try:
                loop.call_soon_threadsafe(inbox.put_nowait, message)
            except RuntimeError:  # the loop closed under us: the consumer is gone
                return False
            return True

        def pump() -> None:
            while not done.is_set():
                message = self.get(poll_s)
                if message is None and not self.is_alive():
                    message = self.get(0.05)
                    if message is None:
                        break
                if message is not None and not deliver(message):
                    return
            deliver(None)

        thread = threading.Thread(target=pump, name=f"camera-{self.settings.camera_id}-inbox", daemon=True)
        thread.start()
        try:
            while (message := await inbox.get()) is not None:
                yield message
        finally:
            done.set()

    def stop(self, timeout: float = 10.0) -> int | None:
        """Ask the worker to finish (it flushes due reads and sends final telemetry), then join.

        Messages still queued stay readable with `get()`. Returns the exit code.
        """
        self._stop.set()
        process = self._process
        if process is None:
            return None
        # Drain while waiting: a child cannot exit while its queue still holds unsent data.
        deadline = time.monotonic() + timeout
        while process.is_alive() and time.monotonic() < deadline:
            self._drain(0.1)
        if process.is_alive():
            process.terminate()
            process.join(5)
        if process.is_alive():  # pragma: no cover - a worker stuck in native code
            process.kill()
        process.join(5)
        self._drain(0.0)
        return process.exitcode

    def _drain(self, wait: float) -> None:
        try:
            self._pending.append(self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait())
            while True:
                self._pending.append(self._queue.get_nowait())
        except queue.Empty:
            pass

    def close(self) -> None:
        """Release the queue (after `stop`)."""
        with contextlib.suppress(Exception):
            self._queue.close()
            self._queue.join_thread()
