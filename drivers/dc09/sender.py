"""SIA DC-09, sender side (an alarm panel, or the school simulator): numbering and answers.

:class:`Dc09Transmitter` numbers messages 0001-9999 (wrapping to 0001), builds frames with
:func:`drivers.dc09.codec.encode_frame` (encrypted when it has a key; encrypted frames always carry a
timestamp) and decodes the receiver's answers with a :class:`Dc09ResponseDecoder`. Both are sans-IO:
the caller moves the bytes and supplies the clock.

Answers: ``"ACK"seq...#acct[]`` (or ``"*ACK"`` with an encrypted ``]_timestamp``), ``"DUH"`` the
same shape, ``"NAK"0000R0L0A0[]_HH:MM:SS,MM-DD-YYYY`` (the receiver's clock: a sender should
correct its time and send again). A sender that gets no answer retransmits the same sequence
number; the receiver acknowledges again but delivers the event only once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Literal

from drivers.dc09.codec import (
    CrcFormat,
    Dc09Error,
    Dc09FormatError,
    Dc09Response,
    Dc09Token,
    ResponseKind,
    check_keys,
    encode_frame,
    parse_tail,
)
from drivers.dc09.frame import Dc09Framer, decrypt_hex

__all__ = ["Dc09ResponseDecoder", "Dc09Transmitter"]

_RESPONSE_RE = re.compile(
    r'"(?P<star>\*?)(?P<kind>ACK|NAK|DUH)"(?P<seq>\d{4})'
    r"(?:R(?P<rcvr>[0-9A-Fa-f]{1,6}))?(?:L(?P<pref>[0-9A-Fa-f]{1,6}?))?(?:A[0-9A-Fa-f]{0,6})?"
    r"(?:#(?P<acct>[0-9A-Fa-f]{3,16}))?\["
)


class Dc09ResponseDecoder:
    """Sans-IO decoder of receiver answers (ACK/NAK/DUH, ``*ACK``) for the sender side.

    ``keys`` (account → AES key) lets it read the timestamp inside ``*ACK``; without a key an
    encrypted ACK is still reported, with ``timestamp=None``. Damaged answers are counted in
    :attr:`counters` and skipped.
    """

    def __init__(self, *, keys: Mapping[str, bytes] | None = None, crc_format: CrcFormat = "auto") -> None:
        self._keys = check_keys(keys or {})
        self._framer = Dc09Framer(crc_format=crc_format)
        self.counters = self._framer.counters

    def feed(self, data: bytes) -> list[Dc09Response]:
        out: list[Dc09Response] = []
        for sp in self._framer.feed(data):
            try:
                out.append(self._parse(sp.span.decode("latin-1")))
            except Dc09Error:
                self.counters.format_errors += 1
        return out

    def _parse(self, text: str) -> Dc09Response:
        m = _RESPONSE_RE.match(text)
        if m is None:
            raise Dc09FormatError("not a DC-09 response")
        encrypted, account = bool(m["star"]), m["acct"]
        rest = text[m.end() :]
        timestamp: datetime | None = None
        if encrypted:
            key = self._keys.get(account.upper()) if account else None
            if key is not None:
                plain = decrypt_hex(key, rest, require_pad_mark=False)
                _, _, timestamp = parse_tail(plain.replace(" ", ""))
        else:
            _, _, timestamp = parse_tail(rest)
        return Dc09Response(ResponseKind(m["kind"]), encrypted, int(m["seq"]), m["rcvr"], m["pref"], account, timestamp)


class Dc09Transmitter:
    """Sans-IO DC-09 sender for one account: sequence numbers, frames, and answer decoding."""

    def __init__(
        self,
        *,
        account: str,
        receiver: str | None = None,
        prefix: str | None = "0",
        key: bytes | None = None,
        crc_format: Literal["hex", "binary"] = "hex",
        first_sequence: int = 1,
        rng: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if not 1 <= first_sequence <= 9999:
            raise ValueError(f"first_sequence must be 1-9999, not {first_sequence}")
        self.account = account
        self._receiver = receiver
        self._prefix = prefix
        self._key = key
        self._crc_format: Literal["hex", "binary"] = crc_format
        self._next = first_sequence
        self._rng = rng
        self._responses = Dc09ResponseDecoder(keys={account: key} if key is not None else None, crc_format=crc_format)
        # Validate every setting once, now, rather than on the first alarm.
        encode_frame(
            token=Dc09Token.NULL,
            sequence=0,
            account=account,
            receiver=receiver,
            prefix=prefix,
            timestamp=datetime(2000, 1, 1),
            key=key,
            crc_format=crc_format,
            rng=rng,
        )

    @property
    def next_sequence(self) -> int:
        return self._next

    def frame(
        self,
        token: Dc09Token | str,
        data: str = "",
        *,
        extended: Sequence[str] = (),
        now: datetime | None = None,
        sequence: int | None = None,
    ) -> tuple[int, bytes]:
        """Build the next frame; return ``(sequence, frame bytes)``.

        ``now`` adds a timestamp (required with a key). Pass ``sequence`` to rebuild a retransmission
        (e.g. with a fresh timestamp) without using up a new number.
        """
        if sequence is None:
            sequence = self._next
            self._next = self._next % 9999 + 1
        raw = encode_frame(
            token=token,
            sequence=sequence,
            account=self.account,
            data=data,
            extended=extended,
            receiver=self._receiver,
            prefix=self._prefix,
            timestamp=now,
            key=self._key,
            crc_format=self._crc_format,
            rng=self._rng,
        )
        return sequence, raw

    def link_test(self, *, now: datetime | None = None) -> tuple[int, bytes]:
        """A ``NULL`` supervision frame."""
        return self.frame(Dc09Token.NULL, now=now)

    def feed(self, data: bytes) -> list[Dc09Response]:
        """Feed bytes received from the receiver; return the answers decoded so far."""
        return self._responses.feed(data)
