"""Notices pushed by central: anti-fraud warnings and the weekly incident bulletin.

Central publishes a whole set per scope (`all` stations, or one station id) as a retained command, so a
station that was offline gets the current set when it reconnects. A set replaces the previous one of the
same scope unless it is older (by `issued_at`). Authentication of the command happens at the edge
(HMAC); this module only keeps and selects notices.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from kiosk.catalogue import Text

__all__ = ["Notice", "NoticeBoard", "NoticeSet"]

NoticeKind = Literal["anti_fraud", "bulletin"]


class Notice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    kind: NoticeKind
    title: Text
    body: Text
    published: str = ""  # RFC 3339 UTC
    expires: str = ""  # RFC 3339 UTC; empty: until replaced


class NoticeSet(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    scope: str  # "all" or a station id
    issued_at: str  # RFC 3339 UTC; orders sets of one scope
    notices: tuple[Notice, ...] = ()


class NoticeBoard:
    def __init__(self) -> None:
        self._sets: dict[str, NoticeSet] = {}

    def apply(self, new: NoticeSet) -> bool:
        """Take a set; False (kept the current one) when it is older than what is held."""
        held = self._sets.get(new.scope)
        if held is not None and new.issued_at < held.issued_at:
            return False
        self._sets[new.scope] = new
        return True

    def current(self, now_iso: str) -> list[Notice]:
        """Unexpired notices, station-specific first, anti-fraud before bulletins, newest first."""
        out: list[Notice] = []
        seen: set[str] = set()
        for scope in sorted(self._sets, key=lambda s: s == "all"):
            for n in self._sets[scope].notices:
                if n.id in seen or (n.expires and n.expires <= now_iso):
                    continue
                seen.add(n.id)
                out.append(n)
        return sorted(out, key=lambda n: (n.kind != "anti_fraud", _neg(n.published)))

    def to_data(self) -> list[dict[str, Any]]:
        data = msgspec.to_builtins(list(self._sets.values()))
        assert isinstance(data, list)
        return data

    @classmethod
    def from_data(cls, data: Any) -> NoticeBoard:
        board = cls()
        for s in msgspec.convert(data, list[NoticeSet]):
            board.apply(s)
        return board


def _neg(ts: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in ts)
