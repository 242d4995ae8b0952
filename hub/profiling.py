"""Where the hub's CPU goes: an opt-in cProfile of the ingest thread and CPU time per thread.

Off unless `PK_HUB_PROFILE` names a directory. Then the ingest loop runs under cProfile and, when it
ends, writes `hub-<pid>.prof` there (read it with `python -m pstats`); the hub's stop logs the CPU time of every
thread of the process: the ingest thread's and paho's network thread's share of one GIL is what
decides whether a second core helps. For benchmarks only: profiling slows the loop down by itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ENV", "log_thread_cpu", "profiled", "thread_cpu"]

ENV = "PK_HUB_PROFILE"

log = logging.getLogger(__name__)


def thread_cpu() -> dict[str, float]:
    """User + system CPU seconds of each live Python thread of this process, by thread name (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for t in threading.enumerate():
        try:
            fields = Path(f"/proc/self/task/{t.native_id}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        out[t.name] = (int(fields[11]) + int(fields[12])) / tick
    return out


@contextlib.contextmanager
def profiled(name: str) -> Iterator[None]:
    """Run the block under cProfile when $PK_HUB_PROFILE is set; otherwise do nothing at all."""
    where = os.environ.get(ENV)
    if not where:
        yield
        return
    import cProfile

    prof = cProfile.Profile()
    prof.enable()
    try:
        yield
    finally:
        prof.disable()
        path = Path(where) / f"{name}-{os.getpid()}.prof"
        prof.dump_stats(path)
        log.info("profile written to %s", path)


def log_thread_cpu() -> None:
    """Log every thread's CPU time when $PK_HUB_PROFILE is set (call it before the threads stop)."""
    if os.environ.get(ENV):
        log.info("CPU by thread: %s", ", ".join(f"{k} {v:.2f} s" for k, v in sorted(thread_cpu().items())))
