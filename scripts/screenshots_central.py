"""Render every page of the central command console, in Chinese and English, with the real browser.

    .venv/bin/python scripts/screenshots_central.py docs/screenshots/central [--size 1920x1080]

Starts a Mosquitto and the hub with `--http` on free loopback ports over a fresh database seeded with
stations in three districts (one silent, one offline, one with a fault) and incidents in several states
(a new panic, one acknowledged, one dispatched past its 1-minute target and escalated), then signs in as
command staff in Debian's chromium (Playwright, /usr/bin/chromium; nothing is downloaded) and saves
login, alarms, incident, stations, work orders, one work order and audit pages as `central-PAGE-LANG.png`.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.sim.broker import MosquittoProcess, free_port
from edge.wire import messages as wire
from hub.web import orders
from hub.web.accounts import Accounts
from hub.web.console import prepare_database
from hub.web.db import Db
from hub.web.demo import incident_dict, seed_station, store_change, store_event

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "demo-pass-1"  # noqa: S105 - a throwaway account in a temporary database


def seed(db_url: str) -> dict[str, str]:
    prepare_database(db_url)
    db = Db(db_url)
    try:
        Accounts(db).add_user("zhang.wei", "command", PASSWORD, actor="cli:demo")
        Accounts(db).add_user("li.na", "district", PASSWORD, district="福田", actor="cli:demo")
    finally:
        db.close()
    now = time.time()
    new = incident_dict("INC-20261203-0931-a1f0", now - 25, site="阳光小学", site_en="Sunshine Primary School")
    seed_station(db_url, "SZ-FT-0042", name="福田深南路警务站", district="福田", incident=new, position=(22.54, 114.05))
    acked = incident_dict(
        "INC-20261203-0928-77c2", now - 200, site="育才中学", site_en="Yucai Middle School", account="2001"
    )
    seed_station(db_url, "SZ-LH-0007", name="罗湖东门警务站", district="罗湖", incident=acked, position=(22.55, 114.12))
    acked = dict(
        acked,
        state="dispatched",
        rev=3,
        acked_at=now - 190,
        dispatched_at=now - 120,
        unit="巡逻 3",
        missed=["respond"],
        escalations=1,
        timeline=[
            *acked["timeline"],
            {"at": now - 190, "what": "acknowledged", "by": "7701", "detail": ""},
            {"at": now - 140, "what": "escalated", "by": "", "detail": "respond"},
            {"at": now - 120, "what": "dispatched", "by": "7701", "detail": "巡逻 3"},
        ],
    )
    store_change(db_url, "SZ-LH-0007", 2, acked, "dispatched", by="7701")
    seed_station(
        db_url,
        "SZ-NS-0113",
        name="南山科技园警务站",
        district="南山",
        incident=None,
        heard_ago=400,
        position=(22.53, 113.95),
    )
    seed_station(
        db_url,
        "SZ-NS-0120",
        name="南山后海警务站",
        district="南山",
        incident=None,
        state="offline",
        heard_ago=3600,
        position=(22.51, 113.94),
    )
    seed_station(
        db_url,
        "SZ-FT-0051",
        name="福田华强北警务站",
        district="福田",
        incident=None,
        depth=37,
        faults=("printer.paper_out",),
        position=(22.55, 114.09),
    )
    seed_orders(db_url, now)
    return {"incident": "/incidents/SZ-LH-0007/INC-20261203-0928-77c2", "order": "/orders/SZ-FT-0042-000003"}


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
    iso = wire.utc_now_iso
    ft, lh = "SZ-FT-0042", "SZ-LH-0007"
    store_event(
        db_url,
        ft,
        2,
        "kiosk.report",
        _report("深南大道 6008 号", "停车位纠纷，双方争执", "dispute", "13812345678"),
        ts=iso(now - 2 * 3600),
    )
    store_event(
        db_url,
        ft,
        3,
        "kiosk.report",
        _report("幸福路 12 号 3 栋", "楼上深夜噪音扰民", "dispute", "13911112222"),
        ts=iso(now - 5 * 3600),
    )
    store_event(
        db_url,
        lh,
        3,
        "kiosk.report",
        _report("东门天桥南侧", "井盖缺失，夜间危险", "hazard", "13700001111"),
        ts=iso(now - 4 * 86400),
    )
    store_event(
        db_url, lh, 4, "workorder.change", _change(f"{lh}-000003", "triage", 4 * 86400 - 600, now, triage="follow_up")
    )
    store_event(
        db_url, lh, 5, "workorder.change", _change(f"{lh}-000003", "assign", 4 * 86400 - 900, now, officer="陈警官")
    )
    store_event(
        db_url,
        "SZ-FT-0051",
        1,
        "kiosk.report",
        _report("华强北路口", "路灯倒伏", "hazard", "13600002222"),
        ts=iso(now - 20 * 60),
    )
    store_event(
        db_url,
        "SZ-FT-0051",
        2,
        "kiosk.report",
        _report("华发北路", "邻里漏水纠纷", "dispute", "13500003333"),
        ts=iso(now - 26 * 3600),
    )
    db = Db(db_url)
    try:
        orders.backfill(db)
        done = "SZ-FT-0051-000002"
        orders.central_change(db, done, action="triage", by="zhang.wei", triage="on_spot")
        orders.central_change(db, done, action="assign", by="zhang.wei", officer="刘警官")
        orders.central_change(db, done, action="resolve", by="zhang.wei", outcome="已上门调解，双方达成协议")
        referred = f"{ft}-000003"
        orders.central_change(db, referred, action="triage", by="zhang.wei", triage="to_station")
        orders.central_change(db, referred, action="refer", by="zhang.wei", outcome="转交社区人民调解委员会")
    finally:
        db.close()
    # the station, offline meanwhile, had settled it on the spot: its changes arrive later and are refused
    store_event(db_url, ft, 4, "workorder.change", _change(f"{ft}-000003", "triage", 3 * 3600, now, triage="on_spot"))
    store_event(
        db_url, ft, 5, "workorder.change", _change(f"{ft}-000003", "resolve", 3 * 3600 - 60, now, outcome="现场调解")
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--size", default="1920x1080")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="pk-central-shots-") as tmp:
        work = Path(tmp)
        db_url = f"sqlite:///{work / 'hub.db'}"
        paths = seed(db_url)
        broker = MosquittoProcess(work / "mosquitto")
        broker.start()
        port = free_port()
        hub = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "police_kiosk",
                "hub",
                "--broker",
                broker.url,
                "--db",
                db_url,
                "--http",
                f"127.0.0.1:{port}",
                "--log-level",
                "WARNING",
            ],
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    with urllib.request.urlopen(url + "/login", timeout=1):  # noqa: S310 - our own http URL
                        break
                except OSError:
                    time.sleep(0.1)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                for lang in ("zh", "en"):
                    ctx = browser.new_context(viewport={"width": width, "height": height})
                    page = ctx.new_page()
                    page.goto(f"{url}/lang/{lang}?next=/login")
                    page.screenshot(path=str(args.out / f"central-login-{lang}.png"))
                    page.fill("#name", "zhang.wei")
                    page.fill("#password", PASSWORD)
                    page.click("form.login button[type=submit]")
                    page.wait_for_url(f"{url}/alarms")
                    page.wait_for_timeout(1500)  # the feed has read the seeded incidents
                    for name, path in (
                        ("alarms", "/alarms"),
                        ("incident", paths["incident"]),
                        ("stations", "/stations"),
                        ("orders", "/orders"),
                        ("order", paths["order"]),
                        ("audit", "/audit"),
                    ):
                        page.goto(url + path)
                        page.wait_for_timeout(500)  # never "networkidle": the event stream stays open
                        page.screenshot(path=str(args.out / f"central-{name}-{lang}.png"), full_page=True)
                        print(args.out / f"central-{name}-{lang}.png")
                    ctx.close()
                browser.close()
        finally:
            hub.send_signal(signal.SIGTERM)
            hub.wait(timeout=20)
            broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
