"""SIA DC-09 (alarm transmission over IP): sans-IO message codec for receiver and sender.

A frame on the wire (see :mod:`drivers.dc09.frame` for CRC, LEN and resync)::

    <LF> CRC LEN "ID" SEQ [Rrcvr] [Lpref] #acct [data] [xdata]... [_HH:MM:SS,MM-DD-YYYY] <CR>

* ``ID``: ``SIA-DCS`` or ``ADM-CID`` (events, see :mod:`drivers.dc09.sia_dcs` and
  :mod:`drivers.dc09.contact_id`), ``NULL`` (link test). A leading ``*`` (``"*SIA-DCS"``) marks an
  encrypted frame. Tokens are case-sensitive; hex fields (CRC, LEN, R, L, account) are not.
* ``SEQ``: 4 decimal digits, 0001-9999 wrapping to 0001 (NULL frames often send 0000).
* ``R``/``L``: optional receiver and line prefix, 1-6 hex characters (an empty ``L`` is seen too);
  ``#acct``: 3-16 hex characters. Some panels leave the account out of the header and send it only
  at the start of the data block (``[#1234|Nri1/PA501]``): the account is then taken from there.
* ``[data]``: the event payload; then zero or more extended data blocks ``[Xvalue]``; then an
  optional UTC timestamp, mandatory when encrypted.
* Encrypted: everything after the ``[`` (data, ``]``, extended data, timestamp) is prefixed with a
  random pad and ``|``, encrypted with AES-128/192/256-CBC and a zero IV with the account's key,
  and sent as hex. The frame then ends without a cleartext ``]``.

The receiver answers *every* frame whose CRC and length are right (a panel that hears nothing sends
the frame again until it gives up):

* ``ACK`` (``*ACK``, encrypted with a timestamp, when the frame was encrypted): accepted;
* ``NAK`` (never encrypted, sequence 0000, carries the receiver's UTC time): the frame's timestamp is
  outside the window (default 40 s in the past to 20 s in the future of ``now``);
* ``DUH``: the frame cannot be processed (unknown account key, unsupported token, a header that does
  not parse, no account in the header or the data block, undecryptable or malformed data, encrypted
  without a timestamp). Whatever routing the header still shows (sequence, R, L, account) is echoed;
  what it does not is left out (sequence 0000, ``L0``, no ``#acct``).

Decryption with a wrong key gives random bytes, which may by chance hold a ``|`` and a ``]``: the
decrypted text after the pad mark must be printable ASCII and parse *with* its timestamp, else the
answer is ``DUH`` "undecryptable" (never "missing-timestamp" or "malformed-data" by chance).

A bad CRC or length gets no answer at all. The codec never reads a clock: ``now`` is an argument.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Literal

from drivers.dc09.encoding import (
    Dc09Decoded,
    Dc09Message,
    Dc09Response,
    Dc09Token,
    ResponseKind,
    Rng,
    encode_frame,
    encode_response,
)
from drivers.dc09.frame import (
    AES_KEY_SIZES,
    CrcFormat,
    Dc09Counters,
    Dc09CrcError,
    Dc09CryptoError,
    Dc09EncodeError,
    Dc09Error,
    Dc09FormatError,
    Dc09Framer,
    Dc09LengthError,
    Dc09Span,
    crc16_arc,
    decrypt_hex,
    parse_timestamp,
)

__all__ = [
    "CrcFormat",
    "Dc09Counters",
    "Dc09CrcError",
    "Dc09CryptoError",
    "Dc09Decoded",
    "Dc09Decoder",
    "Dc09EncodeError",
    "Dc09Error",
    "Dc09FormatError",
    "Dc09LengthError",
    "Dc09Message",
    "Dc09Response",
    "Dc09Token",
    "ResponseKind",
    "check_keys",
    "crc16_arc",
    "encode_frame",
    "encode_response",
    "parse_tail",
]


_HEADER_RE = re.compile(
    r'"(?P<star>\*?)(?P<token>[A-Z][A-Z0-9-]{0,15})"(?P<seq>\d{4})'
    r"(?:R(?P<rcvr>[0-9A-Fa-f]{1,6}))?(?:L(?P<pref>[0-9A-Fa-f]{0,6}))?"
    r"(?:#(?P<acct>[0-9A-Fa-f]{3,16}))?\["
)
# What a header that does not parse may still tell, to address the DUH.
_LOOSE_HEADER_RE = re.compile(
    r'"[^"]*"(?P<seq>\d{4})?(?:R(?P<rcvr>[0-9A-Fa-f]{1,6}))?(?:L(?P<pref>[0-9A-Fa-f]{0,6}))?'
    r"(?:#(?P<acct>[0-9A-Fa-f]{3,16}))?"
)
_DATA_ACCOUNT_RE = re.compile(r"#(?P<acct>[0-9A-Fa-f]{3,16})\|")
_TAIL_RE = re.compile(r"(?P<data>[^\[\]]*)\](?P<xdata>(?:\[[^\[\]]*\])*)(?:_(?P<ts>[^\[\]]*))?")
_XDATA_RE = re.compile(r"\[([^\[\]]*)\]")


def _as_utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def check_keys(keys: Mapping[str, bytes]) -> dict[str, bytes]:
    """Validate AES key sizes and index the keys by upper-case account."""
    out: dict[str, bytes] = {}
    for account, key in keys.items():
        if len(key) not in AES_KEY_SIZES:
            raise ValueError(f"key for account {account!r} must be 16, 24 or 32 bytes, not {len(key)}")
        out[account.upper()] = bytes(key)
    return out


def parse_tail(text: str) -> tuple[str, tuple[str, ...], datetime | None]:
    """Parse ``data]`` + ``[xdata]...`` + optional ``_timestamp`` (what follows the first ``[``)."""
    m = _TAIL_RE.fullmatch(text)
    if m is None:
        raise Dc09FormatError("data block is not data] [xdata]... [_timestamp]")
    ts = m["ts"]
    return m["data"], tuple(_XDATA_RE.findall(m["xdata"])), None if ts is None else parse_timestamp(ts)


class Dc09Decoder:
    """Sans-IO DC-09 receiver codec: ``feed(bytes, now=...)`` → one :class:`Dc09Decoded` per frame.

    Settings (keyword-only): ``keys`` maps account → AES key (16/24/32 bytes); ``crc_format``
    ("hex", "binary" or "auto"); ``max_age``/``max_ahead`` the time window in seconds (``check_time``
    False disables it; ``time_check_exempt`` names accounts whose panels keep poor time: their frames
    are ACKed whatever their timestamp); ``require_encryption`` answers DUH to cleartext frames from an
    account that has a key, except the accounts in ``cleartext_allowed`` (legacy panels); ``rng``
    supplies the random pad of ``*ACK`` replies; ``counters`` may be shared.
    Frames with a bad CRC or length are dropped silently and counted in :attr:`counters`.
    """

    def __init__(
        self,
        *,
        keys: Mapping[str, bytes] | None = None,
        crc_format: CrcFormat = "auto",
        max_age: float = 40.0,
        max_ahead: float = 20.0,
        check_time: bool = True,
        time_check_exempt: Collection[str] = (),
        require_encryption: bool = False,
        cleartext_allowed: Collection[str] = (),
        rng: Rng = os.urandom,
        counters: Dc09Counters | None = None,
    ) -> None:
        if max_age < 0 or max_ahead < 0:
            raise ValueError("max_age and max_ahead are seconds, 0 or more")
        self._keys = check_keys(keys or {})
        self._framer = Dc09Framer(crc_format=crc_format, counters=counters)
        self.counters = self._framer.counters
        self._max_age = timedelta(seconds=max_age)
        self._max_ahead = timedelta(seconds=max_ahead)
        self._check_time = check_time
        self._time_exempt = frozenset(a.upper() for a in time_check_exempt)
        self._require_encryption = require_encryption
        self._cleartext_ok = frozenset(a.upper() for a in cleartext_allowed)
        self._rng = rng

    @property
    def buffered(self) -> int:
        return self._framer.buffered

    def flush(self) -> int:
        """Drop buffered bytes (end of a datagram, closed connection); see :meth:`Dc09Framer.flush`."""
        return self._framer.flush()

    def feed(self, data: bytes, *, now: datetime) -> list[Dc09Decoded]:
        """Feed received bytes; ``now`` is the receiver's UTC clock (naive is taken as UTC)."""
        now = _as_utc(now)
        out: list[Dc09Decoded] = []
        for span in self._framer.feed(data):
            out.append(self._process(span, now))
        return out

    def _process(self, sp: Dc09Span, now: datetime) -> Dc09Decoded:
        text = sp.span.decode("latin-1")
        fmt = sp.crc_format
        m = _HEADER_RE.match(text)
        if m is None:
            return self._duh_loose(text, fmt)
        account: str | None = m["acct"]
        sequence = int(m["seq"])
        receiver, prefix, encrypted = m["rcvr"], m["pref"], bool(m["star"])

        def duh(reason: str, *, malformed: bool = False) -> Dc09Decoded:
            if malformed:
                self.counters.format_errors += 1
            return self._duh(reason, sequence=sequence, account=account, receiver=receiver, prefix=prefix, fmt=fmt)

        try:
            token = Dc09Token(m["token"])
        except ValueError:
            return duh("unsupported-token")
        rest = text[m.end() :]
        key = self._keys.get(account.upper()) if account is not None else None
        if encrypted:
            if key is None:
                return duh("unknown-account-key")
            try:
                rest = decrypt_hex(key, rest, require_pad_mark=False)
            except Dc09CryptoError:
                return duh("undecryptable", malformed=True)
            if not rest.isascii() or not rest.isprintable():  # a wrong key gives random bytes
                return duh("undecryptable", malformed=True)
        elif (
            self._require_encryption
            and key is not None
            and account is not None
            and account.upper() not in self._cleartext_ok
        ):
            return duh("encryption-required")
        try:
            data, extended, timestamp = parse_tail(rest)
        except Dc09FormatError:  # after decryption, most likely a wrong key
            return duh("undecryptable" if encrypted else "malformed-data", malformed=True)
        if encrypted and timestamp is None:
            return duh("missing-timestamp", malformed=True)
        if account is None:
            in_data = _DATA_ACCOUNT_RE.match(data)
            if in_data is None:
                return duh("missing-account", malformed=True)
            account = in_data["acct"]
            key = self._keys.get(account.upper())
            if self._require_encryption and key is not None and account.upper() not in self._cleartext_ok:
                return duh("encryption-required")
        message = Dc09Message(token, encrypted, sequence, receiver, prefix, account, data, extended, timestamp)
        if (
            timestamp is not None
            and self._check_time
            and account.upper() not in self._time_exempt
            and not (now - self._max_age <= timestamp <= now + self._max_ahead)
        ):
            self.counters.naks += 1
            reply = encode_response(ResponseKind.NAK, receiver=receiver, prefix=prefix, now=now, crc_format=fmt)
            return Dc09Decoded(ResponseKind.NAK, reply, account, sequence, message, "time-window", fmt)
        self.counters.frames_ok += 1
        reply = encode_response(
            ResponseKind.ACK,
            sequence=sequence,
            account=account,
            receiver=receiver,
            prefix=prefix,
            now=now,
            key=key if encrypted else None,
            crc_format=fmt,
            rng=self._rng,
        )
        return Dc09Decoded(ResponseKind.ACK, reply, account, sequence, message, "", fmt)

    def _duh_loose(self, text: str, fmt: Literal["hex", "binary"]) -> Dc09Decoded:
        """A span with a good CRC and length whose header does not parse: still answered, with DUH."""
        self.counters.format_errors += 1
        m = _LOOSE_HEADER_RE.match(text)
        if m is None:
            return self._duh("malformed-header", sequence=0, account=None, receiver=None, prefix=None, fmt=fmt)
        return self._duh(
            "malformed-header",
            sequence=int(m["seq"] or 0),
            account=m["acct"],
            receiver=m["rcvr"],
            prefix=m["pref"],
            fmt=fmt,
        )

    def _duh(
        self,
        reason: str,
        *,
        sequence: int,
        account: str | None,
        receiver: str | None,
        prefix: str | None,
        fmt: Literal["hex", "binary"],
    ) -> Dc09Decoded:
        self.counters.duhs += 1
        reply = encode_response(
            ResponseKind.DUH, sequence=sequence, account=account, receiver=receiver, prefix=prefix, crc_format=fmt
        )
        return Dc09Decoded(ResponseKind.DUH, reply, account or "", sequence, None, reason, fmt)
