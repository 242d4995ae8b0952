"""Requests accepted offline, waiting for central's answer.

When central cannot answer live, the request becomes a durable `kiosk.request` event (the outbox carries
it to central when the link returns). This list remembers only which requests wait (event seq, request
id, service): no resident data. While the link is up the kiosk asks central (`kiosk.resolve`) for their
answers; central answers each request id once, and the same answer again if asked again.
"""

from __future__ import annotations

import logging
from pathlib import Path

import msgspec

from edge.system.files import write_atomic
from edge.wire.api.kiosk import PendingRequest

__all__ = ["PendingQueue", "PendingRequest"]

log = logging.getLogger(__name__)


class PendingQueue:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: dict[str, PendingRequest] = {}

    def load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        try:
            items = msgspec.json.decode(raw, type=list[PendingRequest])
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("ignored the unreadable pending-request file %s: %s", self.path, exc)
            return
        self.items = {p.request_id: p for p in items}

    def _save(self) -> None:
        write_atomic(self.path, msgspec.json.encode(sorted(self.items.values(), key=lambda p: p.seq)))

    def add(self, item: PendingRequest) -> None:
        self.items[item.request_id] = item
        self._save()

    def remove(self, request_id: str) -> bool:
        if self.items.pop(request_id, None) is None:
            return False
        self._save()
        return True

    def __len__(self) -> int:
        return len(self.items)
