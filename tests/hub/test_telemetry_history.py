"""Station telemetry history (schema v4): appended with the latest report, purged by age, on SQLite and
PostgreSQL; and through a real hub process from telemetry published on a real Mosquitto."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge.sim.broker import MosquittoProcess
from edge.wire import messages as wire
from hub.store import Store
from hub.telemetry_history import HistorySettings, HistoryWriter, camera_figures, sample_of
from hub.web.db import Db
from tests.support.hubtest import wait_hub_listening
from tests.support.mqtt import TestClient
from tests.support.procs import HubProc, wait_until

T0 = 1_800_000_000.0


def telemetry(depth: int = 3, *, link: str = "connected", frames: int = 1200) -> wire.Telemetry:
    return wire.Telemetry(
        ts=wire.utc_now_iso(T0),
        outbox=wire.OutboxHealth(
            depth=depth,
            by_priority={},
            bytes=0,
            oldest_age_s=0.0,
            accepted_total=0,
            rejected_total=0,
            confirmed_total=0,
        ),
        link=wire.LinkHealth(
            state=link, connects=1, in_flight=0, published_total=0, resent_total=0, publish_failures=0
        ),
        host=wire.HostHealth(load1=0.75, mem_available_mb=512.0, disk_free_mb=8000.0, uptime_s=60.0),
        cameras={"gate-east": {"connected": True, "frames_in": frames, "lag_ms": 140.0, "reconnects": 0}},
    )


def history(url_or_store: Store | str, station: str) -> list[tuple[float, int, str]]:
    if isinstance(url_or_store, str):
        db = Db(url_or_store)
        try:
            rows = db.rows(
                "SELECT ts, outbox_depth, link FROM telemetry_history WHERE station=? ORDER BY ts", (station,)
            )
        finally:
            db.close()
        return [(float(a), int(b), str(c)) for a, b, c in rows]
    raw: Any = getattr(url_or_store, "db", None) or getattr(url_or_store, "conn")  # noqa: B009 - either store
    sql = "SELECT ts, outbox_depth, link FROM telemetry_history WHERE station='ST-1' ORDER BY ts"
    return [(float(a), int(b), str(c)) for a, b, c in raw.execute(sql).fetchall()]


def test_the_sample_keeps_the_charted_figures() -> None:
    s = sample_of(telemetry(7, link="connecting"))
    assert (s.outbox_depth, s.link, s.load1, s.disk_free_mb) == (7, "connecting", 0.75, 8000.0)
    assert camera_figures(s.cameras) == {"gate-east": (1200.0, 140.0, True)}
    assert camera_figures("not json") == {}


def test_rows_are_appended_with_the_report_and_purged_by_age(store: Store) -> None:
    report = [("ST-1", wire.utc_now_iso(T0), wire.encode(telemetry()))]
    for i in range(5):
        store.update_telemetry_many(report, [("ST-1", T0 + 60 * i, sample_of(telemetry(i)))])
    store.update_telemetry_many(report, [("ST-1", T0, sample_of(telemetry(9)))])  # the same key again: kept once
    assert history(store, "ST-1") == [(T0 + 60 * i, i, "connected") for i in range(5)]
    assert store.purge_telemetry_history(T0 + 120, limit=1) == 1  # a bounded slice at a time
    assert store.purge_telemetry_history(T0 + 120) == 1
    assert [r[1] for r in history(store, "ST-1")] == [2, 3, 4]
    assert store.purge_telemetry_history(T0 + 120) == 0
    store.set_hub_state("mass_outage", '{"down": 40}', T0)
    store.set_hub_state("mass_outage", "", T0 + 5)


def test_the_writer_writes_at_most_one_row_per_interval_and_schedules_purges() -> None:
    w = HistoryWriter(HistorySettings(keep_days=2, every_s=60, purge_interval=300))
    s = sample_of(telemetry())
    assert [st for st, _, _ in w.due({"A": s, "B": s}, T0)] == ["A", "B"]
    assert w.due({"A": s}, T0 + 30) == []
    assert [st for st, _, _ in w.due({"A": s}, T0 + 60)] == ["A"]
    assert w.purge_before(T0) == T0 - 2 * 86400
    assert w.purge_before(T0 + 10) is None
    assert w.purge_before(T0 + 300) == T0 + 300 - 2 * 86400
    off = HistoryWriter(HistorySettings(keep_days=0))
    assert off.due({"A": s}, T0) == [] and off.purge_before(T0) is None


def test_a_real_hub_appends_each_report(tmp_path: Path, mosquitto: MosquittoProcess) -> None:
    db_url = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = HubProc(tmp_path, broker_url=mosquitto.url, db_url=db_url, extra=["--telemetry-history-every", "0"])
    client = TestClient(mosquitto.url, client_id="tele")
    try:
        hub.start()
        wait_hub_listening(hub, client, db_url)
        for depth in (4, 5, 6):
            client.publish(wire.topic("ST-TELE", "telemetry"), wire.encode(telemetry(depth)), qos=0)
            wait_until(
                lambda want=depth - 3: len(history(db_url, "ST-TELE")) >= want, timeout=20, what=f"report {depth}"
            )
        assert [r[1] for r in history(db_url, "ST-TELE")] == [4, 5, 6]
        assert hub.stop() == 0
    finally:
        client.close()
        hub.stop()
