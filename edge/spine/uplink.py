"""The station's MQTT uplink (paho-mqtt 2.x, MQTT v5). The only module of the edge that imports paho.

paho runs its network loop in its own thread. Its callbacks never touch our state: they hand each
event to the asyncio loop with `call_soon_threadsafe` (paho calls `on_publish` while holding its own
message lock, so anything heavier there could deadlock against a publisher). All relay decisions and
every `publish()` happen on the asyncio loop, which only queues bytes for paho's thread.

- Client id = station id, persistent session (clean_start=False) with a session expiry.
- QoS 1 for events; the PUBACK reason code is checked (>= 0x80 is a failure, not a success).
- A retained status topic: a birth message on connect, a last will on loss. Both carry a counter that
  grows with every connection attempt (stored on disk), so central can ignore a stale will.
- Reconnect with jittered exponential backoff (paho's own backoff has no jitter: we set its delay
  before each wait).
- Telemetry as QoS 0 messages with a message expiry interval.
- A heartbeat (QoS 0, expiring) every `heartbeat_interval` seconds while connected, so central sees a
  frozen station or a link cut without a will as "silent" within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge.spine.link import BrokerAddress, parse_broker_url
from edge.spine.relay import OutboxRelay
from edge.system.faults import FaultBoard
from edge.system.files import write_atomic
from edge.wire import messages as wire
from edge.wire.errors import ApiError, HubUnavailableError

__all__ = ["BrokerAddress", "HubUnavailableError", "MqttUplink", "UplinkSettings", "parse_broker_url"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class UplinkSettings:
    url: str
    station: str
    state_dir: Path
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive: int = 30
    session_expiry: int = 7 * 24 * 3600
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    telemetry_expiry: int = 120
    heartbeat_interval: float = 1.5  # 0: no heartbeats
    software: str = "police-kiosk"


class MqttUplink:
    """Moves relay batches to the broker and hub acks back. Lives on one asyncio loop."""

    def __init__(
        self,
        settings: UplinkSettings,
        *,
        relay: OutboxRelay,
        faults: FaultBoard,
        on_confirmed: Callable[[list[int]], None],
        on_command: Callable[[str, bytes], None] | None = None,
    ) -> None:
        self.settings = settings
        self.relay = relay
        self.faults = faults
        self.on_confirmed = on_confirmed
        self.on_command = on_command
        self.address = parse_broker_url(settings.url)
        self.state = "disconnected"
        self.connects = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._mid_batch: dict[int, int] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._heartbeat_timer: asyncio.TimerHandle | None = None
        self.heartbeats_sent = 0
        self._attempt = 0
        self._stopping = False
        self._counter_path = Path(settings.state_dir) / "uplink.counter"
        self._counter = self._read_counter()
        st = settings.station
        self.t_status = wire.topic(st, "status")
        self.t_event = wire.topic(st, "event")
        self.t_ack = wire.topic(st, "ack")
        self.t_telemetry = wire.topic(st, "telemetry")
        self.t_heartbeat = wire.topic(st, "heartbeat")
        self.t_rpc_req = wire.topic(st, "rpc", "req")
        self.t_rpc_res = wire.topic(st, "rpc", "res")
        self._requests: dict[str, asyncio.Future[Any]] = {}
        self._cmd_prefixes = (f"{wire.PREFIX}/{st}/cmd/", f"{wire.PREFIX}/all/cmd/")
        self._client = self._make_client()

    # ---- setup ---------------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=s.station,
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=True,
        )
        client.max_inflight_messages_set(self.relay.window + self.relay.alarm_reserve + 4)
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if self.address.tls:
            client.tls_set(
                ca_certs=str(s.ca_file) if s.ca_file else None,
                certfile=str(s.cert_file) if s.cert_file else None,
                keyfile=str(s.key_file) if s.key_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        client.on_pre_connect = self._cb_pre_connect
        client.on_connect = self._cb_connect
        client.on_connect_fail = self._cb_connect_fail
        client.on_disconnect = self._cb_disconnect
        client.on_publish = self._cb_publish
        client.on_message = self._cb_message
        client.on_socket_open = _no_delay  # paho leaves Nagle on: small alarms and acks would wait
        # paho annotates the delays as int, but its arithmetic takes float seconds; jitter needs them.
        client.reconnect_delay_set(s.reconnect_min, s.reconnect_min)  # type: ignore[arg-type]
        return client

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.state = "connecting"
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.settings.session_expiry
        self._client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=self.settings.keepalive,
            clean_start=False,
            properties=props,
        )
        self._client.loop_start()

    def stop(self) -> None:
        """Say goodbye properly: offline status (same counter), then disconnect."""
        if self._timer is not None:
            self._timer.cancel()
        if self._heartbeat_timer is not None:
            self._heartbeat_timer.cancel()
            self._heartbeat_timer = None
        if self._client.is_connected():
            info = self._client.publish(self.t_status, self._status_payload("offline", "shutdown"), qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2.0)
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()

    # ---- birth / will --------------------------------------------------------------------------
    def _read_counter(self) -> int:
        try:
            return int(self._counter_path.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _write_counter(self, value: int) -> None:
        write_atomic(self._counter_path, str(value).encode())

    def _status_payload(self, state: str, reason: str = "") -> bytes:
        return wire.encode(
            wire.Status(
                state=state,
                counter=self._counter,
                ts=wire.utc_now_iso(),
                software=self.settings.software,
                reason=reason,
            )
        )

    # ---- paho thread callbacks: hand off only --------------------------------------------------
    def _cb_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        # Grows with every attempt and never falls behind the wall clock in milliseconds, so a replaced
        # box (new data directory, same station id) still outranks the old box's stale will.
        self._counter = max(self._counter + 1, int(time.time() * 1000))
        try:
            self._write_counter(self._counter)
        except OSError as exc:  # a full disk must not stop the link; the counter still grows in memory
            log.warning("could not persist the connection counter: %s", exc)
        client.will_set(self.t_status, self._status_payload("offline", "connection lost"), qos=1, retain=True)

    def _cb_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Properties | None
    ) -> None:
        if reason.is_failure:
            self._post(self._link_refused, str(reason))
            return
        client.subscribe(
            [(self.t_ack, 1), (self.t_rpc_res, 1), (self._cmd_prefixes[0] + "+", 1), (self._cmd_prefixes[1] + "+", 1)]
        )
        client.publish(self.t_status, self._status_payload("online"), qos=1, retain=True)
        self._post(self._link_up)

    def _cb_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        # paho calls this inside its `except OSError:` block: the active exception is the cause
        # (connection refused, name not resolved, certificate verify failed, ...).
        cause = sys.exc_info()[1]
        self._set_backoff()
        self._post(self._link_failed, str(cause) if cause is not None else "")

    def _cb_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Properties | None
    ) -> None:
        self._set_backoff()
        self._post(self._link_down, str(reason))

    def _cb_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, props: Properties | None
    ) -> None:
        self._post(self._puback, mid, reason.value, str(reason))

    def _cb_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == self.t_ack:
            self._post(self._hub_ack, msg.payload)
        elif msg.topic == self.t_rpc_res:
            self._post(self._rpc_response, msg.payload)
        elif self.on_command is not None and msg.topic.startswith(self._cmd_prefixes):
            self._post(self.on_command, msg.topic.rsplit("/", 1)[-1], msg.payload)

    def _post(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
                loop.call_soon_threadsafe(fn, *args)

    def _set_backoff(self) -> None:
        """Full-jitter exponential backoff for paho's next wait (paho's own has no jitter)."""
        s = self.settings
        ceiling = min(s.reconnect_max, s.reconnect_min * (2 ** min(self._attempt, 16)))
        delay = max(s.reconnect_min / 2, random.uniform(0, ceiling))  # noqa: S311 - jitter, not crypto
        self._attempt += 1
        self._client.reconnect_delay_set(delay, delay)  # type: ignore[arg-type]

    # ---- asyncio loop --------------------------------------------------------------------------
    def _link_up(self) -> None:
        self.state = "connected"
        self.connects += 1
        self._attempt = 0
        self._mid_batch.clear()
        log.info("uplink connected to %s:%d (connection %d)", self.address.host, self.address.port, self._counter)
        self.faults.clear_fault("uplink.refused")
        self.faults.clear_fault("uplink.down")
        self.relay.link_up()
        self.pump()
        self._heartbeat()

    def _heartbeat(self) -> None:
        """Publish a heartbeat now and every `heartbeat_interval` seconds while connected."""
        if self._heartbeat_timer is not None:
            self._heartbeat_timer.cancel()
            self._heartbeat_timer = None
        interval = self.settings.heartbeat_interval
        if interval <= 0 or self.state != "connected" or self._loop is None or self._stopping:
            return
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.MessageExpiryInterval = max(1, int(interval * 2))
        payload = wire.encode(wire.Heartbeat(counter=self._counter, ts=wire.utc_now_iso()))
        self._client.publish(self.t_heartbeat, payload, qos=0, properties=props)
        self.heartbeats_sent += 1
        self._heartbeat_timer = self._loop.call_later(interval, self._heartbeat)

    def _link_down(self, reason: str) -> None:
        was = self.state
        self.state = "connecting"
        if not self._stopping:
            self.faults.raise_fault("uplink.down", f"no link to central: {reason}", severity="warning")
        self._mid_batch.clear()
        self.relay.link_down()
        self._fail_requests(f"link to central lost: {reason}")
        if was == "connected" and not self._stopping:
            log.warning("uplink lost: %s; reconnecting with backoff", reason)

    def _fail_requests(self, why: str) -> None:
        for fut in self._requests.values():
            if not fut.done():
                fut.set_exception(HubUnavailableError(why))
        self._requests.clear()

    def _link_failed(self, cause: str = "") -> None:
        self.state = "connecting"
        why = f": {cause}" if cause else ""
        where = f"{self.address.host}:{self.address.port}"
        self.faults.raise_fault("uplink.down", f"cannot reach the broker at {where}{why}", severity="warning")

    def _link_refused(self, reason: str) -> None:
        self.faults.raise_fault("uplink.refused", f"broker refused the connection: {reason}")

    def _puback(self, mid: int, code: int, text: str) -> None:
        batch_id = self._mid_batch.pop(mid, None)
        if batch_id is None:
            return
        ok = code < 0x80
        if not ok:
            self.faults.raise_fault("uplink.publish_refused", f"broker refused an event batch: {text} (0x{code:02x})")
        self.relay.on_publish_result(batch_id, ok=ok)
        self.pump()

    def _hub_ack(self, payload: bytes) -> None:
        try:
            ack = wire.decode_ack(payload)
        except ValueError as exc:  # msgspec errors and BoundsError: logged, never fatal
            log.warning("ignored a malformed ack: %s", exc)
            return
        confirmed = self.relay.on_ack(ack.batch, ack.seqs)
        if confirmed:
            self.faults.clear_fault("uplink.publish_refused")
            self.on_confirmed(confirmed)
        self.pump()

    def pump(self) -> None:
        """Publish whatever the relay allows now; arm the ack-timeout timer."""
        if self.state != "connected":
            return
        now = time.monotonic()
        if self.relay.expire(now):
            log.info("resending event batches that the hub did not confirm in time")
        for batch in self.relay.next_batches(now):
            payload = wire.batch_payload(self.settings.station, batch.bodies, batch=batch.id)
            info = self._client.publish(self.t_event, payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                # paho keeps a QoS 1 message for its next connection; the relay resends on link-up anyway.
                log.debug("publish deferred: %s", mqtt.error_string(info.rc))
            self._mid_batch[info.mid] = batch.id
        self._arm_timer()

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.relay.oldest_deadline()
        if deadline is not None and self._loop is not None:
            self._timer = self._loop.call_later(max(0.0, deadline - time.monotonic()) + 0.01, self.pump)

    async def request(self, method: str, params: dict[str, Any], *, timeout: float = 5.0) -> Any:
        """Ask the hub and wait for its answer. Raises HubUnavailableError at once when the link is down,
        or when no answer comes within `timeout`; raises ApiError with central's code and message when
        central answers with an error."""
        if self.state != "connected" or self._loop is None:
            raise HubUnavailableError("no link to central")
        rid = wire.new_event_id()
        fut: asyncio.Future[Any] = self._loop.create_future()
        self._requests[rid] = fut
        req = wire.RpcRequest(id=rid, method=method, params=params, deadline=wire.utc_now_iso(time.time() + timeout))
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = self.t_rpc_res
        props.CorrelationData = rid.encode()
        props.MessageExpiryInterval = max(1, int(timeout) + 1)
        self._client.publish(self.t_rpc_req, wire.encode(req), qos=1, properties=props)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise HubUnavailableError(f"central did not answer {method} within {timeout:g} s") from None
        finally:
            self._requests.pop(rid, None)

    def _rpc_response(self, payload: bytes) -> None:
        try:
            res = wire.decode_rpc_response(payload)
        except ValueError as exc:  # msgspec errors and BoundsError
            log.warning("ignored a malformed hub response: %s", exc)
            return
        fut = self._requests.get(res.id)
        if fut is None or fut.done():
            return  # late: the caller gave up already
        if res.error is not None:
            fut.set_exception(ApiError(res.error.code, res.error.message))
        else:
            fut.set_result(res.result)

    def publish_telemetry(self, payload: bytes) -> bool:
        if self.state != "connected":
            return False
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.MessageExpiryInterval = self.settings.telemetry_expiry
        self._client.publish(self.t_telemetry, payload, qos=0, properties=props)
        return True


def _no_delay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """Disable Nagle's algorithm on the broker connection (paho does not): an alarm is one small
    message, and Nagle plus delayed ACKs can hold it back for tens of milliseconds."""
    import socket

    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
