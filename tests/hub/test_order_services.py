"""Stations asking central about work orders, on SQLite and PostgreSQL: `workorder.status` answers any
station's ticket with its public status only, `workorder.sync` only the asking station's own orders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.wire import messages as wire
from edge.wire.errors import INVALID_PARAMS, NOT_FOUND
from edge.wire.messages import Priority
from hub import order_services
from hub.rpc import RpcRegistry
from hub.store import Store, open_store
from hub.web import orders
from hub.web.db import Db
from hub.web.demo import store_event

A, B = "SZ-FT-0042", "SZ-LH-0007"
REPORT = {
    "request_id": "r1",
    "service": "report_hazard",
    "category": "hazard",
    "fields": {"location": "东门天桥", "description": "井盖缺失", "phone": "13912345678"},
}


@pytest.fixture
def world(console_db_url: str) -> Iterator[tuple[str, Store]]:
    store = open_store(console_db_url)
    try:
        yield console_db_url, store
    finally:
        store.close()


def ask(store: Store, station: str, method: str, params: dict[str, Any]) -> wire.RpcResponse:
    rpc = RpcRegistry()
    order_services.register(rpc)
    got = rpc.dispatch(station, wire.RpcRequest(id="1", method=method, params=params), lambda: store)
    assert got is not None
    return got


def test_status_answers_any_stations_ticket_without_personal_data(world: tuple[str, Store]) -> None:
    url, store = world
    store_event(url, A, 1, "kiosk.report", REPORT, priority=Priority.WARNING)
    early = ask(store, B, "workorder.status", {"ticket": f"{A}-000001"})  # stored, not projected yet: new
    assert early.result is not None and early.result["state"] == "new"
    db = Db(url)
    try:
        orders.backfill(db)
        orders.central_change(db, f"{A}-000001", action="triage", by="boss", triage="on_spot")
        orders.central_change(db, f"{A}-000001", action="assign", by="boss", officer="王警官")
        orders.central_change(db, f"{A}-000001", action="resolve", by="boss", outcome="已通知市政修复")
    finally:
        db.close()
    got = ask(store, B, "workorder.status", {"ticket": f"{A}-000001"})  # asked at another station's kiosk
    assert got.result == {**got.result, "state": "resolved", "outcome": "已通知市政修复", "triage": "on_spot"}
    text = json.dumps(got.result, ensure_ascii=False)
    assert "王警官" not in text and "1391234" not in text and "东门天桥" not in text
    missing = ask(store, A, "workorder.status", {"ticket": f"{A}-000099"})
    assert missing.error is not None and missing.error.code == NOT_FOUND
    bad = ask(store, A, "workorder.status", {"ticket": "../etc/passwd"})
    assert bad.error is not None and bad.error.code == INVALID_PARAMS


def test_sync_returns_only_the_asking_stations_orders(world: tuple[str, Store]) -> None:
    url, store = world
    store_event(url, A, 1, "kiosk.report", REPORT, priority=Priority.WARNING)
    store_event(url, B, 1, "kiosk.report", REPORT, priority=Priority.WARNING)
    db = Db(url)
    try:
        orders.backfill(db)
    finally:
        db.close()
    got = ask(store, A, "workorder.sync", {"tickets": [f"{A}-000001", f"{B}-000001", f"{A}-000002"]})
    assert got.result is not None and [o["ticket"] for o in got.result["orders"]] == [f"{A}-000001"]
    assert got.result["orders"][0]["contact"] == "139****5678"
    bad = ask(store, A, "workorder.sync", {"tickets": "all"})
    assert bad.error is not None and bad.error.code == INVALID_PARAMS


def test_status_works_on_a_hub_that_never_ran_the_console(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bare.db'}"
    store = open_store(url)
    try:
        store_event(url, A, 3, "kiosk.report", REPORT, priority=Priority.WARNING)
        got = ask(store, A, "workorder.status", {"ticket": f"{A}-000003"})
        assert got.result is not None and got.result["state"] == "new"
    finally:
        store.close()
