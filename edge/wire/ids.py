"""Time-ordered event ids (UUIDv7 layout) and RFC 3339 UTC timestamps, as the wire spells them."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime

__all__ = ["new_event_id", "utc_now_iso"]


def utc_now_iso(now: float | None = None) -> str:
    """RFC 3339 UTC with milliseconds: `2026-11-23T07:00:00.123Z`."""
    t = time.time() if now is None else now
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _Uuid7:
    """Time-ordered ids (UUIDv7 layout): 48-bit unix ms, then a counter and random bits.

    Within one millisecond the 12-bit counter keeps ids strictly increasing from this process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0

    def __call__(self, now: float | None = None) -> str:
        ms = int((time.time() if now is None else now) * 1000)
        with self._lock:
            if ms <= self._last_ms:
                ms = self._last_ms
                self._counter += 1
                if self._counter > 0xFFF:
                    ms += 1
                    self._counter = 0
            else:
                self._counter = int.from_bytes(os.urandom(2), "big") & 0x3FF
            self._last_ms = ms
            counter = self._counter
        rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


new_event_id = _Uuid7()
