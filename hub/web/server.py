"""Serving the console from the hub process: uvicorn in its own thread with its own event loop.

The hub's ingest stays a plain thread and never waits for the web side; the console reads the database
through its own connections. The listening socket is bound here, in the caller's thread, so a port in
use is an error at start-up (the hub exits non-zero) rather than a log line from a dying thread.
"""

from __future__ import annotations

import logging
import socket
import threading

import uvicorn

from hub.web.app import create_app
from hub.web.console import Console, ConsoleSettings, prepare_database

__all__ = ["ConsoleServer", "parse_http"]

log = logging.getLogger(__name__)


def parse_http(value: str) -> tuple[str, int]:
    """`HOST:PORT`, `:PORT` or `PORT` (127.0.0.1 unless a host is given); `[::1]:PORT` for IPv6."""
    host, _, port = value.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--http {value!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host, int(port)


class ConsoleServer:
    def __init__(self, settings: ConsoleSettings, *, host: str, port: int) -> None:
        prepare_database(settings.db_url)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.listen(128)
        self.host, self.port = self.sock.getsockname()[:2]
        app = create_app(settings)
        self.console: Console = app.state.console
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in str(self.host) else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name="hub-console", daemon=True
        )
        self._thread.start()
        log.info("command console at %s", self.url)

    def stop(self) -> None:
        self.console.end_streams()
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.sock.close()
