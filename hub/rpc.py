"""Answers to stations' requests (`police/v1/{station}/rpc/req` → `.../rpc/res`).

Handlers are registered by name and run on a small worker pool, each worker with its own database
connection, so a slow answer never holds up event ingest. A handler raises `ApiError` for an answer
the station should show ("no free slot"); any other exception becomes an internal error, logged here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edge.wire import messages as wire
from edge.wire.errors import INTERNAL_ERROR, METHOD_NOT_FOUND, ApiError
from hub.store import Store

__all__ = ["RpcContext", "RpcRegistry"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RpcContext:
    station: str
    store: Store
    now: float


Handler = Callable[[RpcContext, dict[str, Any]], Any]


class RpcRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._local = threading.local()
        self.handled = 0
        self.expired = 0
        self.register("hub.ping", _ping)

    def register(self, name: str, handler: Handler) -> None:
        if name in self._handlers:
            raise ValueError(f"hub method {name} registered twice")
        self._handlers[name] = handler

    @property
    def methods(self) -> list[str]:
        return sorted(self._handlers)

    def dispatch(
        self, station: str, req: wire.RpcRequest, store_factory: Callable[[], Store]
    ) -> wire.RpcResponse | None:
        """Run one request; None when its deadline passed already (nobody is waiting: no answer)."""
        now = time.time()
        if req.deadline and _parse_ts(req.deadline) < now:
            self.expired += 1
            return None
        handler = self._handlers.get(req.method)
        if handler is None:
            return _error(req, METHOD_NOT_FOUND, f"unknown hub method {req.method!r}")
        store = getattr(self._local, "store", None)
        if store is None:
            store = store_factory()
            self._local.store = store
        try:
            result = handler(RpcContext(station, store, now), req.params)
        except ApiError as exc:
            return _error(req, exc.code, exc.message)
        except Exception:
            log.exception("hub method %s failed", req.method)
            return _error(req, INTERNAL_ERROR, "internal error at central")
        self.handled += 1
        return wire.RpcResponse(id=req.id, result=result)


def _error(req: wire.RpcRequest, code: int, message: str) -> wire.RpcResponse:
    return wire.RpcResponse(id=req.id, error=wire.RpcError(code=code, message=message))


def _parse_ts(ts: str) -> float:
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float("inf")


def _ping(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"pong": True, "station": ctx.station, "ts": wire.utc_now_iso(ctx.now), "echo": params.get("echo")}
