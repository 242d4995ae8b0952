"""The relay's decisions with a fake clock: lanes, window, acks, timeouts, link loss."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.spine.records import StoredEvent
from edge.spine.relay import OutboxRelay
from edge.wire.messages import Priority


def ev(seq: int, prio: Priority = Priority.INFO, size: int = 10) -> StoredEvent:
    return StoredEvent(seq, f"id-{seq}", prio, 0.0, b"x" * size)


def test_alarms_overtake_older_low_priority_traffic_after_an_outage() -> None:
    r = OutboxRelay(window=1, batch_max=5)
    r.add([ev(s) for s in range(1, 11)])
    r.add([ev(11, Priority.ALARM), ev(12, Priority.WARNING)])
    r.link_up()
    batches = r.next_batches(0.0)
    assert next(b.priority for b in batches) is Priority.ALARM
    assert batches[0].seqs == [11]


def test_window_bounds_unconfirmed_batches_and_alarms_have_reserve_slots() -> None:
    r = OutboxRelay(window=2, alarm_reserve=1, batch_max=1)
    r.add([ev(s) for s in range(1, 6)])
    r.link_up()
    b1, b2 = r.next_batches(0.0)
    assert [b1.seqs, b2.seqs] == [[1], [2]]
    assert r.next_batches(0.0) == []  # window full
    r.add([ev(6, Priority.ALARM)])
    out = r.next_batches(0.0)
    assert [b.seqs for b in out] == [[6]]  # the alarm uses the reserve slot
    assert r.on_ack(b1.id, [1]) == [1]
    assert [b.seqs for b in r.next_batches(0.0)] == []  # 3 in flight, window 2: still full
    assert r.on_ack(b2.id, [2]) + r.on_ack(out[0].id, [6]) == [2, 6]
    assert [b.seqs for b in r.next_batches(0.0)] == [[3], [4]]


def test_batches_follow_sequence_order_and_size_limits() -> None:
    r = OutboxRelay(window=4, batch_max=3, batch_bytes=25)
    r.add([ev(s) for s in (5, 3, 4, 1, 2)])
    r.link_up()
    batches = r.next_batches(0.0)
    assert [b.seqs for b in batches] == [[1, 2], [3, 4], [5]]


def test_unacked_batches_are_resent_after_the_timeout_only() -> None:
    r = OutboxRelay(window=4, ack_timeout=10.0)
    r.add([ev(1), ev(2)])
    r.link_up()
    (b,) = r.next_batches(0.0)
    assert r.expire(9.9) == 0
    r.on_ack(b.id, [1])
    assert r.expire(10.0) == 1
    (again,) = r.next_batches(10.0)
    assert again.seqs == [2]
    assert r.resent_total == 1


def test_puback_failure_is_retried_after_the_ack_timeout_not_at_once() -> None:
    r = OutboxRelay(window=4, ack_timeout=10.0)
    r.add([ev(1)])
    r.link_up()
    (b,) = r.next_batches(0.0)
    r.on_publish_result(b.id, ok=True)
    assert r.next_batches(0.0) == []
    r.on_publish_result(b.id, ok=False)
    assert r.publish_failures == 1
    assert r.next_batches(1.0) == []  # no hot loop against a broker that refuses
    assert r.unconfirmed == 1  # and not confirmed either
    r.expire(10.0)
    assert [x.seqs for x in r.next_batches(10.0)] == [[1]]


def test_nothing_is_sent_while_down_and_everything_unconfirmed_goes_again_on_reconnect() -> None:
    r = OutboxRelay(window=4, batch_max=2)
    r.add([ev(s) for s in range(1, 5)])
    assert r.next_batches(0.0) == []
    r.link_up()
    first, _ = r.next_batches(0.0)
    r.on_ack(first.id, [1])
    r.link_down()
    r.link_up()
    assert [b.seqs for b in r.next_batches(1.0)] == [[2, 3], [4]]


def test_duplicate_and_unknown_acks_are_harmless() -> None:
    r = OutboxRelay()
    r.add([ev(1), ev(2)])
    r.link_up()
    (b,) = r.next_batches(0.0)
    assert r.on_ack(b.id, [1, 1, 99]) == [1]
    assert r.seqs_ignored == 2, "the repeated 1 and the 99 its batch never held"
    assert r.on_ack(b.id, [1]) == []
    assert r.on_ack(b.id, [2]) == [2]
    assert r.on_ack(b.id, [2]) == [], "the batch is complete: no longer in flight"
    assert r.acks_ignored == 1
    assert r.unconfirmed == 0
    assert r.in_flight == 0


def test_an_ack_confirms_only_seqs_of_the_in_flight_batch_it_names() -> None:
    r = OutboxRelay(window=4, batch_max=2, first_batch_id=1000)
    r.add([ev(s) for s in range(1, 7)])
    r.link_up()
    a, b, _c = r.next_batches(0.0)
    assert a.id == 1000
    r.add([ev(7)])  # queued, never sent
    # A forged ack: no batch named, or a batch never sent, or the right batch with seqs of others.
    assert r.on_ack(0, [1, 2, 3, 4, 5, 6, 7]) == []
    assert r.on_ack(999_999, [1, 2, 3, 4, 5, 6, 7]) == []
    assert r.acks_ignored == 2
    assert r.on_ack(a.id, [3, 4, 7]) == [], "seqs of other batches and of the queue are not a's"
    assert r.unconfirmed == 7
    assert r.on_ack(b.id, [3, 4]) == [3, 4]
    # A batch that timed out went back to its lane: a late ack for it confirms nothing (it is resent).
    r.expire(100.0)
    assert r.on_ack(a.id, [1, 2]) == []
    assert r.unconfirmed == 5


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("add"), st.sampled_from(list(Priority))),
            st.tuples(st.just("pump"), st.none()),
            st.tuples(st.just("ack_some"), st.integers(0, 5)),
            st.tuples(st.just("drop_link"), st.none()),
            st.tuples(st.just("tick"), st.none()),
            st.tuples(st.just("fail"), st.none()),
        ),
        max_size=80,
    )
)
def test_every_event_is_confirmed_exactly_once_whatever_happens(ops: list[tuple[str, object]]) -> None:
    r = OutboxRelay(window=3, alarm_reserve=1, batch_max=4, ack_timeout=5.0)
    now = 0.0
    seq = 0
    added: set[int] = set()
    confirmed: list[int] = []
    flying: list[tuple[int, list[int]]] = []
    r.link_up()
    for op, arg in ops:
        if op == "add":
            seq += 1
            added.add(seq)
            r.add([ev(seq, arg)])  # type: ignore[arg-type]
        elif op == "pump":
            flying += [(b.id, b.seqs) for b in r.next_batches(now)]
        elif op == "ack_some" and flying:
            confirmed += r.on_ack(*flying.pop(int(arg) % len(flying)))  # type: ignore[call-overload]
        elif op == "drop_link":
            r.link_down()
            r.link_up()
        elif op == "tick":
            now += 6.0
            r.expire(now)
        elif op == "fail" and r._in_flight:
            r.on_publish_result(next(iter(r._in_flight)), ok=False)
    # The link stays up and the hub acks whatever arrives: everything ends confirmed, once.
    for _ in range(1000):
        batches = r.next_batches(now)
        if not batches and r.in_flight == 0:
            break
        for b in batches:
            confirmed += r.on_ack(b.id, b.seqs)
        now += 6.0
        r.expire(now)
    assert sorted(confirmed) == sorted(added)
    assert len(confirmed) == len(set(confirmed))
    assert r.unconfirmed == 0
