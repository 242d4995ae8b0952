"""SIA DC-09 (alarm transmission over IP): sans-IO message codec for receiver and sender.

A frame on the wire (see :mod:`drivers.dc09.frame` for CRC, LEN and resync)::

    <LF> CRC LEN "ID" SEQ [Rrcvr] [Lpref] #acct [data] [xdata]... [_HH:MM:SS,MM-DD-YYYY] <CR>

* ``ID``: ``SIA-DCS`` or ``ADM-CID`` (events, see :mod:`drivers.dc09.sia_dcs` and
  :mod:`drivers.dc09.contact_id`), ``NULL`` (link test). A leading ``*`` (``"*SIA-DCS"``) marks an
  encrypted frame. Tokens are case-sensitive; hex fields (CRC, LEN, R, L, account) are not.
* ``SEQ``: 4 decimal digits, 0001-9999 wrapping to 0001 (NULL frames often send 0000).
* ``R``/``L``: optional receiver and line prefix, 1-6 hex characters; ``#acct``: 3-16 hex characters.
* ``[data]``: the event payload; then zero or more extended data blocks ``[Xvalue]``; then an
  optional UTC timestamp, mandatory when encrypted.
* Encrypted: everything after the ``[`` (data, ``]``, extended data, timestamp) is prefixed with a
  random pad and ``|``, encrypted with AES-128/192/256-CBC and a zero IV with the account's key,
  and sent as hex. The frame then ends without a cleartext ``]``.

The receiver answers each frame whose CRC and length are right:

* ``ACK`` (``*ACK``, encrypted with a timestamp, when the frame was encrypted): accepted;
* ``NAK`` (never encrypted, sequence 0000, carries the receiver's UTC time): the frame's timestamp is
  outside the window (default 40 s in the past to 20 s in the future of ``now``);
* ``DUH``: the header was understood but the frame cannot be processed (unknown account key,
  unsupported token, undecryptable or malformed data, encrypted without a timestamp).

A bad CRC or length gets no answer at all. The codec never reads a clock: ``now`` is an argument.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

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
    encrypt_hex,
    format_timestamp,
    frame_span,
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

Rng = Callable[[int], bytes]

_HEADER_RE = re.compile(
    r'"(?P<star>\*?)(?P<token>[A-Z][A-Z0-9-]{0,15})"(?P<seq>\d{4})'
    r"(?:R(?P<rcvr>[0-9A-Fa-f]{1,6}))?(?:L(?P<pref>[0-9A-Fa-f]{1,6}))?"
    r"#(?P<acct>[0-9A-Fa-f]{3,16})\["
)
_TAIL_RE = re.compile(r"(?P<data>[^\[\]]*)\](?P<xdata>(?:\[[^\[\]]*\])*)(?:_(?P<ts>[^\[\]]*))?")
_XDATA_RE = re.compile(r"\[([^\[\]]*)\]")
_ACCOUNT_RE = re.compile(r"[0-9A-Fa-f]{3,16}")
_FIELD_RE = re.compile(r"[0-9A-Fa-f]{1,6}")
_TOKEN_RE = re.compile(r"\*?[A-Z][A-Z0-9-]{0,15}")


class Dc09Token(StrEnum):
    """Message id tokens this receiver processes (without the ``*`` of encryption)."""

    SIA_DCS = "SIA-DCS"
    ADM_CID = "ADM-CID"
    NULL = "NULL"


class ResponseKind(StrEnum):
    ACK = "ACK"
    NAK = "NAK"
    DUH = "DUH"


@dataclass(frozen=True, slots=True)
class Dc09Message:
    """One decoded (and, if it was encrypted, decrypted) DC-09 message."""

    token: Dc09Token
    encrypted: bool
    sequence: int  # 0-9999
    receiver: str | None  # the hex after R, e.g. "F3"; None when absent
    prefix: str | None  # the hex after L, e.g. "0"; None when absent
    account: str  # as sent (hex, case preserved)
    data: str  # between [ and ], e.g. "#1002|1602 00 001"; "" for []
    extended: tuple[str, ...] = ()  # contents of the extended data blocks, e.g. ("Atest",)
    timestamp: datetime | None = None  # aware UTC, when the frame carried one

    @property
    def is_link_test(self) -> bool:
        return self.token is Dc09Token.NULL


@dataclass(frozen=True, slots=True)
class Dc09Decoded:
    """What the receiver made of one frame with a good CRC: the verdict and the bytes to send back.

    ``message`` is set for ACK (deliver it) and for NAK (parsed but outside the time window: do not
    deliver; useful for diagnostics); it is None for DUH. ``reason`` is "" for ACK, else a short
    machine-readable cause ("time-window", "unknown-account-key", "unsupported-token",
    "undecryptable", "malformed-data", "missing-timestamp", "encryption-required").
    """

    verdict: ResponseKind
    reply: bytes
    account: str
    sequence: int
    message: Dc09Message | None
    reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.verdict is ResponseKind.ACK


@dataclass(frozen=True, slots=True)
class Dc09Response:
    """A receiver's answer, as decoded on the sender side."""

    kind: ResponseKind
    encrypted: bool
    sequence: int
    receiver: str | None
    prefix: str | None
    account: str | None
    timestamp: datetime | None  # the receiver's clock (NAK, *ACK when the key is known)


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
    are ACKed whatever their timestamp); ``require_encryption`` answers DUH to cleartext frames from an account that
    has a key; ``rng`` supplies the random pad of ``*ACK`` replies; ``counters`` may be shared.
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
            decoded = self._process(span, now)
            if decoded is not None:
                out.append(decoded)
        return out

    def _process(self, sp: Dc09Span, now: datetime) -> Dc09Decoded | None:
        text = sp.span.decode("latin-1")
        m = _HEADER_RE.match(text)
        if m is None:
            self.counters.format_errors += 1
            return None
        account, sequence = m["acct"], int(m["seq"])
        receiver, prefix, encrypted = m["rcvr"], m["pref"], bool(m["star"])
        fmt = sp.crc_format

        def duh(reason: str, *, malformed: bool = False) -> Dc09Decoded:
            if malformed:
                self.counters.format_errors += 1
            self.counters.duhs += 1
            reply = encode_response(
                ResponseKind.DUH, sequence=sequence, account=account, receiver=receiver,
                prefix=prefix, crc_format=fmt,
            )
            return Dc09Decoded(ResponseKind.DUH, reply, account, sequence, None, reason)

        try:
            token = Dc09Token(m["token"])
        except ValueError:
            return duh("unsupported-token")
        rest = text[m.end() :]
        key = self._keys.get(account.upper())
        if encrypted:
            if key is None:
                return duh("unknown-account-key")
            try:
                rest = decrypt_hex(key, rest, require_pad_mark=False)
            except Dc09CryptoError:
                return duh("undecryptable", malformed=True)
        elif self._require_encryption and key is not None:
            return duh("encryption-required")
        try:
            data, extended, timestamp = parse_tail(rest)
        except Dc09FormatError:  # after decryption, most likely a wrong key
            return duh("undecryptable" if encrypted else "malformed-data", malformed=True)
        if encrypted and timestamp is None:
            return duh("missing-timestamp", malformed=True)
        message = Dc09Message(token, encrypted, sequence, receiver, prefix, account, data, extended, timestamp)
        if (
            timestamp is not None
            and self._check_time
            and account.upper() not in self._time_exempt
            and not (now - self._max_age <= timestamp <= now + self._max_ahead)
        ):
            self.counters.naks += 1
            reply = encode_response(
                ResponseKind.NAK, receiver=receiver, prefix=prefix, now=now, crc_format=fmt
            )
            return Dc09Decoded(ResponseKind.NAK, reply, account, sequence, message, "time-window")
        self.counters.frames_ok += 1
        reply = encode_response(
            ResponseKind.ACK, sequence=sequence, account=account, receiver=receiver, prefix=prefix,
            now=now, key=key if encrypted else None, crc_format=fmt, rng=self._rng,
        )
        return Dc09Decoded(ResponseKind.ACK, reply, account, sequence, message)


# --- encoders -----------------------------------------------------------------------------------


def _check_field(name: str, value: str | None, pattern: re.Pattern[str]) -> None:
    if value is not None and not pattern.fullmatch(value):
        raise Dc09EncodeError(f"{name} {value!r} is not valid ({pattern.pattern})")


def _check_text(name: str, value: str) -> None:
    if any(ch in value for ch in "[]\r\n"):
        raise Dc09EncodeError(f"{name} cannot contain [, ], CR or LF")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise Dc09EncodeError(f"{name} must be ASCII or Latin-1 text") from None


def _routing(sequence: int, receiver: str | None, prefix: str | None) -> str:
    if not 0 <= sequence <= 9999:
        raise Dc09EncodeError(f"sequence {sequence} is not 0-9999")
    _check_field("receiver", receiver, _FIELD_RE)
    _check_field("prefix", prefix, _FIELD_RE)
    return f"{sequence:04d}" + (f"R{receiver}" if receiver is not None else "") + (
        f"L{prefix}" if prefix is not None else ""
    )


def encode_frame(
    *,
    token: Dc09Token | str,
    sequence: int,
    account: str,
    data: str = "",
    extended: Sequence[str] = (),
    receiver: str | None = None,
    prefix: str | None = "0",
    timestamp: datetime | None = None,
    key: bytes | None = None,
    crc_format: Literal["hex", "binary"] = "hex",
    rng: Rng = os.urandom,
) -> bytes:
    """Build one DC-09 frame (sender side). With ``key`` it is encrypted and needs ``timestamp``.

    ``token`` is a :class:`Dc09Token` or any ``[A-Z][A-Z0-9-]*`` string (without ``*``).
    """
    token = str(token)
    if not _TOKEN_RE.fullmatch(token) or token.startswith("*"):
        raise Dc09EncodeError(f"token {token!r} is not a DC-09 message id")
    _check_field("account", account, _ACCOUNT_RE)
    _check_text("data", data)
    for block in extended:
        _check_text("extended data", block)
    tail = data + "]" + "".join(f"[{x}]" for x in extended)
    if timestamp is not None:
        tail += format_timestamp(timestamp)
    head = _routing(sequence, receiver, prefix) + f"#{account}["
    if key is not None:
        if timestamp is None:
            raise Dc09EncodeError("an encrypted frame must carry a timestamp")
        try:
            body = f'"*{token}"{head}{encrypt_hex(key, tail, rng=rng)}'
        except Dc09CryptoError as exc:
            raise Dc09EncodeError(str(exc)) from None
    else:
        body = f'"{token}"{head}{tail}'
    return frame_span(body.encode("latin-1"), crc_format=crc_format)


def encode_response(
    kind: ResponseKind | str,
    *,
    sequence: int = 0,
    account: str | None = None,
    receiver: str | None = None,
    prefix: str | None = None,
    now: datetime | None = None,
    key: bytes | None = None,
    crc_format: Literal["hex", "binary"] = "hex",
    rng: Rng = os.urandom,
) -> bytes:
    """Build a receiver answer.

    * ``ACK``: ``"ACK"seq[Rr]Lp#acct[]``; with ``key`` (the frame was encrypted) ``"*ACK"`` whose
      encrypted part is ``]`` + the receiver timestamp ``now`` (required then).
    * ``NAK``: ``"NAK"0000R<r|0>L<p|0>A0[]_<now>`` — never encrypted, ``now`` required.
    * ``DUH``: ``"DUH"seq[Rr]Lp#acct[]`` — never encrypted.

    A missing ``prefix`` is sent as ``L0``.
    """
    kind = ResponseKind(kind)
    if kind is ResponseKind.NAK:
        if now is None:
            raise Dc09EncodeError("a NAK carries the receiver's time: pass now")
        body = f'"NAK"{_routing(0, receiver or "0", prefix or "0")}A0[]{format_timestamp(now)}'
        return frame_span(body.encode("ascii"), crc_format=crc_format)
    if account is None:
        raise Dc09EncodeError(f"{kind} needs the account of the frame it answers")
    _check_field("account", account, _ACCOUNT_RE)
    head = _routing(sequence, receiver, prefix or "0") + f"#{account}["
    if kind is ResponseKind.ACK and key is not None:
        if now is None:
            raise Dc09EncodeError("an encrypted ACK carries the receiver's time: pass now")
        try:
            body = f'"*ACK"{head}{encrypt_hex(key, "]" + format_timestamp(now), rng=rng)}'
        except Dc09CryptoError as exc:
            raise Dc09EncodeError(str(exc)) from None
    else:
        body = f'"{kind}"{head}]'
    return frame_span(body.encode("ascii"), crc_format=crc_format)
