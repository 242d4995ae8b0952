"""The hub speaks systemd's notify protocol: READY=1, then WATCHDOG=1 fed from its ingest loop (so a loop
wedged on a hung database stops feeding it), and STOPPING=1 on the way out."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from tests.support.procs import PYTHON


def test_the_hub_feeds_the_watchdog_from_its_ingest_loop(tmp_path: Path) -> None:
    addr = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(addr)
    sock.settimeout(20)
    env = dict(os.environ, NOTIFY_SOCKET=addr, WATCHDOG_USEC="400000")
    # No broker: the ingest loop turns (and feeds the watchdog) whether or not the broker is there.
    proc = subprocess.Popen(
        [*PYTHON, "hub", "--db", f"sqlite:///{tmp_path / 'hub.db'}", "--broker", "mqtt://127.0.0.1:9"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        seen: list[str] = []
        while seen.count("WATCHDOG=1") < 3:
            seen += sock.recv(4096).decode().split("\n")
        assert "READY=1" in seen
        proc.terminate()
        while "STOPPING=1" not in seen:
            seen += sock.recv(4096).decode().split("\n")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()
