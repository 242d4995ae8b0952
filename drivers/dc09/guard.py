"""The DC-09 receiver's defences against a hostile network (sans-IO: no sockets, time is an argument).

* :class:`Refusal` and :func:`refuse`: the application's policy (which accounts, from which addresses)
  turns a frame the codec accepted into a ``DUH`` (SIA DC-09: the receiver cannot process the frame),
  keeping the parsed message for diagnostics. The panel is never ACKed, so no alarm is lost silently:
  a genuine panel that is refused shows a communication failure at the school.
* :class:`ConnectionQuota`: open TCP connections per source address, so that one address cannot fill
  the receiver's global connection cap.
* :class:`SourceRate`: datagrams per source address (a token bucket), so that one address flooding the
  UDP port is dropped before any decryption or parsing while other panels keep being answered.
* :class:`RefusalLog`: one log line per key (an account, an address) per interval: the first refusal
  at once, then the count of the others when the interval is over, never one line per frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from drivers.dc09.encoding import Dc09Decoded, Dc09Message, ResponseKind, encode_response

__all__ = ["ConnectionQuota", "Refusal", "RefusalLog", "Screen", "SourceRate", "peer_host", "refuse"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the application refuses a frame; ``counts_as_life``: the frame still keeps its account's
    supervised link alive (an unlisted account that is supervised), else it does not (a spoofed source)."""

    reason: str
    counts_as_life: bool = False


Screen = Callable[[Dc09Message, str], Refusal | None]
"""``screen(message, peer)``: the application's verdict on a parsed frame (None: let it through)."""


def refuse(decoded: Dc09Decoded, refusal: Refusal) -> Dc09Decoded:
    """The codec's ACK (or NAK) of ``decoded`` turned into a DUH for ``refusal``; the message is kept."""
    message = decoded.message
    reply = encode_response(
        ResponseKind.DUH,
        sequence=decoded.sequence,
        account=decoded.account or None,
        receiver=message.receiver if message else None,
        prefix=message.prefix if message else None,
        crc_format=decoded.crc_format,
    )
    return replace(
        decoded, verdict=ResponseKind.DUH, reply=reply, reason=refusal.reason, counts_as_life=refusal.counts_as_life
    )


def peer_host(peer: str) -> str:
    """The address part of a peer name as the receiver writes it (``1.2.3.4:5``, ``[::1]:5``)."""
    if peer.startswith("["):
        return peer[1:].partition("]")[0]
    return peer.rpartition(":")[0] if ":" in peer else peer


class ConnectionQuota:
    """Open connections per source address, at most ``per_host`` each (None: no limit)."""

    def __init__(self, per_host: int | None) -> None:
        if per_host is not None and per_host < 1:
            raise ValueError("per_host must be 1 or more (or None)")
        self.per_host = per_host
        self._open: dict[str, int] = {}

    def acquire(self, host: str) -> bool:
        count = self._open.get(host, 0)
        if self.per_host is not None and count >= self.per_host:
            return False
        self._open[host] = count + 1
        return True

    def release(self, host: str) -> None:
        count = self._open.get(host, 0) - 1
        if count > 0:
            self._open[host] = count
        else:
            self._open.pop(host, None)

    def open(self, host: str) -> int:
        return self._open.get(host, 0)


class SourceRate:
    """A token bucket per source address: ``per_second`` datagrams on average, bursts of ``burst``.

    A real panel sends a few frames a minute (an alarm, its restore, a link test), so the default leaves
    it untouched; a flood from one address costs a dictionary lookup per datagram, not a decryption.
    At most ``max_sources`` addresses are tracked; when full, the fullest buckets (addresses idle long
    enough to be back at ``burst``) are forgotten first, and if none is, the new address is refused
    until one is (a spoofed-source flood cannot grow memory or evict a busy real panel's bucket).
    ``per_second`` None: no limit.
    """

    def __init__(self, per_second: float | None, *, burst: float = 20.0, max_sources: int = 4096) -> None:
        if per_second is not None and per_second <= 0:
            raise ValueError("per_second must be positive (or None)")
        if burst < 1 or max_sources < 1:
            raise ValueError("burst and max_sources must be 1 or more")
        self.per_second = per_second
        self.burst = burst
        self.max_sources = max_sources
        self._buckets: dict[str, tuple[float, float]] = {}  # host -> (tokens, at)

    def allow(self, host: str, *, now: float) -> bool:
        if self.per_second is None:
            return True
        held = self._buckets.get(host)
        if held is None:
            if len(self._buckets) >= self.max_sources and not self._forget_full(now):
                return False
            tokens = self.burst
        else:
            tokens = min(self.burst, held[0] + (now - held[1]) * self.per_second)
        if tokens < 1.0:
            self._buckets[host] = (tokens, now)
            return False
        self._buckets[host] = (tokens - 1.0, now)
        return True

    def _forget_full(self, now: float) -> bool:
        assert self.per_second is not None
        full = [h for h, (tokens, at) in self._buckets.items() if tokens + (now - at) * self.per_second >= self.burst]
        for host in full:
            del self._buckets[host]
        return bool(full)

    def tracked(self) -> int:
        return len(self._buckets)


@dataclass(slots=True)
class _Period:
    start: float
    suppressed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class RefusalLog:
    """Rate-limited refusal lines: :meth:`note` returns a line to log, or None when it only counted.

    At most ``max_keys`` keys are tracked at once; refusals for further keys share the key ``"other"``,
    so a flood of made-up accounts is still one line per interval.
    """

    def __init__(self, *, interval: float = 60.0, max_keys: int = 32) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.interval = interval
        self.max_keys = max_keys
        self._periods: dict[str, _Period] = {}

    def note(self, key: str, reason: str, *, now: float) -> str | None:
        if key not in self._periods and len(self._periods) >= self.max_keys:
            key = "other"
        period = self._periods.get(key)
        if period is not None and now - period.start < self.interval:
            period.suppressed += 1
            period.reasons[reason] = period.reasons.get(reason, 0) + 1
            return None
        summary = self._summary(key, period) if period is not None else ""
        self._periods[key] = _Period(now)
        return f"{key}: {reason}" + (f" ({summary})" if summary else "")

    def flush(self, *, now: float) -> list[str]:
        """Lines for the periods that are over (their counts), which are then forgotten."""
        lines = []
        for key, period in list(self._periods.items()):
            if now - period.start >= self.interval:
                del self._periods[key]
                if period.suppressed:
                    lines.append(f"{key}: {self._summary(key, period)}")
        return lines

    def _summary(self, key: str, period: _Period) -> str:
        if not period.suppressed:
            return ""
        reasons = ", ".join(f"{r} x{n}" for r, n in sorted(period.reasons.items()))
        return f"{period.suppressed} more refused in {self.interval:.0f} s: {reasons}"
