"""Bookkeeping of the alarm links (sans-IO): which school panels and Modbus modules are heard, and the
DC-09 frames refused per account (NAK: the panel's clock is wrong; DUH: not understood).

:class:`LinkTable` keeps one row per supervised link (``unknown`` until heard, ``ok``, ``lost``) and
says when a row changed, so that each loss and each return is reported once. :class:`RejectTally`
counts refusals per account between two reports and remembers which accounts are still refused.
:class:`AlarmRateLimit` bounds the alarms one account may raise per window (a spoofed flood).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["AlarmRateLimit", "LinkRow", "LinkTable", "RejectTally"]

LinkState = Literal["ok", "lost", "unknown"]


@dataclass(slots=True)
class LinkRow:
    account: str
    site: str
    kind: Literal["dc09", "modbus"]
    state: LinkState
    since: float

    def as_json(self) -> dict[str, Any]:
        return {"account": self.account, "site": self.site, "state": self.state, "since": self.since, "kind": self.kind}


class LinkTable:
    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], LinkRow] = {}

    @staticmethod
    def _key(kind: Literal["dc09", "modbus"], account: str) -> tuple[str, str]:
        return kind, account.upper() if kind == "dc09" else account  # DC-09 accounts are hex: any case

    def add(self, kind: Literal["dc09", "modbus"], account: str, site: str, *, now: float) -> None:
        key = self._key(kind, account)
        self._rows.setdefault(key, LinkRow(key[1], site, kind, "unknown", now))

    def set(
        self, kind: Literal["dc09", "modbus"], account: str, state: LinkState, *, now: float, site: str = ""
    ) -> LinkRow | None:
        """Record a state; returns the row if it changed (a transition to report), else None."""
        key = self._key(kind, account)
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = LinkRow(key[1], site, kind, "unknown", now)
        if row.state == state:
            return None
        row.state, row.since = state, now
        return row

    def get(self, kind: Literal["dc09", "modbus"], account: str) -> LinkRow | None:
        return self._rows.get(self._key(kind, account))

    def rows(self) -> list[LinkRow]:
        return sorted(self._rows.values(), key=lambda r: (r.kind, r.account))


@dataclass(slots=True)
class _Tally:
    naks: int = 0
    duhs: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    clock_error_s: float | None = None
    panic_refused: bool = False
    delivered_anyway: int = 0


class RejectTally:
    def __init__(self) -> None:
        self._open: dict[str, _Tally] = {}
        self.refused_accounts: set[str] = set()  # accounts refused in the current or the last period
        self.totals = {"naks": 0, "duhs": 0}

    def add(
        self, account: str, *, nak: bool, reason: str, clock_error_s: float | None, panic: bool, delivered: bool
    ) -> None:
        account = account.upper()
        t = self._open.setdefault(account, _Tally())
        if nak:
            t.naks += 1
            self.totals["naks"] += 1
        else:
            t.duhs += 1
            self.totals["duhs"] += 1
        t.reasons[reason] = t.reasons.get(reason, 0) + 1
        if clock_error_s is not None:
            t.clock_error_s = clock_error_s
        t.panic_refused = t.panic_refused or (panic and not delivered)
        t.delivered_anyway += int(delivered)
        self.refused_accounts.add(account)

    def limited(self, account: str) -> None:
        """An alarm acknowledged but not raised: over the account's rate limit (reason ``rate-limited``)."""
        account = account.upper()
        t = self._open.setdefault(account, _Tally())
        t.reasons["rate-limited"] = t.reasons.get("rate-limited", 0) + 1
        t.panic_refused = True
        self.totals["rate_limited"] = self.totals.get("rate_limited", 0) + 1
        self.refused_accounts.add(account)

    def flush(self) -> tuple[list[dict[str, Any]], list[str]]:
        """The period's reports (one per refused account) and the accounts no longer refused."""
        reports = [
            {
                "account": account,
                "naks": t.naks,
                "duhs": t.duhs,
                "reasons": dict(t.reasons),
                "clock_error_s": t.clock_error_s,
                "panic_refused": t.panic_refused,
                "delivered_anyway": t.delivered_anyway,
            }
            for account, t in sorted(self._open.items())
        ]
        cleared = sorted(self.refused_accounts - set(self._open))
        self.refused_accounts = set(self._open)
        self._open = {}
        return reports, cleared


class AlarmRateLimit:
    """At most ``limit`` alarms per account in any ``window`` seconds (a sliding window, sans-IO)."""

    def __init__(self, *, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._times: dict[str, deque[float]] = {}
        self.refused: dict[str, int] = {}  # per account, since start

    def take(self, account: str, *, now: float) -> bool:
        """Whether this alarm may be raised now (and counts it); False: over the limit (counted in refused)."""
        account = account.upper()
        times = self._times.setdefault(account, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.limit:
            self.refused[account] = self.refused.get(account, 0) + 1
            return False
        times.append(now)
        return True
