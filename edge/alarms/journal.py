"""The incident book on disk: a snapshot plus a journal of changes, in the daemon's data directory.

* ``incidents.json``: every incident the book keeps and the alarm events not yet committed to the
  outbox, with the journal *epoch* it starts. Rewritten atomically (temp file, fsync, rename, fsync of
  the directory) at start-up, when the journal is half full and at shutdown: never on the alarm path.
* ``incidents.journal``: a preallocated, zero-filled file of records ``[length u32][crc32 u32]
  [epoch u64][JSON]``; each record holds the incidents a change touched and the events it queued
  (or the events the outbox has since committed). Appending one is a ``pwrite`` into space that is
  already allocated plus one ``fdatasync``: the cheapest durable write the disk offers, done before
  the crew is told and, for DC-09, before the panel gets its ACK.

Versions: the snapshot names its format (``v``). One newer than this code knows stops start-up with
``SchemaTooNewError`` naming the file, and nothing is touched; only a snapshot that does not decode at a
version this code knows is taken for damaged (logged, kept beside as ``.damaged``).

Loading replays the snapshot's epoch from the start of the journal and stops at the first record that
is zero, torn (bad CRC) or of an older epoch. A checkpoint writes the snapshot with the next epoch and
restarts the journal at offset 0 (records of the old epoch left behind are never replayed).

Threads: :class:`JournalWriter` runs every disk operation of a store on one worker thread, in the
order the event loop submitted them, so the loop never waits for an ``fdatasync`` and the journal
holds the changes in the order they were made (a later state of an incident is never written before
an earlier one). The store itself is used by that thread only, once the writer exists.

Events: a change is journalled with its outbox event as *unsent*, then submitted to the outbox; once
committed, a ``sent`` record (not flushed: losing it only means a resend) drops it. A daemon killed
between the two submits the unsent events again on start-up: central may see one change twice, with
the same ``(incident.id, incident.rev)``, and keeps one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import struct
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from edge.alarms.incidents import Budget, Incident
from edge.system.files import fsync_dir, write_atomic
from edge.system.schema import SchemaTooNewError

__all__ = ["IncidentSnapshot", "IncidentStore", "JournalWriter", "PendingEvent"]

_T = TypeVar("_T")

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1
DEFAULT_JOURNAL_BYTES = 4 << 20
_HEADER = struct.Struct("<IIQ")


class PendingEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An alarm event written here and not yet confirmed committed by the outbox."""

    key: str  # "{incident id}:{rev}"
    type: str
    priority: int
    data: dict[str, Any]


class IncidentSnapshot(msgspec.Struct, kw_only=True):
    v: int = SNAPSHOT_VERSION
    epoch: int = 0
    saved_at: float = 0.0
    incidents: list[Incident] = msgspec.field(default_factory=list)
    unsent: list[PendingEvent] = msgspec.field(default_factory=list)
    budgets: dict[str, Budget] = msgspec.field(default_factory=dict)  # time left to targets (see incidents)


class JournalRecord(msgspec.Struct, kw_only=True, omit_defaults=True):
    incidents: list[Incident] = msgspec.field(default_factory=list)
    unsent: list[PendingEvent] = msgspec.field(default_factory=list)
    sent: list[str] = msgspec.field(default_factory=list)
    budgets: dict[str, Budget] = msgspec.field(default_factory=dict)


class _Version(msgspec.Struct):
    v: int = 1  # the snapshot as first shipped had v=1


_version_decoder = msgspec.json.Decoder(_Version)
_snapshot_decoder = msgspec.json.Decoder(IncidentSnapshot)
_record_decoder = msgspec.json.Decoder(JournalRecord)
_encoder = msgspec.json.Encoder()


class IncidentStore:
    """``open()`` once, then ``record()`` every change and ``checkpoint()`` now and then."""

    def __init__(self, directory: Path, *, journal_bytes: int = DEFAULT_JOURNAL_BYTES) -> None:
        if journal_bytes < 64 << 10:
            raise ValueError("journal_bytes must be at least 64 KiB")
        self.directory = Path(directory)
        self.path = self.directory / "incidents.json"
        self.journal_path = self.directory / "incidents.journal"
        self.journal_bytes = journal_bytes
        self.epoch = 0
        self._fd: int | None = None
        self._offset = 0
        self.records = 0
        self.checkpoints = 0

    @property
    def usage(self) -> float:
        """The used fraction of the journal."""
        return self._offset / self.journal_bytes

    # ---- loading ---------------------------------------------------------------------------------
    def open(self) -> IncidentSnapshot:
        """Load the snapshot, replay the journal onto it and prepare the journal for appending."""
        self.directory.mkdir(parents=True, exist_ok=True)
        snapshot = self._load_snapshot()
        incidents = {i.id: i for i in snapshot.incidents}
        unsent = {p.key: p for p in snapshot.unsent}
        budgets = dict(snapshot.budgets)
        records, end = self._replay(snapshot.epoch)
        for record in records:
            incidents.update((i.id, i) for i in record.incidents)
            unsent.update((p.key, p) for p in record.unsent)
            budgets.update(record.budgets)
            for key in record.sent:
                unsent.pop(key, None)
        if records:
            log.info("replayed %d incident journal records", len(records))
        self._prepare_journal()
        self.epoch = snapshot.epoch
        self._offset = end  # appending goes on after the last good record (a torn one is overwritten)
        return IncidentSnapshot(
            epoch=snapshot.epoch,
            saved_at=snapshot.saved_at,
            incidents=list(incidents.values()),
            unsent=list(unsent.values()),
            budgets={k: b for k, b in budgets.items() if k in incidents},
        )

    def _load_snapshot(self) -> IncidentSnapshot:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return IncidentSnapshot()
        try:
            version = _version_decoder.decode(raw).v
        except (msgspec.DecodeError, msgspec.ValidationError):
            version = SNAPSHOT_VERSION  # not even JSON: damaged, see below
        if version > SNAPSHOT_VERSION:  # written by a newer version: refuse, never take it for damaged
            raise SchemaTooNewError(
                f"{self.path} has snapshot version {version}, newer than this version of the software knows "
                f"({SNAPSHOT_VERSION}): run the newer version, or restore a backup made for this one; "
                "nothing was changed"
            )
        try:
            return _snapshot_decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:  # torn or corrupted on disk, not newer
            aside = self.path.with_suffix(".damaged")
            with contextlib.suppress(OSError):
                os.replace(self.path, aside)
            log.error("incident snapshot %s is damaged (%s); moved to %s", self.path, exc, aside)
            return IncidentSnapshot()

    def _replay(self, epoch: int) -> tuple[list[JournalRecord], int]:
        """The records of ``epoch`` from the start of the journal, and the offset after the last one."""
        records: list[JournalRecord] = []
        try:
            data = self.journal_path.read_bytes()
        except FileNotFoundError:
            return records, 0
        offset = 0
        while offset + _HEADER.size <= len(data):
            length, crc, rec_epoch = _HEADER.unpack_from(data, offset)
            start, end = offset + _HEADER.size, offset + _HEADER.size + length
            if length == 0 or rec_epoch != epoch or end > len(data) or zlib.crc32(data[start:end]) != crc:
                break
            try:
                records.append(_record_decoder.decode(data[start:end]))
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                log.error("incident journal record at %d unreadable (%s); replay stops there", offset, exc)
                break
            offset = end
        return records, offset

    def _prepare_journal(self) -> None:
        """Create the journal at full size, zero-filled and synced, so appends change no metadata."""
        if self._fd is not None:
            return
        fd = os.open(self.journal_path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            os.fchmod(fd, 0o640)  # whatever the umask, or an older version, left
            size = os.fstat(fd).st_size
            if size < self.journal_bytes:
                zeros = bytes(1 << 16)
                for at in range(size, self.journal_bytes, len(zeros)):
                    os.pwrite(fd, zeros[: self.journal_bytes - at], at)
                os.fsync(fd)
                fsync_dir(self.directory)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    # ---- writing ---------------------------------------------------------------------------------
    def record(
        self,
        *,
        incidents: Iterable[Incident] = (),
        unsent: Iterable[PendingEvent] = (),
        sent: Iterable[str] = (),
        durable: bool = True,
        budgets: dict[str, Budget] | None = None,
    ) -> bool:
        """Append one record (flushed to disk when ``durable``). False: no room, nothing written; the
        caller must ``checkpoint()`` the whole state instead. Raises OSError when the disk refuses."""
        if self._fd is None:
            raise RuntimeError("IncidentStore.open() first")
        payload = _encoder.encode(
            JournalRecord(incidents=list(incidents), unsent=list(unsent), sent=list(sent), budgets=budgets or {})
        )
        if self._offset + _HEADER.size + len(payload) > self.journal_bytes:
            return False
        os.pwrite(self._fd, _HEADER.pack(len(payload), zlib.crc32(payload), self.epoch) + payload, self._offset)
        if durable:
            os.fdatasync(self._fd)
        self._offset += _HEADER.size + len(payload)
        self.records += 1
        return True

    def append(
        self,
        *,
        incidents: Iterable[Incident] = (),
        unsent: Iterable[PendingEvent] = (),
        sent: Iterable[str] = (),
        durable: bool = True,
        budgets: dict[str, Budget] | None = None,
        whole: tuple[list[Incident], list[PendingEvent], Callable[[], dict[str, Budget]]],
        now: float,
    ) -> None:
        """:meth:`record`, or when the journal is full, :meth:`checkpoint` of ``whole`` (every incident,
        unsent event and, computed only then, budget; this change included) instead. Raises OSError
        when the disk refuses."""
        if not self.record(incidents=incidents, unsent=unsent, sent=sent, durable=durable, budgets=budgets):
            self.checkpoint(whole[0], whole[1], now=now, budgets=whole[2]())

    def checkpoint(
        self,
        incidents: Iterable[Incident],
        unsent: Iterable[PendingEvent],
        *,
        now: float,
        budgets: dict[str, Budget] | None = None,
    ) -> None:
        """Write the whole state as the snapshot of the next epoch; the journal starts again empty."""
        snapshot = IncidentSnapshot(
            epoch=self.epoch + 1, saved_at=now, incidents=list(incidents), unsent=list(unsent), budgets=budgets or {}
        )
        write_atomic(self.path, _encoder.encode(snapshot), mode=0o640)
        self.epoch = snapshot.epoch
        self._offset = 0
        self.checkpoints += 1

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class JournalWriter:
    """Runs a store's disk work on one thread, in submission order; the event loop awaits the results.

    ``run(fn, ...)`` returns an asyncio future; the futures complete, and their done callbacks run on
    the loop, in the order the calls were made. After :meth:`close` every ``run`` fails with
    :class:`JournalClosedError`. Arguments must not change after submission (pass copies of lists;
    incidents and pending events are frozen).
    """

    def __init__(self, store: IncidentStore) -> None:
        self.store = store
        self._pool: ThreadPoolExecutor | None = ThreadPoolExecutor(max_workers=1, thread_name_prefix="incident-journal")

    def run(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> asyncio.Future[_T]:
        loop = asyncio.get_running_loop()
        if self._pool is None:
            failed: asyncio.Future[_T] = loop.create_future()
            failed.set_exception(JournalClosedError("the incident journal is closed"))
            return failed
        return loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def close(self) -> None:
        """Wait for the work already submitted, close the store and end the thread."""
        if self._pool is None:
            return
        try:
            await self.run(self.store.close)
        finally:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True)  # idle by now: the thread ends at once


class JournalClosedError(OSError):
    """A change submitted after the writer was closed (the daemon is stopping): not saved."""
