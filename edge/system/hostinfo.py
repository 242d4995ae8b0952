"""Health of the station box for telemetry, read from /proc and statvfs (no extra dependency)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

__all__ = ["host_health"]

_BOOT = time.monotonic()


def _mem_available_mb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return -1.0


def host_health(data_dir: Path) -> dict[str, float]:
    try:
        load1 = os.getloadavg()[0]
    except OSError:
        load1 = -1.0
    try:
        free = shutil.disk_usage(data_dir).free / (1 << 20)
    except OSError:
        free = -1.0
    return {
        "load1": round(load1, 2),
        "mem_available_mb": _mem_available_mb(),
        "disk_free_mb": round(free, 1),
        "uptime_s": round(time.monotonic() - _BOOT, 1),
    }
