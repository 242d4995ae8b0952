"""SIA DC-09 framing layer: CRC, header, byte-stream resync, timestamps and AES.

This module knows the outer envelope of a DC-09 frame and nothing about what the frame means::

    <LF> CRC LEN "ID" ... <CR>

* ``CRC`` is CRC-16/ARC (poly 0xA001 reflected, init 0) over the *span*: every byte from the first
  ``"`` up to, not including, the ``<CR>``. It is sent either as 4 hex characters (either case) or,
  by some panels, as 2 raw bytes, high byte first (``crc_format="binary"``). ``"auto"`` accepts both.
* ``LEN`` is ``"0"`` + 3 hex characters (either case): the byte count of the same span.
* The span is printable ASCII (plus, tolerated, 8-bit text), never ``<CR>`` or ``<LF>``.

:class:`Dc09Framer` is sans-IO: ``feed(bytes)`` returns the spans of every frame whose length and
CRC are right. It keeps a buffer across calls, so a frame may be split over any number of feeds and
one feed may hold several frames. Bytes before an ``<LF>`` are garbage. A candidate frame whose
length or CRC is wrong is dropped and the search restarts one byte after its ``<LF>``, so an intact
frame that follows a damaged one is always found. A ``<CR>`` or ``<LF>`` inside a claimed span is a
length error at once (no waiting for bytes that a panel waiting for its ACK will never send).

The helpers for the DC-09 timestamp (``_HH:MM:SS,MM-DD-YYYY``, always UTC) and for the encrypted
part (AES-CBC, zero IV, random pad + ``|`` in front of the plaintext, hex on the wire) live here too,
since both the receiver and the sender side need them. Some panels (and receivers) pad with no
``|`` when the data is empty (``pppp]_HH:MM:SS,...``): :func:`decrypt_hex` accepts that too.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Literal

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "AES_KEY_SIZES",
    "MAX_SPAN",
    "CrcFormat",
    "Dc09Counters",
    "Dc09CrcError",
    "Dc09CryptoError",
    "Dc09EncodeError",
    "Dc09Error",
    "Dc09FormatError",
    "Dc09Framer",
    "Dc09LengthError",
    "Dc09Span",
    "crc16_arc",
    "decrypt_hex",
    "encrypt_hex",
    "format_timestamp",
    "frame_span",
    "parse_timestamp",
]

CrcFormat = Literal["hex", "binary", "auto"]

LF = 0x0A
CR = 0x0D
QUOTE = 0x22
MAX_SPAN = 0xFFF  # LEN is "0" + 3 hex digits
AES_KEY_SIZES = (16, 24, 32)
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ZERO_IV = bytes(16)
# Pad characters: printable, and never one of the DC-09 delimiters | [ ].
_PAD_ALPHABET = (string.ascii_letters + string.digits).encode("ascii")
_TIMESTAMP_RE = re.compile(r"(\d{2}):(\d{2}):(\d{2}),(\d{2})-(\d{2})-(\d{4})")


class Dc09Error(Exception):
    """Base of every error raised by the DC-09 codec."""


class Dc09CrcError(Dc09Error):
    """The CRC in the header does not match the span."""


class Dc09LengthError(Dc09Error):
    """The LEN field does not match the span (or the frame is truncated)."""


class Dc09FormatError(Dc09Error):
    """The span passed CRC and length checks but its content is not a DC-09 message."""


class Dc09CryptoError(Dc09Error):
    """A key of the wrong size, ciphertext that is not hex blocks, or plaintext without a pad mark."""


class Dc09EncodeError(Dc09Error, ValueError):
    """Arguments to an encoder that cannot be put on the wire."""


@dataclass(slots=True)
class Dc09Counters:
    """Running counts of what a decoder saw. One instance may be shared by several decoders.

    ``frames_ok`` counts frames answered with ACK; ``naks`` and ``duhs`` the other answers.
    ``crc_errors`` and ``length_errors`` count dropped candidates (never answered); ``format_errors``
    counts frames with a good CRC whose content could not be parsed (answered DUH when the header
    could be read, else dropped). ``garbage_bytes`` counts bytes skipped while hunting for a frame
    start, including the bytes of rejected candidates.
    """

    frames_ok: int = 0
    crc_errors: int = 0
    length_errors: int = 0
    format_errors: int = 0
    garbage_bytes: int = 0
    naks: int = 0
    duhs: int = 0

    @property
    def rejected(self) -> int:
        """Frames dropped with no answer at all."""
        return self.crc_errors + self.length_errors

    def snapshot(self) -> Dc09Counters:
        return Dc09Counters(**{f.name: getattr(self, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Dc09Span:
    """The checked span of one frame (from the first ``"`` to before ``<CR>``)."""

    span: bytes
    crc_format: Literal["hex", "binary"]


def crc16_arc(data: bytes) -> int:
    """CRC-16/ARC: reflected poly 0xA001, init 0, no final xor (check value 0xBB3D for b"123456789")."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def frame_span(span: bytes, *, crc_format: Literal["hex", "binary"] = "hex") -> bytes:
    """Wrap a span in ``<LF> CRC LEN ... <CR>``."""
    if not span.startswith(b'"'):
        raise Dc09EncodeError('a DC-09 span starts with "')
    if len(span) > MAX_SPAN:
        raise Dc09EncodeError(f"span of {len(span)} bytes exceeds {MAX_SPAN}")
    if b"\r" in span or b"\n" in span:
        raise Dc09EncodeError("a DC-09 span cannot hold CR or LF")
    crc = crc16_arc(span)
    crc_bytes = crc.to_bytes(2, "big") if crc_format == "binary" else f"{crc:04X}".encode("ascii")
    return b"\n" + crc_bytes + f"{len(span):04X}".encode("ascii") + span + b"\r"


_NEED_MORE = "need-more"
_NOT_HEADER = "not-header"


@dataclass(frozen=True, slots=True)
class _Header:
    crc: int
    length: int
    span_start: int
    crc_format: Literal["hex", "binary"]


def _is_len(field_: bytes) -> bool:
    return len(field_) == 4 and field_[0] == 0x30 and all(b in _HEX for b in field_[1:])


def _prefix_ok(buf: bytearray, layout: Literal["hex", "binary"]) -> bool:
    """Whether the bytes after <LF> so far are consistent with a header of this layout."""
    crc_len = 4 if layout == "hex" else 2
    avail = len(buf)
    for i in range(1, min(avail, crc_len + 6)):
        b = buf[i]
        if i <= crc_len:
            ok = layout == "binary" or b in _HEX
        elif i == crc_len + 1:
            ok = b == 0x30
        elif i < crc_len + 5:
            ok = b in _HEX
        else:
            ok = b == QUOTE
        if not ok:
            return False
    return True


def _read_header(buf: bytearray, layouts: tuple[Literal["hex", "binary"], ...]) -> _Header | str:
    """Parse the header at ``buf[0] == <LF>``; say whether more bytes are needed or it is no header."""
    waiting = False
    for layout in layouts:
        if not _prefix_ok(buf, layout):
            continue
        crc_len = 4 if layout == "hex" else 2
        if len(buf) < crc_len + 6:  # LF + CRC + LEN + the opening quote
            waiting = True
            continue
        len_field = bytes(buf[1 + crc_len : 5 + crc_len])
        if not _is_len(len_field):  # pragma: no cover - _prefix_ok checked every byte
            continue
        crc_field = bytes(buf[1 : 1 + crc_len])
        crc = int(crc_field, 16) if layout == "hex" else int.from_bytes(crc_field, "big")
        return _Header(crc, int(len_field, 16), 5 + crc_len, layout)
    return _NEED_MORE if waiting else _NOT_HEADER


class Dc09Framer:
    """Sans-IO DC-09 framer: bytes in, checked spans out. Never raises on input.

    ``crc_format`` chooses which CRC encodings are accepted: ``"hex"`` (4 hex chars), ``"binary"``
    (2 raw bytes, high first) or ``"auto"`` (either, told apart by where the ``"`` falls).
    """

    def __init__(self, *, crc_format: CrcFormat = "auto", counters: Dc09Counters | None = None) -> None:
        if crc_format not in ("hex", "binary", "auto"):
            raise ValueError(f"crc_format must be 'hex', 'binary' or 'auto', not {crc_format!r}")
        self._layouts: tuple[Literal["hex", "binary"], ...] = (
            ("hex", "binary") if crc_format == "auto" else (crc_format,)
        )
        self._buf = bytearray()
        self.counters = counters if counters is not None else Dc09Counters()

    @property
    def buffered(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Dc09Span]:
        """Append ``data`` and return the span of every complete frame with a good length and CRC."""
        buf = self._buf
        buf += data
        out: list[Dc09Span] = []
        c = self.counters
        while buf:
            lf = buf.find(b"\n")
            if lf < 0:
                c.garbage_bytes += len(buf)
                buf.clear()
                break
            if lf:
                c.garbage_bytes += lf
                del buf[:lf]
            header = _read_header(buf, self._layouts)
            if header == _NEED_MORE:
                break
            if not isinstance(header, _Header):
                c.garbage_bytes += 1
                del buf[:1]
                continue
            start, end = header.span_start, header.span_start + header.length
            limit = min(end, len(buf))
            if buf.find(b"\r", start, limit) >= 0 or buf.find(b"\n", start, limit) >= 0:
                self._reject("length")
                continue
            if len(buf) <= end:
                break
            if buf[end] != CR:
                self._reject("length")
                continue
            span = bytes(buf[start:end])
            if crc16_arc(span) != header.crc:
                self._reject("crc")
                continue
            del buf[: end + 1]
            out.append(Dc09Span(span, header.crc_format))
        return out

    def flush(self) -> int:
        """Drop whatever is buffered (end of a datagram or a closed connection); return its size.

        A buffered frame start counts as a length error (a truncated frame); bytes count as garbage.
        """
        held = len(self._buf)
        if held:
            if _read_header(self._buf, self._layouts) != _NOT_HEADER:
                self.counters.length_errors += 1
            self.counters.garbage_bytes += held
            self._buf.clear()
        return held

    def _reject(self, kind: Literal["length", "crc"]) -> None:
        if kind == "crc":
            self.counters.crc_errors += 1
        else:
            self.counters.length_errors += 1
        self.counters.garbage_bytes += 1
        del self._buf[:1]


# --- timestamps ---------------------------------------------------------------------------------


def format_timestamp(when: datetime) -> str:
    """``_HH:MM:SS,MM-DD-YYYY`` in UTC (a naive datetime is taken as UTC)."""
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return utc.strftime("_%H:%M:%S,%m-%d-%Y")


def parse_timestamp(text: str) -> datetime:
    """Parse ``HH:MM:SS,MM-DD-YYYY`` (without the leading underscore) as an aware UTC datetime."""
    m = _TIMESTAMP_RE.fullmatch(text)
    if m is None:
        raise Dc09FormatError("timestamp is not HH:MM:SS,MM-DD-YYYY")
    hh, mi, ss, mo, dd, yyyy = (int(g) for g in m.groups())
    try:
        return datetime(yyyy, mo, dd, hh, mi, ss, tzinfo=UTC)
    except ValueError as exc:
        raise Dc09FormatError(f"timestamp out of range: {exc}") from None


# --- encryption ---------------------------------------------------------------------------------


def _cipher(key: bytes) -> Cipher[modes.CBC]:
    if len(key) not in AES_KEY_SIZES:
        raise Dc09CryptoError(f"AES key must be 16, 24 or 32 bytes, not {len(key)}")
    return Cipher(algorithms.AES(key), modes.CBC(_ZERO_IV))


def encrypt_hex(key: bytes, plaintext: str, *, rng: Callable[[int], bytes]) -> str:
    """Random pad + ``|`` + plaintext, padded to whole AES blocks, AES-CBC with zero IV, upper hex.

    The pad is 1-16 printable characters drawn from ``rng`` (never ``|``, ``[`` or ``]``).
    """
    body = plaintext.encode("latin-1")
    pad_len = -(len(body) + 1) % 16 or 16
    pad = bytes(_PAD_ALPHABET[b % len(_PAD_ALPHABET)] for b in rng(pad_len)[:pad_len])
    if len(pad) != pad_len:
        raise Dc09CryptoError("rng returned too few bytes")
    enc = _cipher(key).encryptor()
    return (enc.update(pad + b"|" + body) + enc.finalize()).hex().upper()


def decrypt_hex(key: bytes, text: str, *, require_pad_mark: bool = True) -> str:
    """Decrypt hex ciphertext and return the plaintext after the pad and its ``|``.

    With ``require_pad_mark=False`` (responses from some receivers pad with zeros and no ``|``), a
    plaintext without ``|`` is returned from its first ``]``.
    """
    if not text or len(text) % 32 or any(ch not in string.hexdigits for ch in text):
        raise Dc09CryptoError("ciphertext is not whole AES blocks of hex")
    dec = _cipher(key).decryptor()
    plain = (dec.update(bytes.fromhex(text)) + dec.finalize()).decode("latin-1")
    mark = plain.find("|")
    if mark >= 0:
        return plain[mark + 1 :]
    bracket = plain.find("]")
    if require_pad_mark or bracket < 0:
        raise Dc09CryptoError("decrypted text has no pad mark (wrong key?)")
    return plain[bracket:]
