"""SIA DC-09 message types and encoders: the decoded message, the receiver's verdict, and the frames
and answers put on the wire (the sender builds frames, the receiver builds ACK, NAK and DUH).

The format is described in :mod:`drivers.dc09.codec`; CRC, LEN and AES in :mod:`drivers.dc09.frame`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from drivers.dc09.frame import Dc09CryptoError, Dc09EncodeError, encrypt_hex, format_timestamp, frame_span

__all__ = [
    "Dc09Decoded",
    "Dc09Message",
    "Dc09Response",
    "Dc09Token",
    "ResponseKind",
    "Rng",
    "encode_frame",
    "encode_response",
]

Rng = Callable[[int], bytes]

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
    "undecryptable", "malformed-data", "missing-timestamp", "encryption-required", "malformed-header",
    "missing-account"; the receiver's own policy may add more, see :mod:`drivers.dc09.guard`).
    ``account`` is "" when neither the header nor the data block named one. ``crc_format`` is the
    frame's (its answer uses the same); ``counts_as_life`` is False for a frame that must not keep a
    supervised link "ok" (refused by policy: a spoofed source, say).
    """

    verdict: ResponseKind
    reply: bytes
    account: str
    sequence: int
    message: Dc09Message | None
    reason: str = ""
    crc_format: Literal["hex", "binary"] = "hex"
    counts_as_life: bool = True

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
    return (
        f"{sequence:04d}"
        + (f"R{receiver}" if receiver is not None else "")
        + (f"L{prefix}" if prefix is not None else "")
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
    * ``DUH``: ``"DUH"seq[Rr]Lp[#acct][]`` — never encrypted; without the account when the frame it
      answers named none.

    A missing or empty ``prefix`` is sent as ``L0``.
    """
    kind = ResponseKind(kind)
    if kind is ResponseKind.NAK:
        if now is None:
            raise Dc09EncodeError("a NAK carries the receiver's time: pass now")
        body = f'"NAK"{_routing(0, receiver or "0", prefix or "0")}A0[]{format_timestamp(now)}'
        return frame_span(body.encode("ascii"), crc_format=crc_format)
    if account is None and kind is not ResponseKind.DUH:
        raise Dc09EncodeError(f"{kind} needs the account of the frame it answers")
    _check_field("account", account, _ACCOUNT_RE)
    head = _routing(sequence, receiver, prefix or "0") + (f"#{account}[" if account is not None else "[")
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
