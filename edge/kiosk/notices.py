"""The kiosk's local store of central's notices.

Central publishes `kiosk.notices` as a retained command (to `police/v1/all/cmd/kiosk.notices` or one
station's topic) whose args are a `kiosk.notices.NoticeSet`; `kiosk.result` answers a request that was
queued offline. Both are signed commands, verified by the daemon's command gate (edge/daemon/commands.py,
Ed25519, edge/wire/commands.py) before the kiosk sees them; malformed notice sets are refused here. The
notices are kept in DATA_DIR/kiosk-notices.json, written atomically, so they survive a restart.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import msgspec

from edge.system.files import read_json, write_atomic
from edge.wire import messages as wire
from kiosk.notices import Notice, NoticeBoard, NoticeSet

__all__ = ["NoticeStore", "write_atomic"]

log = logging.getLogger(__name__)


class NoticeStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.board = NoticeBoard()
        self.refused = 0

    def load(self) -> None:
        self.board = read_json(self.path, NoticeBoard.from_data, what="notice") or NoticeBoard()

    def apply(self, args: dict[str, Any]) -> bool:
        """Take a notice set from a command's args; raises ValueError when malformed."""
        try:
            new = msgspec.convert(args, NoticeSet)
        except msgspec.ValidationError as exc:
            raise ValueError(f"malformed notice set: {exc}") from None
        if not self.board.apply(new):
            return False
        write_atomic(self.path, msgspec.json.encode(self.board.to_data()))
        return True

    def current(self) -> list[Notice]:
        return self.board.current(wire.utc_now_iso())
