"""Real processes for integration and fault tests: the edge daemon and the hub, as `police-kiosk` runs them."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec

PYTHON = [sys.executable, "-m", "police_kiosk"]


class Proc:
    def __init__(self, name: str, argv: list[str], log_path: Path, *, prefix: Sequence[str] = ()) -> None:
        self.name = name
        self.argv = argv
        self.prefix = list(prefix)
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            self.prefix + self.argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )
        log.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self, timeout: float = 15) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        rc = self.proc.returncode
        self.proc = None
        return rc

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


class EdgeProc(Proc):
    def __init__(
        self,
        workdir: Path,
        *,
        station: str,
        broker_url: str,
        extra: Sequence[str] = (),
        prefix: Sequence[str] = (),
        data_dir: Path | None = None,
    ) -> None:
        self.data_dir = data_dir or (workdir / f"edge-{station}")
        self.socket = workdir / f"edge-{station}.sock"
        argv = [
            *PYTHON,
            "edge",
            "--station",
            station,
            "--uplink",
            broker_url,
            "--data-dir",
            str(self.data_dir),
            "--socket",
            str(self.socket),
            "--log-level",
            "INFO",
            "--set",
            "sim.test_events=true",
            *extra,
        ]
        super().__init__(f"edge-{station}", argv, workdir / f"edge-{station}.log", prefix=prefix)

    def start(self, *, wait: bool = True, timeout: float = 30) -> None:
        if self.socket.exists():
            self.socket.unlink()
        super().start()
        if wait:
            try:
                wait_for_listener(self.socket, alive=lambda: self.alive, timeout=timeout)
            except RuntimeError as exc:
                raise RuntimeError(f"{exc}:\n{self.log()[-3000:]}") from None


def wait_for_listener(path: Path, *, alive: Callable[[], bool], timeout: float) -> None:
    """Return once a Unix socket at `path` accepts connections.

    The file appearing is not enough: asyncio binds the socket (the file exists) and only then calls
    listen(), and a connection in between is refused (ECONNREFUSED). On a loaded machine the daemon
    can be descheduled between the two, which made the end-to-end tests fail now and then.
    """
    deadline = time.monotonic() + timeout
    while True:
        if path.exists():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                try:
                    s.connect(str(path))
                    return
                except (ConnectionRefusedError, FileNotFoundError):
                    pass
        if not alive():
            raise RuntimeError("edge exited early")
        if time.monotonic() > deadline:
            raise RuntimeError(f"edge socket {path} did not accept connections within {timeout} s")
        time.sleep(0.02)


class HubProc(Proc):
    def __init__(
        self, workdir: Path, *, broker_url: str, db_url: str, client_id: str = "hub-test", extra: Sequence[str] = ()
    ) -> None:
        self.db_url = db_url
        argv = [*PYTHON, "hub", "--broker", broker_url, "--db", db_url, "--client-id", client_id, *extra]
        super().__init__(client_id, argv, workdir / f"{client_id}.log")


def stored_events(db_url: str) -> list[dict[str, Any]]:
    """Every event stored at the hub, in per-station sequence order (what `hub export` prints)."""
    if db_url.startswith("sqlite:"):
        from hub.store import sqlite_path

        path = sqlite_path(db_url).resolve()
        if not path.exists():
            return []
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            rows = con.execute("SELECT body FROM events ORDER BY station, seq").fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            con.close()
        return [msgspec.json.decode(r[0]) for r in rows]
    import psycopg

    with psycopg.connect(db_url) as pg:
        try:
            rows = pg.execute("SELECT body::text FROM events ORDER BY station, seq").fetchall()
        except psycopg.errors.UndefinedTable:  # the hub has not made its tables yet
            return []
    return [msgspec.json.decode(r[0]) for r in rows]


def wait_until(predicate: object, *, timeout: float, interval: float = 0.2, what: str = "condition") -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
