"""The hub speaks systemd's notify protocol: READY=1 once it ingests, STOPPING=1 on the way out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from edge.sim.broker import MosquittoProcess


def test_ready_and_stopping(tmp_path: Path) -> None:
    addr = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(addr)
    sock.settimeout(30)
    with MosquittoProcess(tmp_path / "broker") as broker:
        env = dict(os.environ, NOTIFY_SOCKET=addr)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "police_kiosk",
                "hub",
                "--broker",
                broker.url,
                "--db",
                f"sqlite:///{tmp_path / 'hub.db'}",
                "--client-id",
                "hub-sd",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            seen: list[str] = []
            while "READY=1" not in seen:
                seen += sock.recv(4096).decode().split("\n")
            assert any(f.startswith("STATUS=") for f in seen)
            proc.terminate()
            while "STOPPING=1" not in seen:
                seen += sock.recv(4096).decode().split("\n")
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            sock.close()
