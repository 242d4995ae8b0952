"""Station liveness: online -> silent -> offline as central sees it.

- The notifier (sans-IO, fake clock): 2,000 wills at once are one "mass outage" notice; a flapping link
  is debounced for notices only.
- The stores (SQLite and PostgreSQL): transitions by time, by will and by shutdown, idempotent by
  counter in the database (a stale heartbeat or will changes nothing).
- A real edge process and a real hub: SIGSTOP shows as silent within the configured time, SIGCONT
  online again; a clean restart never shows as offline; many wills at once become one notice.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from edge.sim.broker import MosquittoProcess
from edge.wire import messages as wire
from hub.liveness import LivenessNotifier
from hub.store import LivenessChange, StationRow, Store
from hub.web.db import Db
from tests.support.hubtest import station_rows, wait_hub_listening
from tests.support.mqtt import TestClient
from tests.support.procs import EdgeProc, HubProc, wait_until

T0 = 1_800_000_000.0


# ---- the notifier ------------------------------------------------------------------------------------
def test_two_thousand_wills_at_once_are_one_mass_outage_notice() -> None:
    n = LivenessNotifier()
    n.feed([LivenessChange(f"ST-{i:04d}", "unknown", "online") for i in range(2000)])
    assert len(n.flush(T0, known=2000)) == 2000, "each station coming online is told once"
    n.feed([LivenessChange(f"ST-{i:04d}", "online", "offline") for i in range(2000)])
    notices = n.flush(T0 + 60, known=2000)
    assert [x.kind for x in notices] == ["mass_outage"]
    assert n.mass_outage
    n.feed([LivenessChange(f"ST-{i:04d}", "offline", "online") for i in range(1500)])
    assert n.flush(T0 + 70, known=2000) == [], "still 500 down: still the one outage"
    n.feed([LivenessChange(f"ST-{i:04d}", "offline", "online") for i in range(1500, 1900)])
    (over,) = n.flush(T0 + 80, known=2000)
    assert over.kind == "mass_outage_over" and over.count == 100


def test_a_flapping_station_is_debounced_for_notices_only() -> None:
    n = LivenessNotifier(debounce=30.0)
    t = T0
    told = []
    for i in range(10):  # down and up every second
        down = i % 2 == 0
        n.feed([LivenessChange("ST-F", "online", "silent") if down else LivenessChange("ST-F", "silent", "online")])
        told += n.flush(t, known=100)
        t += 1
    assert [x.text for x in told] == ["station ST-F: online -> silent", "station ST-F: silent -> online"]
    later = n.flush(T0 + 31, known=100)
    (one,) = later
    assert one.text.endswith("silent -> online (8 changes held back while it flapped)")


# ---- the stores ----------------------------------------------------------------------------------------
def row(store: Store, station: str) -> StationRow:
    (r,) = [r for r in store.stations() if r.station == station]
    return r


def status(state: str, counter: int, reason: str = "") -> wire.Status:
    return wire.Status(state=state, counter=counter, ts="t", reason=reason)


def test_liveness_transitions_in_the_database(store: Store) -> None:
    assert store.heard({"ST-L": None}, T0) == [LivenessChange("ST-L", "unknown", "online")]
    assert store.heard({"ST-L": 5}, T0 + 1) == []
    kw = {"silent_after": 4.0, "offline_after": 60.0}
    assert store.check_liveness(T0 + 4.9, **kw) == []
    assert store.check_liveness(T0 + 5.1, **kw) == [LivenessChange("ST-L", "online", "silent")]
    assert (row(store, "ST-L").liveness, row(store, "ST-L").liveness_since) == ("silent", T0 + 5.1)
    assert store.check_liveness(T0 + 5.2, **kw) == [], "one transition, once (several hubs agree)"
    assert store.heard({"ST-L": None}, T0 + 6) == [LivenessChange("ST-L", "silent", "online")]
    assert store.check_liveness(T0 + 70, **kw) == [
        LivenessChange("ST-L", "online", "silent"),
        LivenessChange("ST-L", "silent", "offline"),
    ]
    # The will of connection 10, then a late heartbeat of that same connection: still offline.
    assert store.apply_status("ST-L", status("online", 10), T0 + 80) == (
        True,
        LivenessChange("ST-L", "offline", "online"),
    )
    ok, change = store.apply_status("ST-L", status("offline", 10, "connection lost"), T0 + 81)
    assert ok and change == LivenessChange("ST-L", "online", "offline")
    assert store.heard({"ST-L": 10}, T0 + 82) == [], "a heartbeat of the connection whose will came"
    assert store.heard({"ST-L": 11}, T0 + 83) == [LivenessChange("ST-L", "offline", "online")]
    # A stale will (older counter) changes nothing, in whichever order it arrives.
    assert store.apply_status("ST-L", status("offline", 9, "connection lost"), T0 + 84) == (False, None)
    # A clean shutdown is "restarting", never offline unless it stays away for offline_after.
    assert store.apply_status("ST-L", status("offline", 11, "shutdown"), T0 + 85)[1] == LivenessChange(
        "ST-L", "online", "restarting"
    )
    assert store.check_liveness(T0 + 100, **kw) == []
    assert store.apply_status("ST-L", status("online", 12), T0 + 101)[1] == LivenessChange(
        "ST-L", "restarting", "online"
    )
    store.apply_status("ST-L", status("offline", 12, "shutdown"), T0 + 102)
    assert store.check_liveness(T0 + 163, **kw) == [LivenessChange("ST-L", "restarting", "offline")]
    assert store.count_stations() == 1


# ---- real processes ------------------------------------------------------------------------------------
SILENT_AFTER, CHECK = 4.0, 0.5  # the hub's defaults


def live(db_url: str, station: str) -> StationRow | None:
    r = station_rows(db_url).get(station)
    assert r is None or isinstance(r, StationRow)
    return r


@pytest.mark.slow
def test_a_frozen_station_is_silent_within_the_configured_time_and_a_clean_restart_never_offline(
    tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    db_url = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = HubProc(tmp_path, broker_url=mosquitto.url, db_url=db_url)
    edge = EdgeProc(tmp_path, station="ST-LIVE", broker_url=mosquitto.url, extra=["--set", "uplink.reconnect_max=1"])
    seen: list[str] = []
    watching = threading.Event()

    def watch() -> None:
        while watching.is_set():
            r = live(db_url, "ST-LIVE")
            if r is not None and (not seen or seen[-1] != r.liveness):
                seen.append(r.liveness)
            time.sleep(0.05)

    try:
        hub.start()
        edge.start()
        wait_until(
            lambda: getattr(live(db_url, "ST-LIVE"), "liveness", "") == "online", timeout=30, what="the station online"
        )
        # A clean restart: restarting, then online again; never offline (nor silent, it says goodbye).
        watching.set()
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            assert edge.stop() == 0
            edge.start()
            wait_until(lambda: "restarting" in seen and seen[-1] == "online", timeout=30, what="online again")
        finally:
            watching.clear()
            watcher.join()
        assert "offline" not in seen, seen
        # Frozen: no heartbeat, but no will either (the broker's keepalive is far longer).
        assert edge.proc is not None
        os.kill(edge.proc.pid, signal.SIGSTOP)
        stopped_at = time.time()
        try:
            wait_until(
                lambda: getattr(live(db_url, "ST-LIVE"), "liveness", "") == "silent",
                timeout=30,
                interval=0.05,
                what="the frozen station silent",
            )
            r = live(db_url, "ST-LIVE")
            assert r is not None
            print(
                f"silent {time.time() - stopped_at:.2f} s after SIGSTOP (hub: {r.liveness_since - r.last_heard:.2f} "
                "s after it last heard the station)"
            )
            assert r.last_heard <= stopped_at + 0.1
            # The hub's own clock: the check that found it silent ran within one interval of the limit.
            assert SILENT_AFTER <= r.liveness_since - r.last_heard <= SILENT_AFTER + CHECK + 1.0
        finally:
            os.kill(edge.proc.pid, signal.SIGCONT)
        resumed_at = time.time()
        wait_until(
            lambda: getattr(live(db_url, "ST-LIVE"), "liveness", "") == "online",
            timeout=30,
            interval=0.05,
            what="online after SIGCONT",
        )
        print(f"online {time.time() - resumed_at:.2f} s after SIGCONT")
        assert hub.alive
        assert edge.stop() == 0
        assert hub.stop() == 0
    finally:
        watching.clear()
        edge.stop()
        hub.stop()


@pytest.mark.slow
def test_many_wills_at_once_are_one_mass_outage(tmp_path: Path, mosquitto: MosquittoProcess) -> None:
    db_url = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = HubProc(tmp_path, broker_url=mosquitto.url, db_url=db_url)
    client = TestClient(mosquitto.url, client_id="many")
    names = [f"ST-M{i:03d}" for i in range(60)]
    try:
        hub.start()
        wait_hub_listening(hub, client, db_url)
        for i, st in enumerate(names):
            client.publish(wire.topic(st, "status"), wire.encode(status("online", 100 + i)), retain=False)
        wait_until(
            lambda: sum(1 for r in station_rows(db_url).values() if getattr(r, "liveness", "") == "online") >= 60,
            timeout=30,
            what="60 online",
        )
        for i, st in enumerate(names):  # central's broker restarted: every will at once
            client.publish(
                wire.topic(st, "status"), wire.encode(status("offline", 100 + i, "connection lost")), wait=False
            )
        wait_until(
            lambda: sum(1 for r in station_rows(db_url).values() if getattr(r, "liveness", "") == "offline") >= 60,
            timeout=30,
            what="60 offline",
        )
        wait_until(lambda: "mass outage" in hub.log(), timeout=10, what="the mass outage notice")
        time.sleep(2 * CHECK)
        log = hub.log()
        assert log.count("mass outage:") == 1, log[-3000:]
        assert "-> offline" not in log, "no per-station alerts during a mass outage"
        db = Db(db_url)  # and the console can show it (hub_state, schema v4)
        try:
            row = db.one("SELECT value FROM hub_state WHERE name='mass_outage'")
        finally:
            db.close()
        assert row is not None and '"down": 60' in row[0]
        assert hub.stop() == 0
    finally:
        client.close()
        hub.stop()


def test_statuses_of_one_drain_apply_in_order_in_one_transaction(store: Store) -> None:
    wills = [(f"ST-W{i:04d}", status("online", 5)) for i in range(300)]
    assert all(ok for ok, _ in store.apply_statuses(wills, T0))
    batch = [
        ("ST-W0001", status("online", 6)),
        ("ST-W0001", status("offline", 6, "connection lost")),
        ("ST-W0002", status("offline", 4, "connection lost")),  # stale: counter 4 < 5
        *[(f"ST-W{i:04d}", status("offline", 5, "connection lost")) for i in range(3, 300)],
    ]
    results = store.apply_statuses(list(reversed(batch[3:])) + batch[:3], T0 + 1)
    assert results[-1] == (False, None), "the stale will changes nothing"
    assert results[-2] == (True, LivenessChange("ST-W0001", "online", "offline")), "birth then will, in order"
    rows = {r.station: r for r in store.stations()}
    assert rows["ST-W0001"].counter == 6 and rows["ST-W0001"].liveness == "offline"
    assert rows["ST-W0002"].liveness == "online"
    assert sum(1 for r in rows.values() if r.liveness == "offline") == 298
