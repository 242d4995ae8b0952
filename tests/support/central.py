"""A central with a console for browser tests: a real Mosquitto, the hub with `--http`, accounts, and
stations seeded straight into the hub's database (their incidents as a station would send them)."""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.sim.broker import free_port
from edge.wire import messages as wire
from hub.store import open_store
from tests.support.procs import PYTHON, Proc

__all__ = ["Central", "incident_dict", "seed_station"]


def incident_dict(iid: str, now: float, *, site: str, site_en: str, account: str = "9999") -> dict[str, Any]:
    return {"id": iid, "state": "raised", "kind": "panic",
            "source": {"kind": "dc09", "site": site, "site_en": site_en, "point": "正门一键报警",
                       "point_en": "Main gate button", "account": account, "zone": 1},
            "raised_at": now, "presses": 1, "restored": False, "unit": "",
            "targets": {"respond_s": 60.0, "arrive_s": 180.0, "resolve_s": 300.0},
            "deadlines": {"respond": now + 60, "arrive": now + 180, "resolve": now + 300},
            "missed": [], "escalations": 0, "rev": 1,
            "timeline": [{"at": now, "what": "raised", "by": "", "detail": ""}]}


def seed_station(db_url: str, station: str, *, name: str, district: str, incident: dict[str, Any] | None,
                 position: tuple[float, float] = (39.9, 116.4)) -> None:
    """A station as the hub would have stored it: online, a telemetry report with its place, one alarm."""
    store = open_store(db_url)
    try:
        now = time.time()
        store.update_status(station, wire.Status(state="online", counter=1, ts=wire.utc_now_iso(now)))
        tele = {"v": 1, "ts": wire.utc_now_iso(now),
                "outbox": {"depth": 0, "by_priority": {}, "bytes": 0, "oldest_age_s": 0.0, "accepted_total": 1,
                           "rejected_total": 0, "confirmed_total": 1},
                "link": {"state": "connected", "connects": 1, "in_flight": 0, "published_total": 1,
                         "resent_total": 0, "publish_failures": 0},
                "host": {"load1": 0.1, "mem_available_mb": 900.0, "disk_free_mb": 9000.0, "uptime_s": 60.0},
                "faults": [], "devices": {}, "cameras": {},
                "place": {"name": name, "district": district, "lat": position[0], "lon": position[1]}}
        store.update_telemetry(station, tele["ts"], json.dumps(tele, ensure_ascii=False).encode())
        if incident is not None:
            ev = wire.Event(id=wire.new_event_id(), station=station, seq=1, ts=wire.utc_now_iso(now),
                            type="alarm.raised", priority=wire.Priority.ALARM,
                            data={"incident_id": incident["id"], "change": "raised", "at": now, "incident": incident})
            store.store_events([ev], [wire.encode(ev)])
    finally:
        store.close()


@dataclass
class Central:
    workdir: Path
    broker_url: str
    db_url: str = ""
    port: int = 0
    hub: Proc | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.db_url = self.db_url or f"sqlite:///{self.workdir / 'hub.db'}"
        self.port = free_port()
        argv = [*PYTHON, "hub", "--broker", self.broker_url, "--db", self.db_url, "--client-id", "hub-console",
                "--http", f"127.0.0.1:{self.port}"]
        self.hub = Proc("hub-console", argv, self.workdir / "hub-console.log")
        self.hub.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/login", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if not self.hub.alive or time.monotonic() > deadline:
                raise RuntimeError(f"the console did not come up:\n{self.hub.log()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> int | None:
        return self.hub.stop() if self.hub else None

    def api(self, path: str, token: str) -> Any:
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())
