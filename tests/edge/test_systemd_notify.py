"""The daemon speaks systemd's notify protocol: READY=1 once it accepts events, then WATCHDOG=1 from its
main loop at half the watchdog interval, and STOPPING=1 on the way out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def test_ready_watchdog_and_stopping(tmp_path: Path) -> None:
    addr = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(addr)
    sock.settimeout(20)
    env = dict(os.environ, NOTIFY_SOCKET=addr, WATCHDOG_USEC="200000")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "police_kiosk",
            "edge",
            "--station",
            "ST-SD",
            "--uplink",
            "mqtt://127.0.0.1:9",
            "--data-dir",
            str(tmp_path / "d"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        seen: list[str] = []
        while seen.count("WATCHDOG=1") < 3:
            msg = sock.recv(4096).decode()
            seen += msg.split("\n")
        assert seen.index("READY=1") < seen.index("WATCHDOG=1")
        assert (tmp_path / "d" / "edge.sock").exists()  # READY means the API is up
        proc.terminate()
        while "STOPPING=1" not in seen:
            seen += sock.recv(4096).decode().split("\n")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()


def test_a_crash_at_start_exits_non_zero(tmp_path: Path) -> None:
    """A critical component that cannot start is a loud, non-zero exit (systemd restarts the unit)."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be")
    t0 = time.monotonic()
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "police_kiosk",
            "edge",
            "--station",
            "ST-X",
            "--uplink",
            "mqtt://127.0.0.1:9",
            "--data-dir",
            str(blocker / "sub"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode != 0
    assert time.monotonic() - t0 < 60
    assert "Error" in res.stderr or "error" in res.stderr
