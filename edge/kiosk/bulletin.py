"""The kiosk's latest weekly bulletin, as central sent it (`kiosk.bulletin`, a signed command).

The daemon's command gate verified the command (Ed25519, target, expiry, counter) before this sees it;
malformed args are refused here. The latest bulletin (by week, then by when central generated it, so an
edited re-send of the same week replaces it and an older week never does) is kept in
DATA_DIR/kiosk-bulletin.json, written atomically, so it survives a restart.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import msgspec

from edge.system.files import read_json, write_atomic
from edge.wire.bulletin import Bulletin

__all__ = ["BulletinStore"]

log = logging.getLogger(__name__)


class BulletinStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.current: Bulletin | None = None

    def load(self) -> None:
        self.current = read_json(self.path, lambda data: msgspec.convert(data, Bulletin), what="bulletin")

    def apply(self, args: dict[str, Any]) -> bool:
        """Take a bulletin from a command's args; False when it is older than the one held; ValueError
        when malformed."""
        try:
            new = msgspec.convert(args, Bulletin)
        except msgspec.ValidationError as exc:
            raise ValueError(f"malformed bulletin: {exc}") from None
        if self.current is not None and new.order_key() < self.current.order_key():
            return False
        write_atomic(self.path, msgspec.json.encode(new))
        self.current = new
        return True
