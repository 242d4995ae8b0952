"""Sans-IO state for a DC-09 receiver: duplicate suppression and link supervision.

**Duplicates.** A panel that gets no ACK (lost answer, slow network) sends the same message again
with the same sequence number. The receiver must acknowledge it again but deliver it only once.
:class:`DuplicateFilter` remembers, per account, the last ``memory`` messages it delivered (sequence
number plus content) for at most ``ttl`` seconds. The content is part of the identity so that a
panel that restarted its numbering after a reboot (a new event that reuses an old number) is never
silently dropped; the timestamp is not, since a retransmission may carry a fresh one.

**Supervision.** DC-09 fixes no link-test interval: it is configured per account. Any message from
an account (``NULL`` link tests and events alike) is a sign of life. :class:`LinkSupervisor` is
given ``now`` (a monotonic clock, in seconds) by its caller and reports transitions only: an account
whose silence passed its interval is *lost* once, and *restored* once when it is heard again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from drivers.dc09.codec import Dc09Message

__all__ = ["DuplicateFilter", "LinkChange", "LinkEvent", "LinkSupervisor"]

_Key = tuple[int, str, str, tuple[str, ...]]


class DuplicateFilter:
    """Remembers delivered messages per account: ``is_duplicate`` then, once delivered, ``remember``."""

    def __init__(self, *, memory: int = 64, ttl: float | None = 600.0, max_accounts: int = 10_000) -> None:
        if memory < 1 or max_accounts < 1:
            raise ValueError("memory and max_accounts must be at least 1")
        if ttl is not None and ttl <= 0:
            raise ValueError("ttl must be positive (or None for no expiry)")
        self._memory = memory
        self._ttl = ttl
        self._max_accounts = max_accounts
        self._seen: OrderedDict[str, OrderedDict[_Key, float]] = OrderedDict()

    @staticmethod
    def _key(message: Dc09Message) -> _Key:
        return (message.sequence, message.token.value, message.data, message.extended)

    def is_duplicate(self, message: Dc09Message, *, now: float) -> bool:
        """True if this account's message with this sequence and content was delivered recently."""
        entries = self._seen.get(message.account.upper())
        if entries is None:
            return False
        when = entries.get(self._key(message))
        return when is not None and (self._ttl is None or now - when <= self._ttl)

    def remember(self, message: Dc09Message, *, now: float) -> None:
        """Record a delivered message (evicting the oldest beyond ``memory`` per account)."""
        account = message.account.upper()
        entries = self._seen.get(account)
        if entries is None:
            entries = self._seen[account] = OrderedDict()
            while len(self._seen) > self._max_accounts:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(account)
        key = self._key(message)
        entries.pop(key, None)
        entries[key] = now
        while len(entries) > self._memory:
            entries.popitem(last=False)

    def check(self, message: Dc09Message, *, now: float) -> bool:
        """True if new (and now remembered), False if a duplicate."""
        if self.is_duplicate(message, now=now):
            return False
        self.remember(message, now=now)
        return True


class LinkChange(StrEnum):
    LOST = "lost"
    RESTORED = "restored"


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """A supervision transition. ``silence`` is how long the account had been quiet (seconds)."""

    account: str
    change: LinkChange
    at: float
    silence: float


@dataclass(slots=True)
class _Link:
    interval: float
    last: float | None = None
    lost: bool = False


class LinkSupervisor:
    """Per-account link supervision, fed with ``now`` by the caller (a monotonic clock).

    ``intervals`` maps account → longest allowed silence in seconds; those accounts are watched from
    the first :meth:`poll` even if never heard. With ``default_interval``, any other account is
    watched from its first message. Accounts are matched case-insensitively.
    """

    def __init__(self, *, intervals: Mapping[str, float] | None = None, default_interval: float | None = None) -> None:
        for account, interval in (intervals or {}).items():
            if interval <= 0:
                raise ValueError(f"link-test interval for account {account!r} must be positive")
        if default_interval is not None and default_interval <= 0:
            raise ValueError("default_interval must be positive")
        self._default = default_interval
        self._links = {account.upper(): _Link(interval) for account, interval in (intervals or {}).items()}

    @property
    def active(self) -> bool:
        """Whether anything is (or may become) supervised."""
        return bool(self._links) or self._default is not None

    def alive(self, account: str, *, now: float) -> LinkEvent | None:
        """Record a sign of life; return the RESTORED transition if the account was lost."""
        key = account.upper()
        link = self._links.get(key)
        if link is None:
            if self._default is None:
                return None
            link = self._links[key] = _Link(self._default)
        previous, link.last = link.last, now
        if link.lost:
            link.lost = False
            return LinkEvent(key, LinkChange.RESTORED, now, now - (previous if previous is not None else now))
        return None

    def poll(self, *, now: float) -> list[LinkEvent]:
        """Return a LOST transition for each account whose silence just passed its interval."""
        events: list[LinkEvent] = []
        for account, link in self._links.items():
            if link.last is None:
                link.last = now  # watched but never heard: the clock starts now
                continue
            silence = now - link.last
            if not link.lost and silence > link.interval:
                link.lost = True
                events.append(LinkEvent(account, LinkChange.LOST, now, silence))
        return events

    def is_lost(self, account: str) -> bool:
        link = self._links.get(account.upper())
        return link is not None and link.lost

    def lost_accounts(self) -> list[str]:
        return sorted(a for a, link in self._links.items() if link.lost)
