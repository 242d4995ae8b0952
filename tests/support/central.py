"""A central with a console for browser tests: the hub with `--http` as a process, and its API."""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.sim.broker import free_port
from hub.web.demo import incident_dict, seed_station
from tests.support.procs import PYTHON, Proc

__all__ = ["Central", "incident_dict", "seed_station"]  # the seeding helpers live in hub.web.demo


@dataclass
class Central:
    workdir: Path
    broker_url: str
    db_url: str = ""
    port: int = 0
    hub: Proc | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)  # more hub options, e.g. --console-silent-after

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.db_url = self.db_url or f"sqlite:///{self.workdir / 'hub.db'}"
        self.port = free_port()
        argv = [
            *PYTHON,
            "hub",
            "--broker",
            self.broker_url,
            "--db",
            self.db_url,
            "--client-id",
            "hub-console",
            "--http",
            f"127.0.0.1:{self.port}",
            *self.extra,
        ]
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
