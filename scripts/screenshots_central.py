"""Render every page of the central command console, in Chinese and English, with the real browser.

    .venv/bin/python scripts/screenshots_central.py docs/screenshots/central [--size 1920x1080]

Starts a Mosquitto and the hub with `--http` on free loopback ports over a fresh database seeded with
stations in three districts (one silent, one offline, one with a fault) and incidents in several states
(a new panic, one acknowledged, one dispatched past its 1-minute target and escalated), then signs in as
command staff in Debian's chromium (Playwright, /usr/bin/chromium; nothing is downloaded) and saves
login, alarms, incident, stations, work orders, one work order, audit, patrol, response statistics and station
pages as `central-PAGE-LANG.png`.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.sim.broker import MosquittoProcess, free_port
from hub.bulletin import Week
from hub.web.accounts import Accounts
from hub.web.bulletin_demo import incident_at, report, store_at
from hub.web.console import prepare_database
from hub.web.db import Db
from hub.web.demo import incident_dict, seed_station, store_change
from hub.web.demo_history import seed_incidents, seed_telemetry
from hub.web.patrol_demo import seed_patrol
from scripts.central_orders_demo import ORDER_PAGE, seed_orders
from scripts.central_push_demo import fill_notice_form, seed_push_pages, signing_key

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
    # last week and the week before at 福田: reports and alarms for the weekly bulletin
    week = Week.of(now).shifted(-1)
    start = week.bounds()[0]
    day = 86400.0
    items: list[tuple[int, str, float, dict[str, object]]] = []
    reports = [("dispute", -6), ("dispute", -5), ("hazard", -4), ("dispute", -3), ("hazard", -2)]  # the week before
    reports += [("dispute", 1), ("dispute", 2), ("hazard", 3), ("hazard", 4)]
    for i, (category, when) in enumerate(reports):
        items.append((10 + i, "kiosk.report", start + when * day + 3600 * 10, report(category)))
    t = start + 2 * day + 3600 * 15
    items += [
        (
            30,
            "alarm.closed",
            t + 400,
            {"incident": incident_at("B-1", t, dispatched=t + 40, on_scene=t + 150, closed=t + 280)},
        ),
        (
            31,
            "alarm.closed",
            t + day + 900,
            {
                "incident": incident_at(
                    "B-2", t + day, dispatched=t + day + 50, on_scene=t + day + 230, closed=t + day + 600
                )
            },
        ),
        (
            32,
            "alarm.closed",
            t - 5 * day + 400,
            {"incident": incident_at("B-0", t - 5 * day, dispatched=t - 5 * day + 30, closed=t - 5 * day + 200)},
        ),
    ]
    store_at(db_url, "SZ-FT-0051", items)
    seed_patrol(db_url, visits={"SZ-FT-0042": 9, "SZ-LH-0007": 4, "SZ-FT-0051": 2})  # the Nanshan ones: none
    seed_orders(db_url, now)
    db = Db(db_url)
    try:  # eight weeks of closed incidents for the statistics, a day of telemetry for the station page
        fleet = ["SZ-FT-0042", "SZ-LH-0007", "SZ-NS-0113", "SZ-NS-0120", "SZ-FT-0051"]
        seed_incidents(db, fleet, start=now - 56 * 86400, end=now - 600, count=420)
        seed_telemetry(db, "SZ-FT-0042", end=now, hours=24)
    finally:
        db.close()
    return {
        "incident": "/incidents/SZ-LH-0007/INC-20261203-0928-77c2",
        "bulletin": f"/bulletins/{week}/%E7%A6%8F%E7%94%B0",
        "order": ORDER_PAGE,
    }


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
        seed_push_pages(db_url)
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
                "--signing-key-file",
                str(signing_key(work)),
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
                        ("bulletin", paths["bulletin"]),
                        ("patrol", "/patrol"),
                        ("patrol-roster", "/patrol/roster"),
                        (
                            "stats",
                            "/stats?period=week&from="
                            + time.strftime("%Y-%m-%d", time.localtime(time.time() - 55 * 86400)),
                        ),
                        ("station", "/stations/SZ-FT-0042?window=24h"),
                        ("warnings", "/warnings"),
                        ("watchlist", "/watchlist"),
                        ("notices", "/notices"),
                    ):
                        page.goto(url + path)
                        if name == "notices":
                            fill_notice_form(page)
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
