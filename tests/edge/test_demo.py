"""`police-kiosk demo` runs a whole station: events flow to the hub and a school's panic becomes an incident
whose whole response is stored at central."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_demo_runs_a_station_end_to_end(tmp_path: Path) -> None:
    work = tmp_path / "demo"
    res = subprocess.run(
        [sys.executable, "-m", "police_kiosk", "demo", "--dir", str(work), "--duration", "52", "--ui", "no"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "stored at hub" in res.stdout
    assert "command console at http://127.0.0.1:" in res.stdout  # central's console, with this run's login
    con = sqlite3.connect(work / "hub.db")
    types = [t for (t,) in con.execute("SELECT type FROM events WHERE station='DEMO-001' ORDER BY seq")]
    seqs = [s for (s,) in con.execute("SELECT seq FROM events WHERE station='DEMO-001' ORDER BY seq")]
    con.close()
    assert seqs == list(range(1, len(seqs) + 1))
    for step in (
        "alarm.raised",
        "alarm.acknowledged",
        "alarm.dispatched",
        "alarm.on_scene",
        "alarm.closed",
        "kiosk.report",
        "demo.tick",
        "vision.watchlist_installed",
        "vision.plate_hit",
    ):
        assert step in types, f"{step} missing from what the hub stored: {sorted(set(types))}"
