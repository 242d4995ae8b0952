"""The edge daemon: a set of components around the durable outbox, on one asyncio loop.

Start-up order: outbox (critical: without it nothing may be accepted), local API (critical), uplink,
then the optional components (devices, simulators, later alarms and video). A critical component that
fails stops start-up with a non-zero exit; an optional one that fails becomes a visible fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import time
from pathlib import Path
from typing import Any

import msgspec

from edge.api.access import RoleMap
from edge.api.server import ApiServer, Connection
from edge.component.context import Component
from edge.config.station import EdgeConfig
from edge.daemon.commands import CommandGate
from edge.daemon.context import DaemonContext
from edge.spine.outbox import Outbox
from edge.spine.records import Draft, OutboxClosedError, OutboxFullError, StoredEvent
from edge.spine.relay import OutboxRelay
from edge.spine.uplink import MqttUplink, UplinkSettings
from edge.system.faults import Fault, FaultBoard
from edge.system.hostinfo import host_health
from edge.system.sdnotify import Notifier
from edge.wire import messages as wire
from edge.wire import payloads
from edge.wire.api import core as api
from edge.wire.api.base import Empty
from edge.wire.api.core import EventSubmit, HubCall, Status, Submitted
from edge.wire.commands import ROTATE_KEY
from edge.wire.errors import HUB_ERROR, INVALID_PARAMS, OUTBOX_FULL, UNAVAILABLE, ApiError, HubUnavailableError

__all__ = ["Component", "EdgeDaemon", "run_daemon"]

log = logging.getLogger(__name__)

MAX_DATA_BYTES = 256 * 1024


class EdgeDaemon:
    def __init__(self, config: EdgeConfig, *, components: list[Component] | None = None) -> None:
        self.config = config
        self.station = config.station.id
        self.data_dir = Path(config.paths.data_dir)
        self.faults = FaultBoard()
        self.notifier = Notifier()
        self.started_at = time.time()
        self.loop: asyncio.AbstractEventLoop | None = None
        up = config.uplink
        self.relay = OutboxRelay(
            window=up.window,
            batch_max=up.batch_max,
            ack_timeout=up.ack_timeout,
            first_batch_id=secrets.randbelow(1 << 40) + 1,
        )
        self.outbox = Outbox(
            self.data_dir / "outbox.db",
            station=self.station,
            faults=self.faults,
            max_events=config.outbox.max_events,
            max_bytes=config.outbox.max_bytes,
            reserve_bytes=config.outbox.reserve_bytes,
            disk_low_bytes=config.outbox.disk_low_bytes,
            on_committed=self._committed,
        )
        acl = config.api
        ids = acl.ids()  # an unknown user or group name: ValueError, the daemon does not start
        roles = RoleMap(
            kiosk_users=ids["kiosk_users"],
            crew_users=ids["crew_users"],
            crew_groups=ids["crew_groups"],
            admin_users=ids["admin_users"],
            roster=acl.crew,
        )
        self.api = ApiServer(
            config.socket_path, roles=roles, max_connections=acl.max_connections, max_in_flight=acl.max_in_flight
        )
        self.commands = CommandGate(
            config.commands, station=self.station, faults=self.faults, state_file=self.data_dir / "command-trust.json"
        )
        self.uplink: MqttUplink | None = None
        self.components: list[Component] = list(components or [])
        self._started: list[Component] = []
        self._coalesce: dict[wire.Priority, list[tuple[list[Draft], asyncio.Future[list[StoredEvent]]]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.context = DaemonContext(
            station=self.station,
            station_name=config.station.name,
            data_dir=self.data_dir,
            api=self.api,
            faults=self.faults,
            emit=self.emit,
            call_hub=self.call_hub,
            uplink_state=lambda: self.uplink.state if self.uplink else "disabled",
        )
        self._register_api()

    # ---- the internal submission path (local first: nothing here waits for the network) ----------
    async def submit(self, drafts: list[Draft]) -> list[StoredEvent]:
        """Commit drafts to the outbox (fsync) and return them stored; raises OutboxFullError.

        Submissions made in the same turn of the event loop (a JSON-RPC batch, pipelined clients) go to
        the outbox together, one request per priority, so they share one wake-up of the writer thread and
        one hand-back, on top of sharing one commit.
        """
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[list[StoredEvent]] = loop.create_future()
        top = max((d.priority for d in drafts), default=wire.Priority.INFO)
        group = self._coalesce.setdefault(top, [])
        group.append((drafts, fut))
        if len(group) == 1:
            loop.call_soon(self._flush_group, top)
        return await fut

    def _flush_group(self, priority: wire.Priority) -> None:
        group = self._coalesce.pop(priority, [])
        if not group:
            return
        loop = asyncio.get_running_loop()
        flat = [d for drafts, _ in group for d in drafts]

        def done(result: list[StoredEvent] | BaseException) -> None:
            loop.call_soon_threadsafe(_settle_group, group, result)

        self.outbox.submit(flat, done)

    async def emit(self, type_: str, priority: wire.Priority, data: dict[str, Any]) -> StoredEvent:
        """Submit one event of ours (components use this); validated like API submissions."""
        stored = await self.submit([Draft(type_, priority, payloads.validate(type_, data))])
        return stored[0]

    def _committed(self, events: list[StoredEvent]) -> None:
        """Writer thread: hand committed events to the relay on the loop."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._relay_add, events)

    def _relay_add(self, events: list[StoredEvent]) -> None:
        self.relay.add(events)
        if self.uplink is not None:
            self.uplink.pump()
        if self.api is not None:
            for ev in events:
                if ev.priority >= wire.Priority.WARNING:
                    self.api.publish("events.accepted", {"seq": ev.seq, "id": ev.id, "priority": int(ev.priority)})

    def _confirmed(self, seqs: list[int]) -> None:
        self.outbox.confirm(seqs)

    # ---- local API -----------------------------------------------------------------------------
    def _register_api(self) -> None:
        self.api.register(api.EVENTS_SUBMIT, self._api_submit)
        self.api.register(api.STATUS_GET, self._api_status)
        self.api.register(api.HUB_CALL, self._api_hub_call)

    async def _api_submit(self, params: EventSubmit, conn: Connection) -> Submitted:
        type_ = params.type
        if not wire.EVENT_TYPE_RE.match(type_):
            raise ApiError(INVALID_PARAMS, f"type must be a dotted lower-case name like 'kiosk.report', got {type_!r}")
        try:
            priority = wire.Priority.parse(params.priority)
            data = payloads.validate(type_, params.data)
        except ValueError as exc:
            raise ApiError(INVALID_PARAMS, str(exc)) from None
        if len(msgspec.json.encode(data)) > MAX_DATA_BYTES:
            raise ApiError(INVALID_PARAMS, f"data larger than {MAX_DATA_BYTES} bytes")
        try:
            stored = await self.submit([Draft(type_, priority, data)])
        except OutboxFullError as exc:
            raise ApiError(OUTBOX_FULL, str(exc)) from None
        except OutboxClosedError as exc:
            raise ApiError(UNAVAILABLE, str(exc)) from None
        await self.context.stored(type_, stored[0], data)
        return Submitted(id=stored[0].id, seq=stored[0].seq)

    async def _api_status(self, params: Empty, conn: Connection) -> Status:
        return msgspec.convert(self.status(), Status)

    async def call_hub(self, method: str, params: dict[str, Any], *, timeout: float = 5.0) -> Any:
        """Ask central; raises HubUnavailableError when it cannot answer (callers fall back to events)."""
        if self.uplink is None:
            raise HubUnavailableError("the uplink is not running")
        return await self.uplink.request(method, params, timeout=timeout)

    async def _api_hub_call(self, params: HubCall, conn: Connection) -> Any:
        try:
            return await self.call_hub(params.method, params.params, timeout=params.timeout)
        except HubUnavailableError:
            raise
        except ApiError as exc:
            raise ApiError(HUB_ERROR, exc.message, {"hub_code": exc.code}) from None

    def status(self) -> dict[str, Any]:
        up = self.uplink
        return {
            "station": self.station,
            "name": self.config.station.name,
            "started_at": wire.utc_now_iso(self.started_at),
            "next_seq": self.outbox.next_seq,
            "outbox": self.outbox.health(),
            "link": self.link_health(),
            "faults": [
                {"code": f.code, "message": f.message, "since": f.since, "severity": f.severity}
                for f in self.faults.active()
            ],
            "devices": self.context.devices,
            "host": host_health(self.data_dir),
            "uplink_url": up.settings.url if up else None,
        }

    def link_health(self) -> dict[str, Any]:
        up = self.uplink
        return {
            "state": up.state if up else "disabled",
            "connects": up.connects if up else 0,
            "in_flight": self.relay.in_flight,
            "published_total": self.relay.published_total,
            "resent_total": self.relay.resent_total,
            "publish_failures": self.relay.publish_failures,
            "acks_ignored": self.relay.acks_ignored,
        }

    def telemetry(self) -> wire.Telemetry:
        return wire.Telemetry(
            ts=wire.utc_now_iso(),
            outbox=wire.OutboxHealth(**self.outbox.health()),
            link=wire.LinkHealth(**self.link_health()),
            host=wire.HostHealth(**host_health(self.data_dir)),
            faults=[f.code for f in self.faults.active()],
            devices=self.context.devices,
            cameras={k: dict(v) for k, v in self.context.cameras.items()},
            commands=self.commands.counts(),
            place=_place(self.config.station),
        )

    def _fault_changed(self, code: str, fault: Fault | None) -> None:
        loop = self.loop
        params = {"code": code, "active": fault is not None, "message": fault.message if fault else ""}
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.api.publish, "faults", params)

    # ---- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.faults.subscribe(self._fault_changed)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pending = await asyncio.to_thread(self.outbox.open)
        self.relay.add(pending)
        if pending:
            log.info("outbox holds %d unconfirmed events from before; they will be sent again", len(pending))
        await self.api.start()
        for comp in self.components:
            try:
                await comp.start(self.context)
            except Exception as exc:
                if comp.critical:
                    raise
                log.exception("optional component %s failed to start", comp.name)
                self.faults.raise_fault(
                    f"component.{comp.name}", f"{comp.name} failed to start: {exc}", severity="warning"
                )
                continue
            self._started.append(comp)
        # The uplink last: commands retained at the broker arrive at once, and every component's
        # handler must be registered by then.
        up = self.config.uplink
        password = up.password
        if up.password_file is not None:
            password = up.password_file.read_text().strip()
        self.uplink = MqttUplink(
            UplinkSettings(
                url=up.url,
                station=self.station,
                state_dir=self.data_dir,
                username=up.username,
                password=password,
                ca_file=up.ca_file,
                cert_file=up.cert_file,
                key_file=up.key_file,
                keepalive=up.keepalive,
                session_expiry=up.session_expiry,
                reconnect_min=up.reconnect_min,
                reconnect_max=up.reconnect_max,
                heartbeat_interval=up.heartbeat_interval,
            ),
            relay=self.relay,
            faults=self.faults,
            on_confirmed=self._confirmed,
            on_command=self._command,
        )
        self.uplink.start(self.loop)
        self._tasks.append(asyncio.create_task(self._telemetry_loop(), name="telemetry"))
        self._tasks.append(asyncio.create_task(self._watchdog_loop(), name="watchdog"))
        self.notifier.ready(f"station {self.station}: accepting events")
        log.info("edge daemon for station %s ready; API at %s", self.station, self.api.path)

    async def stop(self) -> None:
        self.notifier.stopping()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for comp in reversed(self._started):
            try:
                await comp.stop()
            except Exception:
                log.exception("component %s failed to stop", comp.name)
        await self.api.close()
        if self.uplink is not None:
            await asyncio.to_thread(self.uplink.stop)
        await asyncio.to_thread(self.outbox.close)

    def _command(self, name: str, payload: bytes) -> None:
        try:
            cmd = wire.decode_command(payload)
        except ValueError as exc:  # msgspec errors and BoundsError
            log.warning("ignored malformed command %r: %s", name[:64], exc)
            return
        if cmd.name != name:  # the topic names the command the signature covers
            log.warning("ignored command %r published on the topic of %r", cmd.name[:64], name[:64])
            return
        task = asyncio.ensure_future(self._admitted(cmd))
        task.add_done_callback(_log_task_error)

    async def _admitted(self, cmd: wire.Command) -> None:
        """Verify every command (signature, target, time, counter; forgeries are counted even for names
        nobody handles), then hand it to the handler registered for its name."""
        if not await self.commands.admit(cmd):
            return
        handler = self.context.command_handlers.get(cmd.name)
        if handler is not None:
            await handler(cmd)
        elif cmd.name != ROTATE_KEY:
            log.warning("ignored unknown command %r", cmd.name[:64])

    async def _telemetry_loop(self) -> None:
        interval = self.config.uplink.telemetry_interval
        while True:
            sent = self.uplink is not None and self.uplink.publish_telemetry(wire.encode(self.telemetry()))
            await asyncio.sleep(interval if sent else min(interval, 1.0))

    async def _watchdog_loop(self) -> None:
        interval = self.notifier.watchdog_interval
        if interval is None:
            return
        while True:
            self.notifier.watchdog()
            await asyncio.sleep(interval)


def _settle_group(
    group: list[tuple[list[Draft], asyncio.Future[list[StoredEvent]]]], result: list[StoredEvent] | BaseException
) -> None:
    """Hand each submitter its own events (in order), or the shared error."""
    i = 0
    for drafts, fut in group:
        n = len(drafts)
        if not fut.done():
            if isinstance(result, BaseException):
                fut.set_exception(result)
            else:
                fut.set_result(result[i : i + n])
        i += n


def _log_task_error(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("command handler failed", exc_info=task.exception())


async def run_daemon(config: EdgeConfig, *, components: list[Component] | None = None) -> int:
    """Run until SIGTERM/SIGINT. Returns the exit code (non-zero when start-up fails)."""
    daemon = EdgeDaemon(config, components=components)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await daemon.start()
    except Exception:
        log.exception("edge daemon failed to start")
        await daemon.stop()
        return 1
    await stop.wait()
    log.info("stopping")
    await daemon.stop()
    return 0


def _place(station: Any) -> wire.Place:
    return wire.Place(name=station.name, district=station.district, lat=station.latitude, lon=station.longitude)
