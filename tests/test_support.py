"""The shared test helpers themselves: what they wait for before a test may use a process."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from tests.support.procs import wait_for_listener


def test_wait_for_listener_waits_for_listen_not_for_the_file(tmp_path: Path) -> None:
    """asyncio binds a Unix socket (the file appears) before it listens: a client connecting in between
    is refused. The helper must return only once a connection succeeds."""
    path = tmp_path / "d.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))  # the file exists from here on
    listening = threading.Event()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
            raise AssertionError("a bound socket that does not listen yet accepted a connection")
        except ConnectionRefusedError:
            pass

    def listen_later() -> None:
        threading.Event().wait(0.3)
        listening.set()  # set before listen(): the helper cannot have returned before this
        server.listen(4)

    t = threading.Thread(target=listen_later)
    t.start()
    try:
        wait_for_listener(path, alive=lambda: True, timeout=30)
        assert listening.is_set()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(path))
    finally:
        t.join()
        server.close()


def test_wait_for_listener_stops_when_the_process_died(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="exited early"):
        wait_for_listener(tmp_path / "none.sock", alive=lambda: False, timeout=30)
