"""Demo work orders for scripts/screenshots_central.py: reports stored as stations send them, changes made
at central through the console's own code (hub.web.orders) and station changes that arrive later.

    seed_orders(db_url, now)  # then the pages /orders and /orders/SZ-FT-0042-000003
"""

from __future__ import annotations

import uuid

from edge.wire import messages as wire
from hub.web import orders
from hub.web.db import Db
from hub.web.demo import store_event

__all__ = ["ORDER_PAGE", "seed_orders"]

ORDER_PAGE = "/orders/SZ-FT-0042-000003"
W = wire.Priority.WARNING


def _report(place: str, description: str, category: str, phone: str) -> dict[str, object]:
    return {
        "request_id": uuid.uuid4().hex,
        "service": f"report_{category}",
        "category": category,
        "fields": {"location": place, "description": description, "phone": phone},
    }


def _change(ticket: str, action: str, ago: float, now: float, **kw: str) -> dict[str, object]:
    at = wire.utc_now_iso(now - ago)
    return {
        "change": {
            "change_id": uuid.uuid4().hex,
            "ticket": ticket,
            "action": action,
            "by": "7701",
            "at": at,
            "origin": "station",
            **kw,
        }
    }


def seed_orders(db_url: str, now: float) -> None:
    """Work orders: one new past its triage target, one open past 72 h, one referred at central while its
    station (offline) resolved it (kept as refused), a resolved one, a fresh hazard."""
    ft, lh, hq = "SZ-FT-0042", "SZ-LH-0007", "SZ-FT-0051"
    reports = [
        (ft, 2, 2 * 3600, _report("深南大道 6008 号", "停车位纠纷，双方争执", "dispute", "13812345678")),
        (ft, 3, 5 * 3600, _report("幸福路 12 号 3 栋", "楼上深夜噪音扰民", "dispute", "13911112222")),
        (lh, 3, 4 * 86400, _report("东门天桥南侧", "井盖缺失，夜间危险", "hazard", "13700001111")),
        (hq, 1, 20 * 60, _report("华强北路口", "路灯倒伏", "hazard", "13600002222")),
        (hq, 2, 26 * 3600, _report("华发北路", "邻里漏水纠纷", "dispute", "13500003333")),
    ]
    for station, seq, ago, data in reports:
        store_event(db_url, station, seq, "kiosk.report", data, priority=W, at=now - ago)
    triage = _change(f"{lh}-000003", "triage", 4 * 86400 - 600, now, triage="follow_up")
    store_event(db_url, lh, 4, "workorder.change", triage, priority=W, at=now - 4 * 86400 + 600)
    assign = _change(f"{lh}-000003", "assign", 4 * 86400 - 900, now, officer="陈警官")
    store_event(db_url, lh, 5, "workorder.change", assign, priority=W, at=now - 4 * 86400 + 900)
    db = Db(db_url)
    try:
        orders.backfill(db)
        done = f"{hq}-000002"
        orders.central_change(db, done, action="triage", by="zhang.wei", triage="on_spot")
        orders.central_change(db, done, action="assign", by="zhang.wei", officer="刘警官")
        orders.central_change(db, done, action="resolve", by="zhang.wei", outcome="已上门调解，双方达成协议")
        for (ticket,) in db.rows(
            "SELECT ticket FROM console_orders WHERE state='new' AND created_at < ?", (now - 5 * 86400,)
        ):
            # the older reports of the other demo pages (the weekly bulletin's): worked and closed long ago
            orders.central_change(db, ticket, action="triage", by="li.na", triage="follow_up")
            orders.central_change(db, ticket, action="resolve", by="li.na", outcome="已处理完毕")
        referred = f"{ft}-000003"
        orders.central_change(db, referred, action="triage", by="zhang.wei", triage="to_station")
        orders.central_change(db, referred, action="refer", by="zhang.wei", outcome="转交社区人民调解委员会")
    finally:
        db.close()
    # the station, offline meanwhile, had settled it on the spot: its changes arrive later and are refused
    for seq, change in (
        (4, _change(f"{ft}-000003", "triage", 3 * 3600, now, triage="on_spot")),
        (5, _change(f"{ft}-000003", "resolve", 3 * 3600 - 60, now, outcome="现场调解")),
    ):
        store_event(db_url, ft, seq, "workorder.change", change, priority=W)
