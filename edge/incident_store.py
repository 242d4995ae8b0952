"""The incident book on disk: one atomic JSON snapshot in the daemon's data directory.

``incidents.json`` holds every incident the book keeps (open ones and the last closed ones) and the
events not yet committed to the outbox. It is rewritten whole after every change, before the crew is
told (temp file, fsync, rename, fsync of the directory: a crash leaves the old or the new snapshot,
never a torn one). A snapshot is a few kilobytes; the write is well under a millisecond on the
station's disk, so it is done in line, before a DC-09 alarm is acknowledged to the panel.

Events: a change is first written here as *unsent* (type + data), then submitted to the outbox; when
the outbox has committed it, it is dropped from the unsent list at the next snapshot. A daemon killed
between the two submits the unsent events again on start-up: central may then see one change twice,
with the same ``(incident.id, incident.rev)``, and keeps one.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

import msgspec

from edge.incidents import Incident

__all__ = ["IncidentSnapshot", "IncidentStore", "PendingEvent"]

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1


class PendingEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An alarm event written here and not yet confirmed committed by the outbox."""

    key: str  # "{incident id}:{rev}" or another unique key
    type: str
    priority: int
    data: dict[str, Any]


class IncidentSnapshot(msgspec.Struct, kw_only=True):
    v: int = SNAPSHOT_VERSION
    saved_at: float = 0.0
    incidents: list[Incident] = msgspec.field(default_factory=list)
    unsent: list[PendingEvent] = msgspec.field(default_factory=list)


_decoder = msgspec.json.Decoder(IncidentSnapshot)
_encoder = msgspec.json.Encoder()


class IncidentStore:
    """Reads and atomically rewrites ``DIR/incidents.json``."""

    def __init__(self, directory: Path, *, name: str = "incidents.json") -> None:
        self.directory = Path(directory)
        self.path = self.directory / name
        self.writes = 0

    def load(self) -> IncidentSnapshot:
        """The last snapshot; an empty one if there is none. A damaged file is kept aside, not fatal."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return IncidentSnapshot()
        try:
            return _decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            aside = self.path.with_suffix(".damaged")
            with contextlib.suppress(OSError):
                os.replace(self.path, aside)
            log.error("incident snapshot %s is damaged (%s); moved to %s, starting empty", self.path, exc, aside)
            return IncidentSnapshot()

    def save(self, snapshot: IncidentSnapshot) -> None:
        """Write atomically and durably (raises OSError: the caller must not tell anyone it is saved)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = _encoder.encode(snapshot)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self.writes += 1
