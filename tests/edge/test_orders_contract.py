"""The work-order contract: the state machine and the rule by which station and central agree."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from edge.wire import payloads
from edge.wire.orders import (
    ChangeRefusedError,
    OrderChange,
    WorkOrder,
    apply,
    mask_contact,
    new_order,
    pending_after,
    public_status,
    refusal,
)


def order() -> WorkOrder:
    return new_order(
        "SZ-FT-0001-000042",
        "SZ-FT-0001",
        category="dispute",
        service="report_dispute",
        fields={"location": "幸福路12号", "description": "楼上噪音", "phone": "13812345678"},
        created_at="2026-12-03T08:00:00Z",
    )


def change(action: str, origin: str = "station", **kw: str) -> OrderChange:
    return OrderChange(
        change_id=uuid.uuid4().hex,
        ticket="SZ-FT-0001-000042",
        action=action,  # type: ignore[arg-type]
        by="crew-7",
        at="2026-12-03T08:05:00Z",
        origin=origin,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_a_new_order_keeps_only_the_masked_contact() -> None:
    o = order()
    assert o.state == "new" and o.place == "幸福路12号" and o.description == "楼上噪音"
    assert o.contact == "138****5678" and "12345678" not in msgspec.json.encode(o).decode()


def test_the_whole_life_of_an_order() -> None:
    o = order()
    for c in (
        change("triage", triage="follow_up"),
        change("assign", officer="王警官"),
        change("start"),
        change("resolve", outcome="双方已调解"),
    ):
        o = apply(o, c)
    assert (o.state, o.triage, o.officer, o.outcome) == ("resolved", "follow_up", "王警官", "双方已调解")
    assert [s.state for s in o.history] == ["triaged", "assigned", "in_progress", "resolved"]
    assert public_status(o)["outcome"] == "双方已调解" and "officer" not in public_status(o)


@pytest.mark.parametrize(
    ("first", "then"),
    [("resolve", "start"), ("refer", "assign"), ("new", "start"), ("new", "resolve")],
)
def test_changes_that_do_not_fit_the_state_are_refused(first: str, then: str) -> None:
    o = order()
    if first != "new":
        o = apply(o, change("triage", triage="on_spot"))
        o = apply(o, change(first, outcome="done"))
    with pytest.raises(ChangeRefusedError):
        apply(o, change(then, officer="x", outcome="y"))


def test_a_change_missing_what_its_action_needs_is_refused() -> None:
    with pytest.raises(ChangeRefusedError, match="triage needs"):
        apply(order(), change("triage"))
    o = apply(order(), change("triage", triage="to_station"))
    with pytest.raises(ChangeRefusedError, match="officer"):
        apply(o, change("assign", officer="  "))
    with pytest.raises(ChangeRefusedError, match="outcome"):
        apply(o, change("resolve"))


def test_a_change_seen_twice_is_applied_once() -> None:
    c = change("triage", triage="follow_up")
    once = apply(order(), c)
    assert apply(once, c) == once
    assert refusal(once, c, "again") == once


def test_conflict_while_the_link_was_down_central_first_wins_and_the_other_is_kept_as_refused() -> None:
    """Both sides triaged, then central referred the order and the station (offline) resolved it: central
    applied its own change first, so the station's arrives at a referred order and is refused."""
    agreed = apply(order(), change("triage", "central", triage="to_station"))
    agreed = apply(agreed, change("refer", "central", outcome="转交社区"))
    station_resolve = change("resolve", outcome="现场调解")
    try:
        agreed = apply(agreed, station_resolve)
    except ChangeRefusedError as exc:
        agreed = refusal(agreed, station_resolve, str(exc))
    assert agreed.state == "referred" and agreed.outcome == "转交社区"
    assert agreed.history[-1].refused.startswith("cannot resolve") and agreed.history[-1].origin == "station"


def test_the_station_view_is_centrals_copy_plus_its_unseen_changes() -> None:
    agreed = apply(order(), change("triage", "central", triage="follow_up"))
    mine_seen = change("assign", officer="李")
    agreed = apply(agreed, mine_seen)
    mine_new = change("start")
    view, still = pending_after(agreed, [mine_seen, mine_new])
    assert still == [mine_new] and view.state == "in_progress"
    # a pending change that no longer fits is left out of the view but still pending (central decides)
    closed = apply(agreed, change("refer", "central", outcome="x"))
    view, still = pending_after(closed, [mine_new])
    assert view.state == "referred" and still == [mine_new]


def test_the_change_event_is_registered_and_strict() -> None:
    c = change("triage", triage="on_spot")
    data = payloads.validate("workorder.change", {"change": msgspec.to_builtins(c)})
    assert data["change"]["ticket"] == c.ticket
    with pytest.raises(payloads.PayloadError):
        payloads.validate("workorder.change", {"change": {**msgspec.to_builtins(c), "ticket": "../etc"}})
    with pytest.raises(payloads.PayloadError):
        payloads.validate("workorder.change", {"change": {**msgspec.to_builtins(c), "action": "delete"}})


@pytest.mark.parametrize(
    ("raw", "masked"), [("13812345678", "138****5678"), ("", ""), ("12345", "*****"), (" 010-1234567 ", "010****4567")]
)
def test_mask_contact(raw: str, masked: str) -> None:
    assert mask_contact(raw) == masked
