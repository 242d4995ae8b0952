"""Demo and benchmark data for the statistics and the station page: a history of incidents and telemetry.

Used by `scripts/screenshots_central.py`, `bench/console.py` and the console tests; never by the running hub.
Incidents go through `queries.upsert_incident` (the feed's own path), telemetry rows straight into
`telemetry_raw` and `telemetry_minute` as the hub service writes them (its own minute aggregator).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from typing import Any

from hub.telemetry_history import MinuteAggregator, Sample
from hub.web import queries
from hub.web.db import Db

__all__ = ["seed_incidents", "seed_telemetry"]

KINDS = ("panic", "panic", "panic", "duress", "holdup", "emergency")


def _incident(iid: str, raised: float, rng: random.Random) -> dict[str, Any]:
    dispatch = rng.lognormvariate(math.log(45), 0.5)
    arrive = dispatch + rng.lognormvariate(math.log(100), 0.4)
    close = arrive + rng.lognormvariate(math.log(90), 0.5)
    late = [n for n, t, due in (("respond", dispatch, 60), ("arrive", arrive, 180), ("resolve", close, 300)) if t > due]
    return {
        "id": iid,
        "state": "closed",
        "kind": rng.choice(KINDS),
        "raised_at": raised,
        "acked_at": raised + dispatch * 0.4,
        "dispatched_at": raised + dispatch,
        "on_scene_at": raised + arrive,
        "closed_at": raised + close,
        "outcome": "real",
        "targets": {"respond_s": 60.0, "arrive_s": 180.0, "resolve_s": 300.0},
        "deadlines": {"respond": raised + 60, "arrive": raised + 180, "resolve": raised + 300},
        "missed": late,
        "escalations": len(late),
        "rev": 5,
        "timeline": [],
    }


def seed_incidents(db: Db, stations: Sequence[str], *, start: float, end: float, count: int, seed: int = 7) -> int:
    """`count` closed incidents spread over [start, end) across `stations`, with plausible step times."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    with db.transaction():
        for n in range(count):
            raised = rng.uniform(start, end)
            station = rng.choice(stations)
            inc = _incident(f"INC-DEMO-{n:07d}", raised, rng)
            queries.upsert_incident(db, station, inc, inc["closed_at"])
    return count


def seed_telemetry(db: Db, station: str, *, end: float, hours: float, every_s: float = 60.0, seed: int = 3) -> int:
    """A station's telemetry history: a busy afternoon, a link outage with the outbox filling, two cameras."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    rows = []
    minutes = MinuteAggregator()
    minute_rows = []
    frames = {"gate-east": 0.0, "gate-west": 0.0}
    n = int(hours * 3600 / every_s)
    for i in range(n):
        t = end - (n - i) * every_s
        phase = i / max(1, n)
        down = 0.55 < phase < 0.6
        depth = int(400 * (phase - 0.55) / 0.05) if down else max(0, int(rng.gauss(2, 1.5)))
        cams = {}
        for k, cam in enumerate(frames):
            fps = 0.0 if (k == 1 and 0.3 < phase < 0.35) else 12.5 + rng.gauss(0, 0.4)
            frames[cam] += fps * every_s
            cams[cam] = [frames[cam], max(40.0, rng.gauss(150 + 80 * k, 25)), 1 if fps else 0]
        sample = Sample(
            outbox_depth=depth,
            link="disconnected" if down else "connected",
            load1=max(0.05, 0.6 + 0.5 * math.sin(phase * 12) + rng.gauss(0, 0.08)),
            disk_free_mb=9000.0 - 1500.0 * phase,
            mem_available_mb=800.0,
            cameras=json.dumps(cams),
        )
        rows.append(sample.row(station, t))
        minute_rows += minutes.add(station, sample, t)
    minute_rows += minutes.flush()
    with db.transaction():
        for r in rows:
            db.run("INSERT INTO telemetry_raw VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", r)
    marks = ", ".join("?" * 18)
    with db.transaction():
        for m in minute_rows:
            db.run(f"INSERT INTO telemetry_minute VALUES ({marks}) ON CONFLICT DO NOTHING", m.row())  # noqa: S608
    return len(rows)
