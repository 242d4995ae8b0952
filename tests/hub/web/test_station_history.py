"""The station page's history: link state as spans with the gaps where no report came, frames per second
from the cameras' frame counters (raw rows for hours, per-minute aggregates for days to a year), and the
mass-outage verdict as the console reads it."""

from __future__ import annotations

import json
from pathlib import Path

from hub.telemetry_history import Sample
from hub.web.console import prepare_database
from hub.web.db import Db
from hub.web.demo_history import seed_telemetry
from hub.web.station_pages import POINTS, history, mass_outage

T0 = 1_800_000_000.0


def sample(link: str, frames: float, *, depth: int = 0) -> Sample:
    return Sample(depth, link, 0.5, 9000.0, 800.0, json.dumps({"cam": [frames, 120.0, 1]}))


def test_link_spans_gaps_and_frame_rates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    prepare_database(url)
    db = Db(url)
    try:
        reports = [  # every 60 s, then nothing for 10 minutes, then a camera restart (counter back to 0)
            (0, "connected", 0.0),
            (60, "connected", 600.0),
            (120, "disconnected", 1200.0),
            (180, "connected", 1800.0),
            (780, "connected", 7800.0),
            (840, "connected", 0.0),
            (900, "connected", 600.0),
        ]
        for at, link, frames in reports:
            db.run(
                "INSERT INTO telemetry_raw VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                sample(link, frames, depth=at // 60).row("ST-1", T0 + at),
            )
        h = history(db, "ST-1", t1=T0 + 960, span=960, every_s=60)
        assert h.samples == 7
        assert [(a - T0, b - T0, s) for a, b, s in h.link] == [
            (0, 120, "connected"),
            (120, 180, "disconnected"),
            (180, 240, "connected"),  # a report lasts until the next, or one interval if none came
            (240, 780, "no_report"),
            (780, 960, "connected"),  # (the last report's interval ends past t1: clipped to the window)
        ]
        rates = [round(v, 3) for _, v in h.fps["cam"]]
        assert rates == [10.0, 10.0, 10.0, 10.0]  # the gap and the restart give no rate
        assert [v for _, v in h.outbox] == [0, 1, 2, 3, 13, 14, 15]
        assert mass_outage(db) is None
        db.run("INSERT INTO hub_state VALUES ('mass_outage', ?, ?)", ('{"down": 44, "text": "x"}', T0))
        outage = mass_outage(db)
        assert outage is not None and (outage.down, outage.since) == (44, T0)
        db.run("UPDATE hub_state SET value='' WHERE name='mass_outage'")
        assert mass_outage(db) is None
    finally:
        db.close()


def test_a_long_window_is_drawn_from_the_minutes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    prepare_database(url)
    db = Db(url)
    try:
        seeded = seed_telemetry(db, "ST-1", end=T0, hours=24 * 20, every_s=120)  # 20 days, one report in 2 min
        db.run("DELETE FROM telemetry_raw")  # past the raw days: only the minutes are left
        h = history(db, "ST-1", t1=T0 + 86400, span=90 * 86400.0)
        assert h.samples == seeded
        assert 0 < len(h.outbox) <= POINTS and len(h.cpu) == len(h.outbox)
        assert sorted(h.fps) == ["gate-east", "gate-west"] and sorted(h.lag) == ["gate-east", "gate-west"]
        assert all(10.0 < v < 15.0 for _, v in h.fps["gate-east"])  # ~12.5 frames/s all along
        states = {s for _, _, s in h.link}
        assert states == {"connected", "disconnected"}  # the outage; before the first report: nothing drawn
        assert h.link[0][0] >= T0 - 20 * 86400 - 90 * 86400 / POINTS
        assert history(db, "ST-1", t1=T0, span=6 * 3600.0).samples == 0  # hours: the raw rows, gone
    finally:
        db.close()
