"""The UIs' only way to the daemon: `DaemonLink`, a QObject around the typed `EdgeClient`.

The client runs on its own asyncio loop in a worker thread; the link turns its results and the daemon's
notifications into Qt signals delivered on the GUI thread. It reconnects by itself (with backoff) and
says so: `connectedChanged(False)` puts the UI into its "daemon disconnected" state, and the first
successful reconnection (with the topics re-subscribed) takes it out again. The UI never blocks on it.

    link = DaemonLink(socket_path, topics=["incidents", "faults"])
    link.notified.connect(on_notify)            # (topic, params)
    link.connectedChanged.connect(show_banner)  # bool
    link.request(INCIDENTS_ACK, IncidentRef(id=iid), on_done)  # on_done(Incident | None, ApiError | None)
    link.start()

Methods, params and results are the wire contract's (`edge.wire.api`): `request` sends the typed params
and hands the callback the typed result. With `badge`, the link logs the connection in as that crew
member (`crew.login`) after every (re)connection, so the daemon signs the crew's changes with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from PySide6.QtCore import QObject, Signal, Slot

from edge.api.client import ApiError, DaemonUnavailableError, EdgeClient
from edge.wire.api.base import Method, Params
from edge.wire.errors import INTERNAL_ERROR

__all__ = ["ApiError", "DaemonLink"]

log = logging.getLogger(__name__)

Done = Callable[[Any, ApiError | None], None]
P = TypeVar("P", bound=Params)
R = TypeVar("R")


class DaemonLink(QObject):
    connectedChanged = Signal(bool)
    notified = Signal(str, dict)
    _deliver = Signal(object, object, object)  # callback, result, error: crosses to the GUI thread

    def __init__(
        self,
        socket_path: Path | str,
        *,
        topics: list[str] | None = None,
        badge: str = "",
        retry_min: float = 0.2,
        retry_max: float = 3.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.socket_path = Path(socket_path)
        self.topics = list(topics or [])
        self.badge = badge
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.connected = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: EdgeClient | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._deliver.connect(self._on_deliver)

    # ---- lifecycle (GUI thread) ----------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="daemon-link", daemon=True)
        self._thread.start()
        self._ready.wait(5)

    def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def call(
        self, method: str, params: dict[str, Any] | None = None, done: Done | None = None, *, timeout: float = 10.0
    ) -> None:
        """Call a daemon method; `done(result, error)` runs later on the GUI thread."""
        loop = self._loop
        if loop is None or loop.is_closed() or not self.connected:
            if done is not None:
                self._deliver.emit(done, None, DaemonUnavailableError("the station service is not running"))
            return
        asyncio.run_coroutine_threadsafe(self._call(method, params, done, timeout), loop)

    def request(
        self,
        method: Method[P, R],
        params: P | None,
        done: Callable[[R | None, ApiError | None], None] | None,
        *,
        timeout: float = 10.0,
    ) -> None:
        """Call a method of the contract; `done(result, error)` runs later on the GUI thread with the typed
        result (an answer that does not fit the contract is an error, never a crash)."""

        def decoded(result: Any, error: ApiError | None) -> None:
            typed: R | None = None
            if error is None:
                try:
                    typed = method.decode_result(result)
                except Exception as exc:  # noqa: BLE001 - msgspec.ValidationError, reported as an error
                    error = ApiError(INTERNAL_ERROR, f"{method.name} answered something unexpected: {exc}")
            if done is not None:
                done(typed, error)

        self.call(method.name, None if params is None else _params_json(params), decoded, timeout=timeout)

    # ---- worker thread -------------------------------------------------------------------------
    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self._ready.set()
        delay = self.retry_min
        while not self._stop.is_set():
            client = EdgeClient(self.socket_path, on_notify=self._notify)
            try:
                await client.connect()
                if self.topics:
                    await client.subscribe(*self.topics)
                if self.badge:
                    await client.login(self.badge)
            except ApiError:
                await client.close()
                await self._sleep(delay)
                delay = min(self.retry_max, delay * 2) * random.uniform(0.8, 1.0)  # noqa: S311 - jitter
                continue
            delay = self.retry_min
            self._client = client
            self._set_connected(True)
            while client.connected and not self._stop.is_set():
                await self._sleep(0.2)
            self._client = None
            self._set_connected(False)
            await client.close()
        self._set_connected(False)

    async def _sleep(self, seconds: float) -> None:
        assert self._stop is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _call(self, method: str, params: dict[str, Any] | None, done: Done | None, timeout: float) -> None:
        client = self._client
        result: Any = None
        error: ApiError | None = None
        if client is None:
            error = DaemonUnavailableError("the station service is not running")
        else:
            try:
                result = await asyncio.wait_for(client.call(method, params), timeout)
            except DaemonUnavailableError as exc:
                error = DaemonUnavailableError(f"the station service did not answer: {exc.message}")
            except (TimeoutError, ConnectionError) as exc:
                error = DaemonUnavailableError(f"the station service did not answer: {exc}")
            except ApiError as exc:
                error = exc
        if done is not None:
            self._deliver.emit(done, result, error)

    def _notify(self, topic: str, params: dict[str, Any]) -> None:
        self.notified.emit(topic, params)

    def _set_connected(self, value: bool) -> None:
        if value != self.connected:
            self.connected = value
            self.connectedChanged.emit(value)

    @Slot(object, object, object)
    def _on_deliver(self, done: Done, result: Any, error: ApiError | None) -> None:
        try:
            done(result, error)
        except Exception:
            log.exception("UI callback failed")


def _params_json(params: Params) -> dict[str, Any]:
    out = msgspec.to_builtins(params)
    assert isinstance(out, dict)
    return out
