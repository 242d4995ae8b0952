"""The hub's ingest loop: take what the broker delivers, store it, then acknowledge it.

One thread drains the inbox in batches: all event batches that arrived together are stored in one
transaction, and each station's ack (`police/v1/{station}/ack`) is published only after the commit.
Malformed messages are counted and logged (rate-limited), never fatal.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import msgspec

from edge.wire import messages as wire
from edge.wire.commands import CommandSigner
from hub import kiosk_services
from hub.mqtt import HubMqtt, Inbound
from hub.rpc import RpcRegistry
from hub.store import Store

__all__ = ["HubCounters", "HubService"]

log = logging.getLogger(__name__)

_DRAIN_LIMIT = 2000


@dataclass(slots=True)
class HubCounters:
    messages: int = 0
    events_stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    malformed: int = 0
    stale_status: int = 0
    acks_sent: int = 0
    last_malformed_log: float = field(default=0.0)


class HubService:
    def __init__(self, store: Store, mqtt: HubMqtt, *, rpc: RpcRegistry | None = None,
                 store_factory: Callable[[], Store] | None = None, rpc_workers: int = 2,
                 signer: CommandSigner | None = None) -> None:
        self.store = store
        self.mqtt = mqtt
        self.inbox = mqtt.inbox
        self.counters = HubCounters()
        self.rpc = rpc or RpcRegistry()
        self.signer = signer
        self._store_factory = store_factory
        self._pool = ThreadPoolExecutor(max_workers=rpc_workers, thread_name_prefix="hub-rpc")
        self._thread: threading.Thread | None = None
        self.failed: BaseException | None = None
        self.on_failure: Callable[[], None] | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="hub-ingest", daemon=False)
        self._thread.start()
        self.mqtt.start()

    def stop(self) -> None:
        self.mqtt.stop()
        self.inbox.put(None)
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._pool.shutdown(wait=True)

    def run(self) -> None:
        """The ingest loop. A failure (database gone, disk full) is fatal on purpose: nothing was
        acknowledged for the failed batch, so stations resend it, and the process exits non-zero for
        systemd to restart it (see `failed`)."""
        try:
            self._run()
        except Exception as exc:
            log.critical("hub ingest failed; exiting so that the service manager restarts the hub", exc_info=True)
            self.failed = exc
            if self.on_failure is not None:
                self.on_failure()

    def _run(self) -> None:
        while True:
            first = self.inbox.get()
            if first is None:
                return
            items = [first]
            stop = False
            while len(items) < _DRAIN_LIMIT:
                try:
                    nxt = self.inbox.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                items.append(nxt)
            self.process(items)
            if stop:
                return

    def process(self, items: list[Inbound]) -> None:
        events: list[wire.Event] = []
        bodies: list[bytes] = []
        self.counters.messages += len(items)
        for item in items:
            parts = item.topic.split("/")
            if len(parts) not in (4, 5) or f"{parts[0]}/{parts[1]}" != wire.PREFIX:
                self._malformed(item, "unexpected topic")
                continue
            if len(parts) == 5 and parts[3] == "rpc" and parts[4] == "req":
                self._rpc(parts[2], item.payload)
                continue
            station, kind = parts[2], parts[3]
            try:
                if kind == "event":
                    batch = wire.decode_batch(item.payload)
                    for ev in batch.events:
                        if ev.station != station:
                            raise ValueError(f"event of station {ev.station!r} on the topic of {station!r}")
                        events.append(ev)
                        bodies.append(wire.encode(ev))
                elif kind == "status":
                    if not item.payload:
                        continue  # a cleared retained status
                    if not self.store.update_status(station, wire.decode_status(item.payload)):
                        self.counters.stale_status += 1
                elif kind == "telemetry":
                    tele = wire.decode_telemetry(item.payload)
                    self.store.update_telemetry(station, tele.ts, item.payload)
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
                self._malformed(item, str(exc))
        if not events:
            return
        result = self.store.store_events(events, bodies)
        for topic, payload in kiosk_services.process_events(self.store, events, signer=self.signer):
            self.mqtt.publish(topic, payload, qos=1)
        self.counters.events_stored += result.stored
        self.counters.duplicates += result.duplicates
        self.counters.conflicts += result.conflicts
        for station, seqs in result.acked.items():
            self.mqtt.publish(wire.topic(station, "ack"), wire.encode(wire.Ack(seqs=seqs)), qos=1)
            self.counters.acks_sent += 1

    def _rpc(self, station: str, payload: bytes) -> None:
        try:
            req = wire.decode_rpc_request(payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self._malformed(Inbound(wire.topic(station, "rpc", "req"), payload), str(exc))
            return
        factory = self._store_factory
        if factory is None:
            raise RuntimeError("the hub was started without a store factory for requests")
        self._pool.submit(self._answer, station, req, factory)

    def _answer(self, station: str, req: wire.RpcRequest, factory: Callable[[], Store]) -> None:
        res = self.rpc.dispatch(station, req, factory)
        if res is not None:
            self.mqtt.publish(wire.topic(station, "rpc", "res"), wire.encode(res), qos=1)

    def _malformed(self, item: Inbound, why: str) -> None:
        self.counters.malformed += 1
        now = time.monotonic()
        if now - self.counters.last_malformed_log > 10:
            self.counters.last_malformed_log = now
            log.warning("rejected a malformed message on %s: %s (%d rejected so far)",
                        item.topic, why[:200], self.counters.malformed)
