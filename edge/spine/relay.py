"""Which accepted events to send next, and when one counts as delivered: a sans-IO state machine.

The relay knows nothing of MQTT or threads; the uplink feeds it (events committed, link up/down,
PUBACKs, hub acks, the time) and it answers with batches to publish and sequence numbers to delete.

- Priority lanes: the highest lane with anything pending is served first, so after an outage the
  alarms go out before older low-priority traffic.
- A batch carries events of one lane, in sequence order, at most `batch_max` events / `batch_bytes`.
- A small window of unconfirmed batches bounds what is in flight; alarms get `alarm_reserve` extra
  slots so a full window of bulk traffic never holds an alarm back.
- An event is delivered only when the hub's application-level ack names its batch and its sequence
  number: an ack confirms only seqs of the in-flight batch it names; anything else (a forged or
  stale ack, a seq that batch does not hold, a batch no longer in flight) is ignored and counted. A batch
  not fully acked within `ack_timeout` seconds (a PUBACK failure code included) goes back to its lane;
  after a reconnect everything unconfirmed is sent again. The hub stores idempotently.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

from edge.spine.records import StoredEvent
from edge.wire.messages import Priority

__all__ = ["Batch", "OutboxRelay"]


@dataclass(slots=True)
class Batch:
    id: int
    priority: Priority
    seqs: list[int]
    bodies: list[bytes]
    sent_at: float = 0.0
    unacked: set[int] = field(default_factory=set)
    attempts: int = 1


class OutboxRelay:
    def __init__(
        self,
        *,
        window: int = 8,
        alarm_reserve: int = 2,
        batch_max: int = 256,
        batch_bytes: int = 256 * 1024,
        ack_timeout: float = 10.0,
        first_batch_id: int = 1,
    ) -> None:
        if window < 1 or batch_max < 1:
            raise ValueError("window and batch_max must be at least 1")
        self.window = window
        self.alarm_reserve = alarm_reserve
        self.batch_max = batch_max
        self.batch_bytes = batch_bytes
        self.ack_timeout = ack_timeout
        self._pending: dict[int, StoredEvent] = {}  # every unconfirmed event, queued or in flight
        self._lanes: dict[Priority, list[int]] = {p: [] for p in Priority}  # heaps of queued seqs
        self._queued: set[int] = set()
        self._in_flight: dict[int, Batch] = {}  # batch id -> batch
        self._seq_batch: dict[int, int] = {}  # seq in flight -> batch id
        # The daemon starts at a random id, so an ack from before a restart rarely names a live batch
        # (and when it does, it can only confirm seqs that batch holds, which the hub did store).
        self._ids = itertools.count(first_batch_id)
        self.connected = False
        self.published_total = 0
        self.resent_total = 0
        self.publish_failures = 0
        self.acks_ignored = 0  # acks naming no batch in flight
        self.seqs_ignored = 0  # seqs an ack named that its batch does not hold (still in flight)

    # ---- inputs --------------------------------------------------------------------------------
    def add(self, events: list[StoredEvent]) -> None:
        for ev in events:
            if ev.seq in self._pending:
                continue
            self._pending[ev.seq] = ev
            self._enqueue(ev.seq)

    def link_up(self) -> None:
        """A (re)connection: everything in flight is unconfirmed and must be sent again."""
        self.connected = True
        self._requeue_all()

    def link_down(self) -> None:
        self.connected = False
        self._requeue_all()

    def on_publish_result(self, batch_id: int, *, ok: bool) -> None:
        """The broker's PUBACK. A failure reason code (not authorised, quota exceeded) is not a success:
        the batch stays unconfirmed and is sent again when its ack timeout expires, not at once (a broker
        that refuses would otherwise be hammered in a tight loop)."""
        if not ok:
            self.publish_failures += 1

    def on_ack(self, batch_id: int, seqs: list[int]) -> list[int]:
        """The hub's ack for batch `batch_id`. Returns the seqs now confirmed (to delete from the outbox):
        only seqs that batch holds and that are still unconfirmed."""
        batch = self._in_flight.get(batch_id)
        if batch is None:
            self.acks_ignored += 1  # forged, or for a batch that timed out or went before a reconnect
            return []
        confirmed = []
        for seq in seqs:
            if seq not in batch.unacked:
                self.seqs_ignored += 1
                continue
            batch.unacked.discard(seq)
            self._seq_batch.pop(seq, None)
            if self._pending.pop(seq, None) is not None:
                confirmed.append(seq)
                self._queued.discard(seq)
        if not batch.unacked:
            del self._in_flight[batch_id]
        return confirmed

    def expire(self, now: float) -> int:
        """Batches unacked for longer than `ack_timeout` go back to their lanes. Returns how many."""
        late = [b for b in self._in_flight.values() if now - b.sent_at >= self.ack_timeout]
        for batch in late:
            self._requeue(batch)
        return len(late)

    # ---- outputs -------------------------------------------------------------------------------
    def next_batches(self, now: float) -> list[Batch]:
        """Batches to publish now, highest priority first, as far as the window allows."""
        out: list[Batch] = []
        if not self.connected:
            return out
        for prio in sorted(Priority, reverse=True):
            limit = self.window + (self.alarm_reserve if prio is Priority.ALARM else 0)
            lane = self._lanes[prio]
            while lane and len(self._in_flight) < limit:
                batch = self._take(prio, lane, now)
                if batch is None:
                    break
                out.append(batch)
        return out

    def oldest_deadline(self) -> float | None:
        """When the earliest in-flight batch times out (for the uplink's timer), or None."""
        if not self._in_flight:
            return None
        return min(b.sent_at for b in self._in_flight.values()) + self.ack_timeout

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def queued(self) -> int:
        return len(self._queued)

    @property
    def unconfirmed(self) -> int:
        return len(self._pending)

    # ---- internals -----------------------------------------------------------------------------
    def _enqueue(self, seq: int) -> None:
        if seq in self._queued:
            return
        self._queued.add(seq)
        heapq.heappush(self._lanes[self._pending[seq].priority], seq)

    def _take(self, prio: Priority, lane: list[int], now: float) -> Batch | None:
        seqs: list[int] = []
        bodies: list[bytes] = []
        size = 0
        while lane and len(seqs) < self.batch_max:
            seq = lane[0]
            if seq not in self._queued:  # confirmed while queued: drop the stale heap entry
                heapq.heappop(lane)
                continue
            body = self._pending[seq].body
            if seqs and size + len(body) > self.batch_bytes:
                break
            heapq.heappop(lane)
            self._queued.discard(seq)
            seqs.append(seq)
            bodies.append(body)
            size += len(body)
        if not seqs:
            return None
        batch = Batch(next(self._ids), prio, seqs, bodies, sent_at=now, unacked=set(seqs))
        self._in_flight[batch.id] = batch
        for seq in seqs:
            self._seq_batch[seq] = batch.id
        self.published_total += 1
        return batch

    def _requeue(self, batch: Batch) -> None:
        self._in_flight.pop(batch.id, None)
        for seq in batch.unacked:
            self._seq_batch.pop(seq, None)
            if seq in self._pending:
                self._enqueue(seq)
                self.resent_total += 1

    def _requeue_all(self) -> None:
        for batch in list(self._in_flight.values()):
            self._requeue(batch)
