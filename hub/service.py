"""The hub's ingest loop: take what the broker delivers, store it, then acknowledge it.

One thread drains the inbox in batches. Each message is decoded and validated on its own
(`hub.ingest`); whatever cannot be stored as what it claims to be goes to the dead-letter table. The
event batches that arrived together are stored in one transaction; if the database refuses that, each
delivery and then each event is stored on its own, and an event the database still refuses is
dead-lettered. Each batch's ack (`police/v1/{station}/ack`, naming the batch) is published only after
the commit. The loop also moves stations through online -> silent -> offline (`hub.liveness`).

The hub exits (non-zero, for systemd to restart it) only when its database is unreachable
(`StoreUnavailableError`): nothing of the failed drain was acknowledged, so stations resend it.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from edge.wire import messages as wire
from edge.wire.commands import CommandSigner
from hub import kiosk_services
from hub.ingest import Delivery, HeartbeatMsg, RpcMsg, StatusMsg, TelemetryMsg, letter, parse
from hub.liveness import LivenessNotifier
from hub.mqtt import HubMqtt, Inbound
from hub.profiling import log_thread_cpu, profiled
from hub.rpc import RpcRegistry
from hub.store import DeadLetter, Store, StoreUnavailableError
from hub.telemetry_history import HistorySettings, HistoryWriter, MinuteRow, Sample

__all__ = ["HubCounters", "HubService", "LivenessSettings"]

log = logging.getLogger(__name__)

_DRAIN_LIMIT = 2000


@dataclass(slots=True)
class HubCounters:
    messages: int = 0
    events_stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    malformed: int = 0  # messages or events dead-lettered
    dead_letter_failures: int = 0
    stale_status: int = 0
    acks_sent: int = 0
    notices: int = 0
    last_malformed_log: float = field(default=0.0)


@dataclass(slots=True)
class _Drain:
    """What one drain of the inbox gathers, to write in as few transactions as possible."""

    deliveries: list[Delivery] = field(default_factory=list)
    heard: dict[str, int | None] = field(default_factory=dict)
    telemetry: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)  # the latest per station
    samples: dict[str, Sample] = field(default_factory=dict)  # their raw rows
    every_sample: list[tuple[str, Sample]] = field(default_factory=list)  # for the minute aggregates
    statuses: list[tuple[str, wire.Status]] = field(default_factory=list)  # in arrival order


@dataclass(frozen=True, slots=True, kw_only=True)
class LivenessSettings:
    silent_after: float = 4.0
    offline_after: float = 60.0
    check_interval: float = 0.5
    heard_granularity: float = 1.0


class HubService:
    def __init__(
        self,
        store: Store,
        mqtt: HubMqtt,
        *,
        rpc: RpcRegistry | None = None,
        store_factory: Callable[[], Store] | None = None,
        rpc_workers: int = 2,
        signer: CommandSigner | None = None,
        liveness: LivenessSettings | None = None,
        history: HistorySettings | None = None,
    ) -> None:
        self.store = store
        self.mqtt = mqtt
        self.inbox = mqtt.inbox
        self.counters = HubCounters()
        self.rpc = rpc or RpcRegistry()
        self.signer = signer
        self.liveness = liveness or LivenessSettings()
        self.notifier = LivenessNotifier()
        self.history = HistoryWriter(history or HistorySettings())
        self._store_factory = store_factory
        self._pool = ThreadPoolExecutor(max_workers=rpc_workers, thread_name_prefix="hub-rpc")
        self._thread: threading.Thread | None = None
        self._next_check = 0.0
        self._written: dict[str, float] = {}  # station -> when its last_heard was last written
        self.failed: BaseException | None = None
        self.on_failure: Callable[[], None] | None = None
        self.on_tick: Callable[[], None] | None = None  # fed from the loop: the systemd watchdog

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="hub-ingest", daemon=False)
        self._thread.start()
        self.mqtt.start()

    def stop(self) -> None:
        log_thread_cpu()
        self.mqtt.stop()
        self.inbox.put(None)
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            if self.failed is None:
                self._flush_minutes()
        self._pool.shutdown(wait=True)

    def _flush_minutes(self) -> None:
        """The open minutes, partial, so that a restart loses none (a later row of the minute merges in)."""
        rows = self.history.minutes.flush()
        try:
            if rows:
                self.store.update_telemetry_many([], (), rows)
        except Exception:
            log.warning("could not write %d open telemetry minutes at stop", len(rows), exc_info=True)

    def run(self) -> None:
        """The ingest loop. Only an unreachable database is fatal (see the module's docstring)."""
        try:
            with profiled("hub"):
                self._run()
        except Exception as exc:
            log.critical("hub ingest failed; exiting so that the service manager restarts the hub", exc_info=True)
            self.failed = exc
            if self.on_failure is not None:
                self.on_failure()

    def _run(self) -> None:
        while True:
            if self.on_tick is not None:
                self.on_tick()
            self._maybe_check()
            try:
                first = self.inbox.get(timeout=max(0.01, self._next_check - time.monotonic()))
            except queue.Empty:
                continue
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
        now = time.time()
        d = _Drain()
        self.counters.messages += len(items)
        for item in items:
            try:
                self._one(item, now, d)
            except StoreUnavailableError:
                raise
            except Exception as exc:
                log.exception("handling a message on %s failed", item.topic[:200])
                self._dead_letter(letter(item.topic, "", item.payload, f"internal error: {exc!r}", now))
        if d.statuses:
            self._statuses(d.statuses, now)
        if d.deliveries:
            self._store(d.deliveries, now)
        minutes = self.history.aggregate(d.every_sample, now)
        if d.telemetry or minutes:
            self._telemetry(list(d.telemetry.values()), now, self.history.due(d.samples, now), minutes)
        if d.heard:
            self._heard(d.heard, now)

    def _one(self, item: Inbound, now: float, d: _Drain) -> None:
        parsed, letters = parse(item.topic, item.payload, now)
        for dead in letters:
            self._dead_letter(dead)
        if parsed is None:
            return
        station = parsed.station
        if isinstance(parsed, Delivery):
            d.deliveries.append(parsed)
            d.heard.setdefault(station, None)
        elif isinstance(parsed, StatusMsg):
            if parsed.status is not None:  # None: a cleared retained status
                d.statuses.append((station, parsed.status))
        elif isinstance(parsed, TelemetryMsg):
            d.telemetry[station] = (station, parsed.ts, parsed.body)  # the latest of the drain wins
            if parsed.sample is not None:
                d.samples[station] = parsed.sample
                d.every_sample.append((station, parsed.sample))
            d.heard.setdefault(station, None)
        elif isinstance(parsed, HeartbeatMsg):
            prev = d.heard.get(station)
            d.heard[station] = parsed.counter if prev is None else max(prev, parsed.counter)
        elif isinstance(parsed, RpcMsg):
            d.heard.setdefault(station, None)
            self._rpc(station, parsed.request)

    # ---- events --------------------------------------------------------------------------------
    def _store(self, deliveries: list[Delivery], now: float) -> None:
        try:
            self._commit([e for d in deliveries for e in d.events], [b for d in deliveries for b in d.bodies])
        except StoreUnavailableError:
            raise
        except Exception as exc:  # noqa: BLE001 - the database refused something: find what, store the rest
            log.warning(
                "the database refused a drain of %d deliveries (%s); storing them one by one", len(deliveries), exc
            )
            for d in deliveries:
                self._store_one_by_one(d, now)
        for d in deliveries:
            seqs = sorted({*(e.seq for e in d.events), *d.refused})
            if seqs:
                self.mqtt.publish(wire.topic(d.station, "ack"), wire.encode(wire.Ack(seqs=seqs, batch=d.batch)), qos=1)
                self.counters.acks_sent += 1

    def _commit(self, events: list[wire.Event], bodies: list[bytes]) -> None:
        if not events:
            return
        result = self.store.store_events(events, bodies)
        self.counters.events_stored += result.stored
        self.counters.duplicates += result.duplicates
        self.counters.conflicts += result.conflicts
        try:
            replies = kiosk_services.process_events(self.store, events, signer=self.signer)
        except StoreUnavailableError:
            raise
        except Exception:
            log.exception("answering kiosk requests failed")
            return
        for topic, payload in replies:
            self.mqtt.publish(topic, payload, qos=1)

    def _store_one_by_one(self, d: Delivery, now: float) -> None:
        try:
            self._commit(d.events, d.bodies)
            return
        except StoreUnavailableError:
            raise
        except Exception as exc:  # noqa: BLE001 - one of its events is refused: find which
            log.info("the database refused a delivery of %s (%s); storing its events one by one", d.station, exc)
        for ev, body in zip(d.events, d.bodies):
            try:
                self._commit([ev], [body])
            except StoreUnavailableError:
                raise
            except Exception as exc:  # noqa: BLE001
                self._dead_letter(
                    letter(
                        wire.topic(d.station, "event"), d.station, body, f"the database refused the event: {exc}", now
                    )
                )

    def _statuses(self, statuses: list[tuple[str, wire.Status]], now: float) -> None:
        """Every status of the drain in one transaction (2,000 wills at once are one commit)."""
        try:
            results = self.store.apply_statuses(statuses, now)
        except StoreUnavailableError:
            raise
        except Exception as exc:  # noqa: BLE001 - validated already; one the database refuses is kept aside
            log.warning("the database refused %d statuses together (%s); one by one", len(statuses), exc)
            results = []
            for station, status in statuses:
                try:
                    results.append(self.store.apply_status(station, status, now))
                except StoreUnavailableError:
                    raise
                except Exception as one:  # noqa: BLE001
                    results.append((True, None))
                    self._dead_letter(
                        letter(
                            wire.topic(station, "status"),
                            station,
                            wire.encode(status),
                            f"the database refused the status: {one}",
                            now,
                        )
                    )
        for ok, change in results:
            if not ok:
                self.counters.stale_status += 1
            if change is not None:
                self.notifier.feed([change])

    def _telemetry(
        self,
        reports: list[tuple[str, str, bytes]],
        now: float,
        history: list[tuple[str, float, Sample]],
        minutes: list[MinuteRow],
    ) -> None:
        try:
            self.store.update_telemetry_many(reports, history, minutes)
        except StoreUnavailableError:
            raise
        except Exception as exc:  # noqa: BLE001 - validated already; one the database refuses is kept aside
            log.warning("the database refused %d telemetry reports together (%s); one by one", len(reports), exc)
            try:
                self.store.update_telemetry_many([], (), minutes)
            except StoreUnavailableError:
                raise
            except Exception:
                log.warning("the database refused %d telemetry minutes", len(minutes), exc_info=True)
            for station, ts, body in reports:
                try:
                    self.store.update_telemetry(station, ts, body)
                except StoreUnavailableError:
                    raise
                except Exception as one:  # noqa: BLE001
                    self._dead_letter(
                        letter(
                            wire.topic(station, "telemetry"),
                            station,
                            body,
                            f"the database refused the report: {one}",
                            now,
                        )
                    )

    def _heard(self, heard: dict[str, int | None], now: float) -> None:
        """Record who was heard. A station written less than `heard_granularity` s ago is skipped (its
        last_heard is then at most that much behind): 2,000 stations' heartbeats cost one write per
        station per second at most, and a station coming back from silence is written at once."""
        grain = self.liveness.heard_granularity
        due = {st: c for st, c in heard.items() if now - self._written.get(st, 0.0) >= grain}
        if not due:
            return
        self.notifier.feed(self.store.heard(due, now))
        for st in due:
            self._written[st] = now
        if len(self._written) > 100_000:  # stations come and go: forget the oldest half
            keep = sorted(self._written.items(), key=lambda kv: kv[1])[len(self._written) // 2 :]
            self._written = dict(keep)

    # ---- the rest ------------------------------------------------------------------------------
    def _dead_letter(self, dead: DeadLetter) -> None:
        self.counters.malformed += 1
        try:
            self.store.dead_letter(dead)
        except StoreUnavailableError:
            raise
        except Exception:
            self.counters.dead_letter_failures += 1
            log.exception("could not keep a dead letter from %s", dead.topic)
        now = time.monotonic()
        if now - self.counters.last_malformed_log > 10:
            self.counters.last_malformed_log = now
            log.warning(
                "refused a message on %s: %s (%d refused so far; see `police-kiosk hub dead-letters`)",
                dead.topic,
                dead.reason[:200],
                self.counters.malformed,
            )

    def _maybe_check(self) -> None:
        mono = time.monotonic()
        if mono < self._next_check:
            return
        self._next_check = mono + self.liveness.check_interval
        now = time.time()
        lv = self.liveness
        self.notifier.feed(self.store.check_liveness(now, silent_after=lv.silent_after, offline_after=lv.offline_after))
        notices = self.notifier.flush(now, known=self.store.count_stations())
        for n in notices:
            self.counters.notices += 1
            log.log(logging.INFO if n.text.endswith("online") else logging.WARNING, "%s", n.text)
            if n.kind in ("mass_outage", "mass_outage_over"):  # for the console's stations page
                value = json.dumps({"down": n.count, "text": n.text}) if n.kind == "mass_outage" else ""
                self.store.set_hub_state("mass_outage", value, now)
        closed = self.history.aggregate([], now)  # the minutes of stations that went quiet
        if closed:
            self._telemetry([], now, [], closed)
        upkeep = self.history.upkeep(now)
        if upkeep is not None:
            try:
                self.store.telemetry_upkeep(upkeep, self.history.settings.purge_batch)
            except StoreUnavailableError:
                raise
            except Exception:
                log.warning("the telemetry history's upkeep failed", exc_info=True)

    def _rpc(self, station: str, req: wire.RpcRequest) -> None:
        factory = self._store_factory
        if factory is None:
            raise RuntimeError("the hub was started without a store factory for requests")
        self._pool.submit(self._answer, station, req, factory)

    def _answer(self, station: str, req: wire.RpcRequest, factory: Callable[[], Store]) -> None:
        res = self.rpc.dispatch(station, req, factory)
        if res is not None:
            self.mqtt.publish(wire.topic(station, "rpc", "res"), wire.encode(res), qos=1)
