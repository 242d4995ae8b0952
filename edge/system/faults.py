"""Faults the station shows loudly: a set of active problems, each logged once when it appears and
once when it clears (never a log line per poll), visible in telemetry and through the local API."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Fault", "FaultBoard"]

log = logging.getLogger("edge.system.faults")


@dataclass(frozen=True, slots=True)
class Fault:
    code: str  # dotted, stable: "outbox.disk_full", "uplink.publish_refused", "device.printer"
    message: str
    since: float
    severity: str = "error"  # "error" | "warning"


class FaultBoard:
    """Thread-safe. Listeners are called (from the raising thread) on every change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, Fault] = {}
        self._listeners: list[Callable[[str, Fault | None], None]] = []
        self.raised_total = 0

    def raise_fault(self, code: str, message: str, *, severity: str = "error") -> None:
        with self._lock:
            current = self._active.get(code)
            if current is not None and current.message == message:
                return
            fault = Fault(code, message, current.since if current else time.time(), severity)
            self._active[code] = fault
            if current is None:
                self.raised_total += 1
        if current is None:
            (log.error if severity == "error" else log.warning)("fault raised: %s: %s", code, message)
        self._notify(code, fault)

    def clear_fault(self, code: str) -> None:
        with self._lock:
            fault = self._active.pop(code, None)
        if fault is not None:
            log.warning("fault cleared: %s (was: %s)", code, fault.message)
            self._notify(code, None)

    def active(self) -> list[Fault]:
        with self._lock:
            return sorted(self._active.values(), key=lambda f: f.since)

    def is_active(self, code: str) -> bool:
        with self._lock:
            return code in self._active

    def subscribe(self, listener: Callable[[str, Fault | None], None]) -> None:
        self._listeners.append(listener)

    def _notify(self, code: str, fault: Fault | None) -> None:
        for listener in list(self._listeners):
            try:
                listener(code, fault)
            except Exception:
                log.exception("fault listener failed")
