"""Commands from central for the kiosk, authenticated with HMAC-SHA256, and the local notice store.

Central publishes `kiosk.notices` as a retained command (to `police/v1/all/cmd/kiosk.notices` or one
station's topic) whose args are a `kiosk.notices.NoticeSet`; `kiosk.result` answers a request that was
queued offline. Both must carry `sig` = HMAC-SHA256(key, `Command.signing_bytes()`) in hex: unsigned,
badly signed, expired or malformed commands are refused (logged once per id, never applied). The
notices are kept in DATA_DIR/kiosk-notices.json, written atomically, so they survive a restart.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import msgspec

from edge.system.files import write_atomic
from edge.wire import messages as wire
from kiosk.notices import Notice, NoticeBoard, NoticeSet

__all__ = ["NoticeStore", "command_refusal", "sign_command", "write_atomic"]

log = logging.getLogger(__name__)


def sign_command(cmd: wire.Command, key: bytes) -> wire.Command:
    """The command with its `sig` set (what central does; tools and tests use it too)."""
    return wire.sign_command(cmd, key)


def command_refusal(cmd: wire.Command, key: bytes | None, *, now_iso: str) -> str | None:
    """Why the command must be refused, or None when it is authentic and current."""
    if key is None:
        return "no notice key is configured at this station"
    return wire.command_refusal(cmd, key, now_iso=now_iso)


class NoticeStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.board = NoticeBoard()
        self.refused = 0

    def load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        try:
            self.board = NoticeBoard.from_data(msgspec.json.decode(raw))
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("ignored the unreadable notice file %s: %s", self.path, exc)

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
