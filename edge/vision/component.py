"""The daemon's vision component: one worker process per camera, supervised, and the watch list.

The daemon itself never loads OpenCV or onnxruntime: each camera's worker is a spawned process
(`edge/vision/camera.py`, `edge/vision/worker.py`). A worker that crashes is restarted with backoff
within a budget (`restart_budget` per 10 minutes); past it the camera is left down with a visible fault,
and tried again after a cool-down. A hit becomes a `vision.plate_hit` warning event through the outbox
(with the privacy-filtered snapshot) and a `vision.hits` notification to the crew's clients, at once.

Central pushes the watch list as a signed command `vision.watchlist` (`{"version", "entries": [{"plate",
"reason", "priority"}]}`), to one station or to `all`, retained. The daemon verifies central's Ed25519
signature (edge/daemon/commands.py); this component refuses an older version, writes the list
atomically, and every worker switches to it within about a second.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.api.server import Connection
from edge.config.vision import CameraSection, VisionSection
from edge.vision import events as vision_events
from edge.vision.camera import CameraWorker
from edge.vision.messages import CameraStatus, CameraTelemetry, PlateHit, PlateReadMessage
from edge.vision.settings import CameraSettings
from edge.vision.watchlist import WatchList, WatchListError, WatchListStore
from edge.wire import messages as wire
from edge.wire.api.base import Empty
from edge.wire.api.vision import VISION_CAMERAS, VISION_WATCHLIST, CameraInfo, Cameras, WatchListInfo
from edge.wire.messages import Priority

if TYPE_CHECKING:
    from edge.component.context import ComponentContext

__all__ = ["VisionComponent"]

log = logging.getLogger(__name__)

assert vision_events  # registers the payload schemas
_BUDGET_WINDOW_S = 600.0
_COOL_DOWN_S = 60.0


@dataclass(slots=True)
class _CameraState:
    section: CameraSection
    state: str = "starting"
    detail: str = ""
    restarts: deque[float] = field(default_factory=deque)
    telemetry: dict[str, Any] = field(default_factory=dict)
    worker: CameraWorker | None = None
    hits: int = 0


class VisionComponent:
    name = "vision"
    critical = False

    def __init__(self, config: VisionSection) -> None:
        self.config = config
        self.cameras = {c.id: _CameraState(c) for c in config.cameras}
        self._tasks: list[asyncio.Task[None]] = []
        self._ctx: ComponentContext | None = None
        self._store: WatchListStore | None = None
        self._stop = asyncio.Event()

    # ---- lifecycle -----------------------------------------------------------------------------
    async def start(self, ctx: ComponentContext) -> None:
        self._ctx = ctx
        path = self.config.watch_list or (ctx.data_dir / "watchlist.json")
        self._store = WatchListStore(Path(path))
        ctx.on_command("vision.watchlist", self._on_watchlist)
        ctx.register(VISION_CAMERAS, self._api_cameras)
        ctx.register(VISION_WATCHLIST, self._api_watchlist)
        for cam in self.cameras.values():
            ctx.set_device(f"camera.{cam.section.id}", "starting")
            self._tasks.append(asyncio.create_task(self._supervise(cam), name=f"camera-{cam.section.id}"))

    async def stop(self) -> None:
        self._stop.set()
        for cam in self.cameras.values():
            if cam.worker is not None:
                await asyncio.to_thread(cam.worker.stop, 5.0)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for cam in self.cameras.values():
            if cam.worker is not None:
                cam.worker.close()

    # ---- supervision ---------------------------------------------------------------------------
    def _settings(self, cam: CameraSection) -> CameraSettings:
        assert self._store is not None
        return CameraSettings(
            camera_id=cam.id,
            source=cam.source,
            watch_list=self._store.path,
            analyses_per_second=cam.analyses_per_second,
            intra_op_threads=cam.threads,
            keep_reads=cam.keep_reads,
            loop=cam.loop,
            min_plate_width=cam.min_plate_width,
            match_max_distance=cam.match_max_distance,
        )

    async def _supervise(self, cam: _CameraState) -> None:
        delay = 1.0
        while not self._stop.is_set():
            worker = CameraWorker(self._settings(cam.section))
            cam.worker = worker
            started = time.monotonic()
            try:
                worker.start()
                async for message in worker.messages():
                    try:
                        await self._handle(cam, message)
                    except Exception:  # one bad message must not take the camera down
                        log.exception("camera %s: could not handle a %s", cam.section.id, type(message).__name__)
            except Exception as exc:
                log.exception("camera %s: supervision error", cam.section.id)
                cam.detail = str(exc)
            code = await asyncio.to_thread(worker.stop, 5.0)
            await asyncio.to_thread(worker.close)
            if self._stop.is_set():
                return
            if cam.state == "ended" and code == 0:  # a file played to its end: nothing to restart
                self._set_device(cam, "ended", "the video file ended")
                return
            now = time.monotonic()
            if now - started > _BUDGET_WINDOW_S:
                delay = 1.0
            cam.restarts.append(now)
            while cam.restarts and now - cam.restarts[0] > _BUDGET_WINDOW_S:
                cam.restarts.popleft()
            if len(cam.restarts) > self.config.restart_budget:
                await self._camera_fault(
                    cam, "gave_up", f"worker exited {code}; restart budget spent, retrying in {_COOL_DOWN_S:.0f} s"
                )
                await asyncio.sleep(_COOL_DOWN_S)
                cam.restarts.clear()
                continue
            await self._camera_fault(cam, "restarting", f"worker exited {code}: {cam.detail}")
            await asyncio.sleep(delay)
            delay = min(30.0, delay * 2)

    async def _handle(self, cam: _CameraState, message: object) -> None:
        if isinstance(message, PlateHit):
            await self._hit(cam, message)
        elif isinstance(message, CameraTelemetry):
            cam.telemetry = message.to_dict()
            if self._ctx is not None:
                self._ctx.set_camera(
                    cam.section.id,
                    {
                        k: cam.telemetry[k]
                        for k in (
                            "connected",
                            "frames_in",
                            "frames_analysed",
                            "frames_dropped",
                            "lag_ms",
                            "reconnects",
                            "reads",
                            "hits",
                            "watch_list_version",
                        )
                    },
                )
        elif isinstance(message, CameraStatus):
            await self._status(cam, message)
        elif isinstance(message, PlateReadMessage) and self._ctx is not None:
            self._ctx.publish("vision.reads", {"read": message.to_dict()})

    async def _status(self, cam: _CameraState, st: CameraStatus) -> None:
        previous = cam.state
        cam.state, cam.detail = st.state, st.detail
        if st.state in {"connected", "watch_list_installed"}:
            self._set_device(cam, "ok", st.detail)
            if previous in {"disconnected", "failed"}:
                await self._camera_fault(cam, "restored", st.detail)
        elif st.state in {"disconnected", "failed"}:
            await self._camera_fault(cam, st.state, st.detail)
        elif st.state == "watch_list_rejected":
            log.warning("camera %s rejected the watch list: %s", cam.section.id, st.detail)

    def _set_device(self, cam: _CameraState, state: str, detail: str) -> None:
        if self._ctx is None:
            return
        self._ctx.set_device(f"camera.{cam.section.id}", state if state == "ok" else f"{state}: {detail}"[:200])
        if state == "ok":
            self._ctx.faults.clear_fault(f"camera.{cam.section.id}")

    async def _camera_fault(self, cam: _CameraState, state: str, detail: str) -> None:
        d = self._ctx
        if d is None:
            return
        self._set_device(cam, state, detail)
        if state != "restored":
            d.faults.raise_fault(
                f"camera.{cam.section.id}", f"camera {cam.section.id}: {state}: {detail}"[:300], severity="warning"
            )
        with contextlib.suppress(Exception):
            await d.emit(
                "vision.camera_fault",
                Priority.WARNING,
                {"camera": cam.section.id, "state": state, "detail": detail[:300]},
            )

    async def _hit(self, cam: _CameraState, hit: PlateHit) -> None:
        d = self._ctx
        if d is None:
            return
        cam.hits += 1
        snap = hit.snapshot
        jpeg = snap.jpeg if len(snap.jpeg) <= self.config.snapshot_max_bytes else b""
        data = {
            "camera": cam.section.id,
            "camera_name": cam.section.name,
            "plate": hit.plate,
            "kind": hit.kind,
            "confidence": round(hit.confidence, 3),
            "listed_plate": hit.entry.plate,
            "reason": hit.entry.reason,
            "list_priority": hit.entry.priority,
            "list_version": hit.entry.list_version,
            "distance": hit.distance,
            "seen_at": hit.time,
            "first_seen": hit.first_seen,
            "box": [float(snap.box.x), float(snap.box.y), float(snap.box.w), float(snap.box.h)],
            "snapshot_jpeg_b64": base64.b64encode(jpeg).decode(),
            "plate_jpeg_b64": base64.b64encode(snap.plate_jpeg).decode() if len(snap.plate_jpeg) < 40_000 else "",
            "privacy": snap.privacy,
        }
        # The crew first: the notification does not wait for the outbox or the uplink.
        d.publish("vision.hits", {"hit": {k: v for k, v in data.items() if k != "snapshot_jpeg_b64"}})
        stored = await d.emit("vision.plate_hit", Priority.WARNING, data)
        log.info(
            "camera %s: watch-listed vehicle (list entry priority %d), event seq %d",
            cam.section.id,
            hit.entry.priority,
            stored.seq,
        )

    # ---- the watch list ------------------------------------------------------------------------
    async def _on_watchlist(self, cmd: wire.Command) -> None:
        d, store = self._ctx, self._store
        if d is None or store is None:
            return
        # The daemon's command gate has verified the signature, target, time and counter already.
        why: str | None = None
        try:
            version = int(cmd.args.get("version", -1))
            new = WatchList.build(version=version, entries=cmd.args.get("entries", []), origin=f"command {cmd.id}")
            current = await asyncio.to_thread(store.load)
            if new.version < current.version:
                why = f"version {new.version} is older than the installed {current.version}"
            elif new.version == current.version and new.entries == current.entries:
                return  # the same list again (re-signed by central): already installed
        except (WatchListError, ValueError, TypeError) as exc:
            why = f"invalid watch list: {exc}"
        if why is not None:
            log.warning("refused a watch list from central: %s", why)
            d.faults.raise_fault("vision.watchlist", f"watch list refused: {why}", severity="warning")
            await d.emit("vision.watchlist_refused", Priority.WARNING, {"reason": why[:300], "command_id": cmd.id})
            return
        await asyncio.to_thread(store.save, new)
        d.faults.clear_fault("vision.watchlist")
        log.info("watch list version %d installed (%d entries)", new.version, len(new.entries))
        await d.emit(
            "vision.watchlist_installed",
            Priority.INFO,
            {"version": new.version, "entries": len(new.entries), "command_id": cmd.id},
        )

    # ---- local API -----------------------------------------------------------------------------
    async def _api_cameras(self, params: Empty, conn: Connection) -> Cameras:
        return Cameras(
            cameras=[
                CameraInfo(
                    id=c.section.id,
                    name=c.section.name,
                    state=c.state,
                    detail=c.detail,
                    hits=c.hits,
                    restarts_recent=len(c.restarts),
                    telemetry=c.telemetry,
                )
                for c in self.cameras.values()
            ]
        )

    async def _api_watchlist(self, params: Empty, conn: Connection) -> WatchListInfo:
        assert self._store is not None
        wl = await asyncio.to_thread(self._store.load)
        return WatchListInfo(version=wl.version, entries=len(wl.entries))
