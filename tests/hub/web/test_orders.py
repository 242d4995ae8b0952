"""Work orders at central on SQLite and PostgreSQL: reports become orders, station changes are applied in
order by the rule, replays change nothing, a conflict while the link was down ends in one agreed state
with the station's change kept as refused, and every change queues `workorder.state` for its station."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest

from edge.sim.broker import free_port
from edge.wire.messages import Priority
from edge.wire.orders import OrderChange
from hub.web import orders, orders_view
from hub.web.db import Db, DbPool
from hub.web.demo import seed_station, store_event
from hub.web.feed import Feed
from kiosk.requests import ticket_for
from tests.support.procs import PYTHON

ST = "SZ-FT-0042"
TICKET = f"{ST}-000001"
REPORT = {
    "request_id": "r1",
    "service": "report_dispute",
    "category": "dispute",
    "fields": {"location": "幸福路12号", "description": "楼上噪音", "phone": "13812345678"},
}


@pytest.fixture
def db_url(console_db_url: str) -> str:
    seed_station(console_db_url, ST, name="福田深南路警务站", district="福田", incident=None)
    return console_db_url


def change(action: str, seq_note: str = "", *, origin: str = "station", base_rev: int = 0, **kw: str) -> dict[str, Any]:
    c = OrderChange(
        change_id=uuid.uuid4().hex,
        ticket=TICKET,
        action=action,  # type: ignore[arg-type]
        by="crew-7" if origin == "station" else "boss",
        at="2026-12-03T08:05:00Z",
        origin=origin,  # type: ignore[arg-type]
        base_rev=base_rev,
        **kw,  # type: ignore[arg-type]
    )
    return {"change": msgspec.to_builtins(c)}


def commands(db: Db) -> list[dict[str, Any]]:
    rows = db.rows("SELECT target, name, args FROM central_commands WHERE state='queued' ORDER BY id")
    return [{"target": t, "name": n, **json.loads(a)} for t, n, a in rows]


def poll(feed: Feed) -> list[str]:
    return [e.data["state"] for e in feed._poll_alarms(publish=True) if e.name == "order"]


def test_the_ticket_is_the_kiosks() -> None:
    assert orders.ticket_for(ST, 42) == ticket_for(ST, 42) == "SZ-FT-0042-000042"
    assert orders.parse_ticket("SZ-FT-0042-000042") == (ST, 42)
    assert orders.parse_ticket("nonsense") is None


def test_a_report_becomes_an_order_and_station_changes_apply_in_order(db_url: str) -> None:
    pool = DbPool(db_url)
    try:
        feed = Feed(pool, silent_s=90)
        feed.start_cursor()
        store_event(db_url, ST, 1, "kiosk.report", REPORT, priority=Priority.WARNING)
        assert poll(feed) == ["new"]
        db = pool.get()
        order = orders.get(db, TICKET)
        assert order is not None and order.contact == "138****5678" and order.place == "幸福路12号"
        row = db.one("SELECT district, body FROM console_orders WHERE ticket=?", (TICKET,))
        assert row is not None and row[0] == "福田" and "13812345678" not in row[1]
        assert orders.full_contact(db, TICKET) == "13812345678"
        store_event(db_url, ST, 2, "workorder.change", change("triage", triage="follow_up"), priority=Priority.WARNING)
        store_event(db_url, ST, 3, "workorder.change", change("assign", officer="王警官"), priority=Priority.WARNING)
        assert poll(feed) == ["triaged", "assigned"]
        order = orders.get(db, TICKET)
        assert order is not None and (order.state, order.officer, order.rev) == ("assigned", "王警官", 2)
        sent = commands(db)  # one queued state per order: the newer supersedes the unsent older one
        assert [(c["target"], c["name"]) for c in sent] == [(ST, "workorder.state")]
        assert sent[0]["orders"][0]["rev"] == 2 and "13812345678" not in json.dumps(sent, ensure_ascii=False)
    finally:
        pool.close()


def test_replaying_every_event_twice_changes_nothing(db_url: str) -> None:
    store_event(db_url, ST, 1, "kiosk.report", REPORT, priority=Priority.WARNING)
    store_event(db_url, ST, 2, "workorder.change", change("triage", triage="on_spot"), priority=Priority.WARNING)
    store_event(db_url, ST, 3, "workorder.change", change("resolve", outcome="现场调解"), priority=Priority.WARNING)
    pool = DbPool(db_url)
    try:
        db = pool.get()
        orders.backfill(db)
        first = orders.get(db, TICKET)
        assert first is not None and first.state == "resolved" and first.rev == 2
        before = db.rows("SELECT * FROM console_orders")
        queued = commands(db)
        for station, seq, etype, body in db.rows("SELECT station, seq, type, body FROM events ORDER BY seq"):
            for _ in range(2):
                assert orders.project_event(db, station, int(seq), etype, json.loads(body)) == []
        assert db.rows("SELECT * FROM console_orders") == before and commands(db) == queued
        feed = Feed(pool, silent_s=90)  # a new console on the same database: nothing applied again
        feed.start_cursor()
        assert db.rows("SELECT * FROM console_orders") == before
    finally:
        pool.close()


def test_a_conflict_while_the_link_was_down_ends_in_one_agreed_state(db_url: str) -> None:
    """Central triaged and referred the order while the station was offline; the station (offline) had
    triaged and resolved it. Its queued changes arrive later, in order: the triage again fits (the
    triage changes), the resolve no longer does and is kept as refused. The station gets the agreed state."""
    store_event(db_url, ST, 1, "kiosk.report", REPORT, priority=Priority.WARNING)
    db = Db(db_url)
    try:
        orders.backfill(db)
        got = orders.central_change(db, TICKET, action="triage", by="boss", triage="to_station")
        assert got is not None and not got.refused and got.order.rev == 1
        got = orders.central_change(db, TICKET, action="refer", by="boss", base_rev=1, outcome="转交社区调解")
        assert got is not None and got.order.state == "referred"
        refused = orders.central_change(db, TICKET, action="start", by="boss")
        assert refused is not None and refused.refused.startswith("cannot start") and refused.order.rev == 2
        store_event(db_url, ST, 2, "workorder.change", change("triage", triage="on_spot"), priority=Priority.WARNING)
        store_event(db_url, ST, 3, "workorder.change", change("resolve", outcome="现场调解"), priority=Priority.WARNING)
        for seq in (2, 3):
            row = db.one("SELECT body FROM events WHERE station=? AND seq=?", (ST, seq))
            assert row is not None
            orders.project_event(db, ST, seq, "workorder.change", json.loads(row[0]))
        agreed = orders.get(db, TICKET)
        assert agreed is not None and (agreed.state, agreed.outcome) == ("referred", "转交社区调解")
        assert [(s.origin, s.action, bool(s.refused)) for s in agreed.history] == [
            ("central", "triage", False),
            ("central", "refer", False),
            ("station", "triage", True),
            ("station", "resolve", True),
        ]
        sent = commands(db)
        assert len(sent) == 1 and sent[0]["orders"][0]["rev"] == agreed.rev == 4
    finally:
        db.close()


def test_a_change_stored_before_its_report_waits_for_it(db_url: str) -> None:
    store_event(db_url, ST, 2, "workorder.change", change("triage", triage="on_spot"), priority=Priority.WARNING)
    db = Db(db_url)
    try:
        orders.backfill(db)
        assert orders.get(db, TICKET) is None
        store_event(db_url, ST, 1, "kiosk.report", REPORT, priority=Priority.WARNING)
        row = db.one("SELECT body FROM events WHERE station=? AND seq=1", (ST,))
        assert row is not None
        orders.project_event(db, ST, 1, "kiosk.report", json.loads(row[0]))
        order = orders.get(db, TICKET)
        assert order is not None and order.state == "triaged"
        assert db.one("SELECT COUNT(*) FROM console_order_waiting") == (0,)
    finally:
        db.close()


def test_bad_changes_are_ignored_not_fatal(db_url: str) -> None:
    store_event(db_url, ST, 1, "kiosk.report", REPORT, priority=Priority.WARNING)
    db = Db(db_url)
    try:
        orders.backfill(db)
        other = change("triage", triage="on_spot")
        other["change"]["ticket"] = "SZ-XX-0001-000001"  # another station's ticket
        assert orders.project_event(db, ST, 5, "workorder.change", {"data": other}) == []
        assert orders.project_event(db, ST, 6, "workorder.change", {"data": {"change": {"x": 1}}}) == []
        forged = change("triage", origin="central", triage="on_spot")
        assert orders.project_event(db, ST, 7, "workorder.change", {"data": forged}) == []
        with pytest.raises(ValueError, match="action"):
            orders.central_change(db, TICKET, action="delete", by="boss")
        order = orders.get(db, TICKET)
        assert order is not None and order.rev == 0
    finally:
        db.close()


def test_two_hubs_applying_at_once_apply_each_change_once(db_url: str) -> None:
    """Two consoles project the same events and make changes concurrently: revisions never fork."""
    store_event(db_url, ST, 1, "kiosk.report", REPORT, priority=Priority.WARNING)
    setup = Db(db_url)
    orders.backfill(setup)
    setup.close()
    errors: list[BaseException] = []

    def console(n: int) -> None:
        db = Db(db_url)
        try:
            for i in range(10):
                orders.central_change(
                    db, TICKET, action="assign" if i else "triage", by=f"c{n}", officer=f"o{n}{i}", triage="follow_up"
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=console, args=(n,)) for n in range(2)]
    deadline = time.monotonic() + 60
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not errors
    db = Db(db_url)
    try:
        order = orders.get(db, TICKET)
        assert order is not None
        applied = [s for s in order.history if not s.refused]
        assert order.rev == len(applied) == len(order.history)
        assert sum(s.action == "triage" for s in applied) >= 1 and sum(s.action == "assign" for s in applied) == 18
    finally:
        db.close()


def test_the_listing_puts_overdue_orders_first_with_per_station_counts(db_url: str) -> None:
    now = time.time()
    other = "SZ-LH-0007"
    seed_station(db_url, other, name="罗湖东门警务站", district="罗湖", incident=None)
    for station, seq, ago in ((ST, 1, 600), (ST, 2, 2 * 3600), (other, 1, 4 * 86400), (other, 2, 60)):
        store_event(db_url, station, seq, "kiosk.report", REPORT, priority=Priority.WARNING, at=now - ago)
    db = Db(db_url)
    try:
        orders.backfill(db)
        orders.central_change(db, f"{other}-000001", action="triage", by="boss", triage="follow_up")
        orders.central_change(db, f"{other}-000002", action="refer", by="boss", outcome="转交")
        sla = orders_view.Sla(triage_s=3600, open_s=72 * 3600)
        names = {ST: "福田", other: "罗湖"}
        every = orders_view.listing(db, sees=lambda _d: True, names=names, districts={}, sla=sla, chosen={}, now=now)
        assert [(v.order.ticket[-9:], v.overdue) for v in every.rows] == [
            ("42-000002", "triage"),  # new for 2 h
            ("07-000001", "open"),  # triaged, open for 4 days
            ("42-000001", ""),
        ]
        # most overdue first, then the one whose oldest order waited longest
        assert [(c.station, c.open, c.overdue) for c in every.counts] == [(other, 1, 1), (ST, 2, 1)]
        luohu = orders_view.listing(
            db, sees=lambda d: d == "罗湖", names=names, districts={}, sla=sla, chosen={"state": "all"}, now=now
        )
        assert {v.order.ticket for v in luohu.rows} == {f"{other}-000001", f"{other}-000002"}
        late = orders_view.listing(
            db, sees=lambda _d: True, names=names, districts={}, sla=sla, chosen={"state": "overdue"}, now=now
        )
        assert len(late.rows) == 2
    finally:
        db.close()


def test_the_hub_refuses_overdue_targets_that_are_not_positive(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            *PYTHON,
            "hub",
            "--broker",
            "mqtt://127.0.0.1:9",
            "--db",
            str(tmp_path / "h.db"),
            "--http",
            f"127.0.0.1:{free_port()}",
            "--order-open-hours",
            "0",
        ],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2 and b"--order-open-hours" in done.stderr
