"""Files the station rewrites, written so that a crash or power cut leaves the old or the new one whole.

`write_atomic`: write a temporary file beside the target (mode 0600 by default, whatever the umask),
fsync it, rename it over the target, then fsync the directory so the rename itself is durable.
`private_files`: create a database file (and fix its companions) with a private mode before it is opened.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")
log = logging.getLogger(__name__)

__all__ = ["SQLITE_COMPANIONS", "fsync_dir", "private_files", "read_json", "write_atomic"]

#: The files SQLite keeps beside a database; they hold its data too.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def fsync_dir(directory: Path) -> None:
    """Make the directory's entries (a rename, a new file) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace `path` with `data` durably; on any error the old file is left as it was."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def private_files(path: Path, suffixes: tuple[str, ...] = (), *, mode: int = 0o600) -> None:
    """Create `path` if missing and give it (and each existing `path + suffix`) `mode`, whatever the umask
    and whatever mode an older version left: for files holding personal data (SQLite databases, journals)."""
    path = Path(path)
    # Create only: never open and close a database file that exists. Closing any descriptor of a file drops
    # every POSIX lock this process holds on it, including SQLite's (another connection of this process may
    # have it open): another process would then take the WAL for unused and delete it under the writer.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
    for p in [path, *(path.with_name(path.name + s) for s in suffixes)]:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(p, mode)


def read_json(path: Path, convert: Callable[[Any], T], *, what: str) -> T | None:
    """A state file written with `write_atomic`, decoded and converted; None when it does not exist or
    cannot be read as what it should hold (logged with `what` and why: the component starts without it)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return convert(msgspec.json.decode(raw))
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError) as exc:
        log.warning("ignored the unreadable %s file %s: %s", what, path, exc)
        return None
