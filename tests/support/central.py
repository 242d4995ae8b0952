"""A central with a console for browser tests: the hub with `--http` as a process, and its API; and what
central's operator runs from the command line (`hub user add`, `hub command ... vision.watchlist`)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.sim.broker import free_port
from hub.web.demo import incident_dict, seed_station
from tests.support.procs import PYTHON, Proc

__all__ = [
    "Central",
    "hub_cli",
    "incident_dict",
    "push_watch_list",
    "seed_station",
    "signed_in",
    "wait_for_console",
]  # the seeding helpers live in hub.web.demo


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
        wait_for_console(self.url, self.hub)

    def stop(self) -> int | None:
        return self.hub.stop() if self.hub else None

    def api(self, path: str, token: str) -> Any:
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())


def hub_cli(*args: str, stdin: str = "") -> str:
    """`police-kiosk hub ARGS...` (e.g. `user add`), its standard output; a failure fails the test."""
    done = subprocess.run([*PYTHON, "hub", *args], input=stdin.encode(), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def push_watch_list(
    broker_url: str, key_file: Path, *, version: int, entries: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    """`police-kiosk hub command ... vision.watchlist`: the list signed with the private key in `key_file`,
    retained, to every station (one that connects later finds it). Returns the finished command."""
    args = {"version": version, "entries": entries}
    argv = ["hub", "command", "--broker", broker_url, "--key-file", str(key_file), "--station", "all", "--retain"]
    return subprocess.run(
        [*PYTHON, *argv, "vision.watchlist", json.dumps(args)], capture_output=True, text=True, timeout=60
    )


def wait_for_console(url: str, proc: Proc, *, timeout: float = 30) -> None:
    """Until the console at URL answers its sign-in page (the hub process must stay up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/login", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if not proc.alive or time.monotonic() > deadline:
            raise RuntimeError(f"the console did not come up:\n{proc.log()[-3000:]}")
        time.sleep(0.1)


@contextlib.contextmanager
def signed_in(browser: Any, url: str, name: str, password: str, *, lang: str = "zh", **ctx: Any) -> Iterator[Any]:
    """A page of a new browser context, signed in to the console at URL."""
    context = browser.new_context(**ctx)
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{url}/lang/{lang}?next=/login")
        page.fill("#name", name)
        page.fill("#password", password)
        page.click("form.login button[type=submit]")
        page.wait_for_url(f"{url}/alarms")
        yield page
    finally:
        context.close()
