"""The outbox's alarm reserve: disk space held back in files, given up a quarter at a time on a full disk.

When the disk fills, the outbox first truncates its WAL, then deletes one reserve file at a time so an
alarm still finds room (info and warnings are refused long before). The reserve is made again once the
disk has room for twice its size.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from pathlib import Path

__all__ = ["RESERVE_CHUNKS", "AlarmReserve", "disk_free", "is_disk_full"]

log = logging.getLogger("edge.spine.outbox")

RESERVE_CHUNKS = 4  # the reserve is given up a quarter at a time, so deletes still find room later


class AlarmReserve:
    def __init__(self, database: Path, size: int) -> None:
        self.size = size
        self.paths = [database.with_name(f"{database.name}.reserve.{i}") for i in range(RESERVE_CHUNKS)]

    @property
    def complete(self) -> bool:
        return self.size <= 0 or all(p.exists() for p in self.paths)

    def ensure(self) -> None:
        """Make the missing reserve files (each fsynced); stops quietly at the first that cannot be made."""
        if self.size <= 0:
            return
        chunk_size = max(4096, self.size // RESERVE_CHUNKS)
        for path in self.paths:
            if path.exists():
                continue
            tmp = path.with_suffix(".tmp")
            try:
                fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
                try:
                    zeros = b"\0" * 65536
                    left = chunk_size
                    while left > 0:
                        left -= os.write(fd, zeros[: min(left, len(zeros))])
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(tmp, path)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                log.debug("could not (re)create the alarm reserve %s: %s", path, exc)
                return

    def release_one(self) -> bool:
        """Give up one reserve file; False when none is left."""
        for path in reversed(self.paths):
            if path.exists():
                log.error("disk full: releasing a quarter of the alarm reserve (%s) to make room", path.name)
                path.unlink()
                return True
        return False


def disk_free(directory: Path) -> int:
    try:
        return shutil.disk_usage(directory).free
    except OSError:
        return 0


def is_disk_full(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_FULL or "full" in str(exc).lower()
