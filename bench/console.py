#!/usr/bin/env python3
"""Benchmark: the command console with a fleet in the database and a live alarm feed (a first slice).

    .venv/bin/python bench/console.py [--stations 2000] [--alarms 40] [--interval 0.5]

Starts, on this machine: Mosquitto and the hub with `--http` over a fresh SQLite database holding
`--stations` stations (status and telemetry with a place, in 16 districts), signs in as command staff in
Debian's chromium (Playwright) on the alarms board, then stores `--alarms` new incidents one every
`--interval` s the way the hub's ingest stores them (`Store.store_events`, one transaction each) and
measures, for each, from its `received_at` (the commit) to:

* baseline: the `alarm` event read by a plain SSE client on `/api/v1/stream` (the feed's poll + the
  stream), in a thread of this process;
* the incident's row drawn on the open alarms board (a MutationObserver in the page; htmx fetches the
  board fragment again on the `alarm` event).

Then the stations page: load (navigation start to load event, from the browser's own timing) and a
district filter (submit to the filtered page's load event), beside the baseline of `GET
/api/v1/stations` (same rows, as JSON, over urllib). Clocks: the page's `Date.now()` and this process's
`time.time()` are the same machine clock. The load average is printed: other work shows in the p95s.

Response statistics: `--year-incidents` closed incidents spread over the last 365 days across the stations
(written as the feed writes them: `console_incidents` and `console_response`), then a year at a time, by
month: the computation in this process (`hub.web.stats.report`), `GET /api/v1/stats/response` grouped by
station, and the `/stats` page grouped by district in the browser (navigation -> load), first look and asked
again (the console caches a report until an incident changes), beside the baseline of the plain SQL
`COUNT(*)` over the same rows.

`--only stats` runs only the statistics part (no live alarms, no stations page). `--db postgresql://...` runs
on PostgreSQL: the bench creates a throwaway database on that server and drops it afterwards (default: a
fresh SQLite file).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.sim.broker import MosquittoProcess, free_port
from edge.wire import messages as wire
from hub.store import open_store
from hub.web.accounts import Accounts
from hub.web.console import prepare_database
from hub.web.db import Db
from hub.web.demo import incident_dict
from hub.web.demo_history import seed_incidents

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "bench-pass-1"


def seed(db_url: str, stations: int) -> list[str]:
    prepare_database(db_url)
    db = Db(db_url)
    now = time.time()
    ids = [f"ST-{i:05d}" for i in range(stations)]
    with db.transaction():
        for i, st in enumerate(ids):
            tele = {
                "v": 1,
                "ts": wire.utc_now_iso(now),
                "outbox": {"depth": i % 7},
                "link": {"state": "connected"},
                "faults": [],
                "place": {
                    "name": f"警务站 {i}",
                    "district": f"区{i % 16:02d}",
                    "lat": 22.5 + i / 1e4,
                    "lon": 114.0 + i / 1e4,
                },
            }
            db.run(
                "INSERT INTO stations (station, state, counter, status_ts, last_seen, telemetry, telemetry_ts) "
                "VALUES (?, 'online', 1, ?, ?, ?, ?)",
                (st, wire.utc_now_iso(now), now, json.dumps(tele, ensure_ascii=False), wire.utc_now_iso(now)),
            )
    Accounts(db).add_user("bench", "command", PASSWORD, actor="bench")
    db.close()
    return ids


def seed_year(db_url: str, ids: list[str], count: int) -> None:
    db = Db(db_url)
    try:
        now = time.time()
        seed_incidents(db, ids, start=now - 365 * 86400, end=now - 3600, count=count)
    finally:
        db.close()


def stats_year(db_url: str, url: str, token: str, page: Any) -> dict[str, list[float]]:
    """A year of response statistics, five rounds each way (see the module's docstring). Each round asks for
    a year ending on another day (the console caches a report until an incident changes: every round is a
    first look), then asks the page's question once more (the cached answer)."""
    from hub.web import stats
    from hub.web.stats_pages import local_tz

    today = date.today()
    db = Db(db_url)
    tele = dict(db.rows("SELECT station, telemetry FROM stations"))
    districts = {st: json.loads(t)["place"]["district"] for st, t in tele.items() if t}
    keys = ("baseline", "report", "api_station", "page", "again")
    out: dict[str, list[float]] = {k: [] for k in keys}
    for k in range(5):
        to = today - timedelta(days=k)
        span = {"from": (to - timedelta(days=364)).isoformat(), "to": to.isoformat(), "period": "month"}
        q = stats.parse_query(span, today=today)
        start, end = q.bounds(local_tz())
        t0 = time.time()
        db.one("SELECT COUNT(*) FROM console_response WHERE raised_at >= ? AND raised_at < ?", (start, end))
        out["baseline"].append(time.time() - t0)
        t0 = time.time()
        stats.report(db, q, tz=local_tz(), districts=districts, names={}, sees=lambda d: True)
        out["report"].append(time.time() - t0)
        t0 = time.time()
        req = urllib.request.Request(
            f"{url}/api/v1/stats/response?{urlencode({**span, 'group': 'station'})}",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(req, timeout=120) as r:
            r.read()
        out["api_station"].append(time.time() - t0)
        for name in ("page", "again"):
            page.goto(f"{url}/stats?{urlencode({**span, 'group': 'district'})}")
            page.wait_for_load_state("load")
            out[name].append(
                page.evaluate(
                    "() => { const t = performance.getEntriesByType('navigation')[0];"
                    " return (t.loadEventEnd - t.startTime) / 1000; }"
                )
            )
    db.close()
    return {
        "baseline: SELECT COUNT(*) over the year's rows (SQL)": out["baseline"],
        "stats.report() in process (group by station)": out["report"],
        "GET /api/v1/stats/response?group=station (first look)": out["api_station"],
        "/stats page by district, first look (navigation -> load)": out["page"],
        "/stats page by district, asked again: cached (nav -> load)": out["again"],
    }


@contextlib.contextmanager
def database(server: str, work: Path) -> Iterator[str]:
    """The bench's database: a fresh SQLite file, or a throwaway database on the PostgreSQL server `server`."""
    if not server:
        yield f"sqlite:///{work / 'hub.db'}"
        return
    import psycopg
    from psycopg import sql

    name = f"pk_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server, autocommit=True) as con:
            con.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{name:<62} n={len(ms):<4} p50 {statistics.median(ms):7.1f} ms   p95 {pct(ms, 95):7.1f} ms   "
        f"max {max(ms):7.1f} ms"
    )


def sse_reader(url: str, token: str, seen: dict[str, float], stop: threading.Event) -> None:
    req = urllib.request.Request(url + "/api/v1/stream", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        event = ""
        while not stop.is_set():
            raw = r.readline().decode()
            if raw.startswith("event: "):
                event = raw[7:].strip()
            elif raw.startswith("data: ") and event == "alarm":
                seen.setdefault(json.loads(raw[6:])["incident_id"], time.time())


def live_part(url: str, token: str, page: Any, *, db_url: str, ids: list[str], args: argparse.Namespace) -> list[str]:
    """Live alarms on the open board, then the stations page (see the module's docstring); the report's lines."""
    stop = threading.Event()
    sse_seen: dict[str, float] = {}
    reader = threading.Thread(target=sse_reader, args=(url, token, sse_seen, stop), daemon=True)
    reader.start()
    try:
        page.goto(url + "/alarms")
        page.wait_for_function("() => document.body.getAttribute('data-stream') === 'open'")
        page.evaluate("""() => { window.__drawnAt = {};
            new MutationObserver(() => document.querySelectorAll('#board tr[data-incident]').forEach(tr => {
              const id = tr.getAttribute('data-incident');
              if (!(id in window.__drawnAt)) { window.__drawnAt[id] = Date.now() / 1000; } }))
              .observe(document.getElementById('board'), {childList: true, subtree: true}); }""")
        store = open_store(db_url)
        stored: dict[str, float] = {}
        rng = random.Random(7)
        for n in range(args.alarms):
            st = rng.choice(ids)
            iid = f"INC-BENCH-{n:04d}"
            now = time.time()
            inc = incident_dict(iid, now, site="阳光小学", site_en="Sunshine")
            ev = wire.Event(
                id=wire.new_event_id(),
                station=st,
                seq=1 + n,
                ts=wire.utc_now_iso(now),
                type="alarm.raised",
                priority=wire.Priority.ALARM,
                data={"incident_id": iid, "change": "raised", "at": now, "incident": inc},
            )
            store.store_events([ev], [wire.encode(ev)])
            stored[iid] = now  # the commit returned: the row's received_at is just before this
            time.sleep(args.interval)
        store.close()
        last = f"INC-BENCH-{args.alarms - 1:04d}"
        page.wait_for_function(f"() => '{last}' in window.__drawnAt")
        drawn: dict[str, float] = page.evaluate("window.__drawnAt")
    finally:
        stop.set()
    con = Db(db_url)
    received = {
        json.loads(b)["data"]["incident_id"]: float(t)
        for b, t in con.rows("SELECT CAST(body AS TEXT), received_at FROM events WHERE type='alarm.raised'")
    }
    con.close()
    browser_lat = [drawn[i] - received[i] for i in stored if i in drawn]
    sse_lat = [sse_seen[i] - received[i] for i in stored if i in sse_seen]

    loads, served, filters = [], [], []
    for k in range(5):
        page.goto(url + "/stations")
        page.wait_for_load_state("load")
        got, html = page.evaluate(
            "() => { const t = performance.getEntriesByType('navigation')[0];"
            " return [(t.loadEventEnd - t.startTime) / 1000, (t.responseEnd - t.startTime) / 1000]; }"
        )
        loads.append(got)
        served.append(html)
        page.select_option("#f-district", f"区{k:02d}")
        t0 = time.time()
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**/stations?district=*")
        page.wait_for_load_state("load")
        filters.append(time.time() - t0)
    api = []
    for _ in range(5):
        t0 = time.time()
        with urllib.request.urlopen(
            urllib.request.Request(url + "/api/v1/stations", headers={"Authorization": f"Bearer {token}"})
        ) as r:
            r.read()
        api.append(time.time() - t0)
    return [
        f"{args.stations} stations, {args.alarms} alarms every {args.interval} s",
        line("baseline: stored -> SSE event read (script)", sse_lat),
        line("stored -> row drawn on the open board", browser_lat),
        line("baseline: GET /api/v1/stations (JSON)", api),
        line("stations page: its HTML received (navigation -> response end)", served),
        line("stations page load (navigation -> load)", loads),
        line("stations district filter (submit -> load)", filters),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stations", type=int, default=2000)
    ap.add_argument("--alarms", type=int, default=40)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--year-incidents", type=int, default=200_000, help="incidents over the last year")
    ap.add_argument("--only", choices=["stats"], help="run only this part (stats: the year of statistics)")
    ap.add_argument("--db", default="", help="a PostgreSQL server URL (a throwaway database is made there)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="pk-bench-console-") as tmp, database(args.db, Path(tmp)) as db_url:
        work = Path(tmp)
        ids = seed(db_url, args.stations)
        t0 = time.time()
        seed_year(db_url, ids, args.year_incidents)
        print(f"seeded {args.year_incidents} incidents over a year in {time.time() - t0:.1f} s", flush=True)
        db = Db(db_url)
        token = Accounts(db).add_token("bench-script", "command", actor="bench")
        db.close()
        broker = MosquittoProcess(work / "mosquitto")
        broker.start()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
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
        try:
            for _ in range(300):
                try:
                    with urllib.request.urlopen(url + "/login", timeout=1):
                        break
                except OSError:
                    time.sleep(0.1)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.set_default_timeout(30_000)
                page.goto(url + "/login")
                page.fill("#name", "bench")
                page.fill("#password", PASSWORD)
                page.click("form.login button[type=submit]")
                page.wait_for_url(url + "/alarms")
                live = [] if args.only == "stats" else live_part(url, token, page, db_url=db_url, ids=ids, args=args)
                year = stats_year(db_url, url, token, page)
                browser.close()
        finally:
            hub.send_signal(signal.SIGTERM)
            hub.wait(timeout=30)
            broker.stop()
    engine = "PostgreSQL" if args.db else "SQLite"
    for text in live:
        print(text)
    print(
        f"response statistics over a year ({args.year_incidents} incidents, {args.stations} stations, by month, "
        f"{engine}); load average {os.getloadavg()}:"
    )
    for name, values in year.items():
        print(line(name, values))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
