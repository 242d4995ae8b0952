"""GA/T 467 SAM serial framing for second-generation ID card readers (sans-IO).

Command: ``AA AA AA 96 69 | LEN(2, big-endian) | CMD | PARA | DATA... | CHK``
Reply:   ``AA AA AA 96 69 | LEN(2, big-endian) | SW1 | SW2 | SW3 | DATA... | CHK``

LEN counts every byte after the length field, the checksum included. CHK is the XOR of every byte
from LEN1 through the last data byte (the 5-byte preamble is excluded). SW1 SW2 are ``00 00`` and
SW3 gives the result (see :class:`Sw3`): ``90`` ok, ``9F`` card found, ``80`` no card, ``60`` SAM
self-test failed...

The decoders here take bytes (and, optionally, the current time) and return frozen frames. They
resync on the preamble (stray bytes before it are dropped and counted), read lengths from the
stream (never assume a size), accept frames split over any number of reads or several frames in
one read, and drop a frame whose checksum or length is wrong: the error is raised as
:class:`SamChecksumError` / :class:`SamLengthError` and counted, and decoding resumes one byte
after the bad frame's start, so a good frame that followed is not lost.

The read-text-and-photo reply carries ``text length(2) photo length(2) [fingerprint length(2)]``
then the blocks; :func:`parse_read_data` honours the lengths it finds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from functools import reduce
from operator import xor
from typing import Generic, TypeVar

from drivers.idcard.text import IdCardError

__all__ = [
    "FIND_CARD",
    "PREAMBLE",
    "READ_TEXT_PHOTO",
    "READ_TEXT_PHOTO_FINGERPRINT",
    "RESET_SAM",
    "SAM_STATUS",
    "SELECT_CARD",
    "CardBlocks",
    "SamChecksumError",
    "SamCodec",
    "SamCommand",
    "SamCommandDecoder",
    "SamError",
    "SamFrameError",
    "SamLengthError",
    "SamReply",
    "Sw3",
    "encode_command",
    "encode_reply",
    "parse_read_data",
]

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
_HEADER = len(PREAMBLE) + 2


class Sw3(IntEnum):
    OK = 0x90
    FIND_OK = 0x9F
    NO_CONTENT = 0x91
    CHECKSUM_ERROR = 0x10
    LENGTH_ERROR = 0x11
    COMMAND_ERROR = 0x21
    UNAUTHORISED_OPERATION = 0x23
    UNKNOWN_ERROR = 0x24
    AUTH_CARD_FAILED = 0x31
    AUTH_SAM_FAILED = 0x32
    VERIFY_FAILED = 0x33
    WRONG_CARD = 0x40
    READ_FAILED = 0x41
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    FIND_FAILED = 0x80
    SELECT_FAILED = 0x81


class SamError(IdCardError):
    """Base of the SAM protocol errors."""


class SamFrameError(SamError):
    """A frame was dropped. ``decoded`` holds the good frames decoded before it in the same call;
    bytes after the bad frame stay buffered and come out of the next ``feed()`` (``feed(b"")``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.decoded: tuple[SamReply | SamCommand, ...] = ()


class SamChecksumError(SamFrameError):
    """The XOR checksum did not match."""


class SamLengthError(SamFrameError):
    """The LEN field is impossible (too short for the frame kind, or above ``max_length``)."""


@dataclass(frozen=True)
class SamCommand:
    cmd: int
    para: int
    data: bytes = b""


SAM_STATUS = SamCommand(0x11, 0xFF)
RESET_SAM = SamCommand(0x10, 0xFF)
FIND_CARD = SamCommand(0x20, 0x01)
SELECT_CARD = SamCommand(0x20, 0x02)
READ_TEXT_PHOTO = SamCommand(0x30, 0x01)
READ_TEXT_PHOTO_FINGERPRINT = SamCommand(0x30, 0x10)


@dataclass(frozen=True, repr=False)
class SamReply:
    """A reply frame. ``repr`` shows the status and the data length only (the data is personal)."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    @property
    def status(self) -> Sw3 | None:
        """SW3 as a known :class:`Sw3`, or ``None`` for a code outside the table."""
        try:
            return Sw3(self.sw3)
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return self.sw1 == 0 and self.sw2 == 0 and self.sw3 in (Sw3.OK, Sw3.FIND_OK)

    def __repr__(self) -> str:
        return f"SamReply(sw={self.sw1:02X} {self.sw2:02X} {self.sw3:02X}, data=<{len(self.data)} bytes>)"


@dataclass(frozen=True, repr=False)
class CardBlocks:
    """The blocks of a read reply: UCS-2 text, encrypted photo, optional fingerprint (opaque)."""

    text: bytes
    photo: bytes
    fingerprint: bytes = field(default=b"")

    def __repr__(self) -> str:
        return (
            f"CardBlocks(text=<{len(self.text)} bytes>, photo=<{len(self.photo)} bytes>, "
            f"fingerprint=<{len(self.fingerprint)} bytes>)"
        )


def _frame(payload: bytes) -> bytes:
    body = (len(payload) + 1).to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes([reduce(xor, body, 0)])


def encode_command(command: SamCommand) -> bytes:
    """``encode_command(SAM_STATUS) == bytes.fromhex("AAAAAA9669 0003 11FF ED")``."""
    return _frame(bytes([command.cmd, command.para]) + command.data)


def encode_reply(reply: SamReply) -> bytes:
    """The frame a reader sends (for simulators and tests)."""
    return _frame(bytes([reply.sw1, reply.sw2, reply.sw3]) + reply.data)


def parse_read_data(data: bytes) -> CardBlocks:
    """Split read-reply data by its length fields (two or three of them, whichever fits)."""
    if len(data) < 4:
        raise SamLengthError(f"read reply data has {len(data)} bytes, too short for its lengths")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if 4 + text_len + photo_len == len(data):
        return CardBlocks(text=data[4 : 4 + text_len], photo=data[4 + text_len :])
    if len(data) >= 6:
        finger_len = int.from_bytes(data[4:6], "big")
        start = 6 + text_len + photo_len
        if start + finger_len == len(data):
            return CardBlocks(text=data[6 : 6 + text_len], photo=data[6 + text_len : start], fingerprint=data[start:])
    raise SamLengthError(f"read reply lengths do not add up to its {len(data)} data bytes")


class _Deframer:
    """Preamble resync, LEN, XOR check. Yields frame payloads (the bytes between LEN and CHK)."""

    def __init__(self, *, min_payload: int, max_length: int, frame_timeout: float) -> None:
        self._buf = bytearray()
        self._min_length = min_payload + 1
        self._max_length = max_length
        self._frame_timeout = frame_timeout
        self._last_rx: float | None = None
        self.checksum_errors = 0
        self.length_errors = 0
        self.stray_bytes = 0
        self.stale_frames = 0

    def append(self, data: bytes, now: float | None) -> None:
        if now is not None:
            if self._buf and self._last_rx is not None and now - self._last_rx > self._frame_timeout:
                self.stale_frames += 1  # a partial frame that never completed: resync past it
                self._drop(1)
            if data:
                self._last_rx = now
        self._buf += data

    def _drop(self, n: int) -> None:
        self._buf[:n] = bytes(n)  # overwrite before release: no card data left in freed memory
        del self._buf[:n]

    def clear(self) -> None:
        self._drop(len(self._buf))
        self._last_rx = None

    def next_payload(self) -> bytes | None:
        buf = self._buf
        start = buf.find(PREAMBLE)
        if start < 0:
            keep = next((k for k in range(len(PREAMBLE) - 1, 0, -1) if buf.endswith(PREAMBLE[:k])), 0)
            self.stray_bytes += len(buf) - keep
            self._drop(len(buf) - keep)
            return None
        if start:
            self.stray_bytes += start
            self._drop(start)
        if len(buf) < _HEADER:
            return None
        length = int.from_bytes(buf[len(PREAMBLE) : _HEADER], "big")
        if not self._min_length <= length <= self._max_length:
            self.length_errors += 1
            self._drop(1)
            raise SamLengthError(f"impossible LEN {length}")
        end = _HEADER + length
        if len(buf) < end:
            return None
        if reduce(xor, buf[len(PREAMBLE) : end - 1], 0) != buf[end - 1]:
            self.checksum_errors += 1
            self._drop(1)
            raise SamChecksumError(f"bad checksum in a {end}-byte frame")
        payload = bytes(buf[_HEADER : end - 1])
        self._drop(end)
        return payload


_T = TypeVar("_T", bound="SamReply | SamCommand")


class _Decoder(Generic[_T]):
    """Deframes a byte stream; subclasses say how one payload becomes a value (`_make`)."""

    def __init__(self, *, min_payload: int, max_length: int, frame_timeout: float) -> None:
        self._deframer = _Deframer(min_payload=min_payload, max_length=max_length, frame_timeout=frame_timeout)

    def _make(self, payload: bytes) -> _T:
        raise NotImplementedError

    def feed(self, data: bytes, *, now: float | None = None) -> list[_T]:
        """Every complete frame in the stream so far. A bad frame raises SamFrameError, whose
        ``decoded`` holds the good frames before it; ``feed(b"")`` then yields the ones after it."""
        self._deframer.append(data, now)
        out: list[_T] = []
        while True:
            try:
                payload = self._deframer.next_payload()
            except SamFrameError as exc:
                exc.decoded = tuple(out)
                raise
            if payload is None:
                return out
            out.append(self._make(payload))

    @property
    def checksum_errors(self) -> int:
        return self._deframer.checksum_errors

    @property
    def length_errors(self) -> int:
        return self._deframer.length_errors

    @property
    def stray_bytes(self) -> int:
        return self._deframer.stray_bytes

    @property
    def stale_frames(self) -> int:
        return self._deframer.stale_frames

    def clear(self) -> None:
        """Forget (and overwrite) buffered bytes, e.g. before a new request."""
        self._deframer.clear()


class SamCodec(_Decoder[SamReply]):
    """Decodes reader replies. ``feed(bytes, now=...) -> list[SamReply]``.

    ``now`` (seconds, any monotonic clock) is optional: with it, a partial frame left unfinished
    for more than ``frame_timeout`` is abandoned when the next bytes arrive.
    """

    def __init__(self, *, max_length: int = 8192, frame_timeout: float = 0.5) -> None:
        super().__init__(min_payload=3, max_length=max_length, frame_timeout=frame_timeout)

    def _make(self, payload: bytes) -> SamReply:
        return SamReply(payload[0], payload[1], payload[2], payload[3:])


class SamCommandDecoder(_Decoder[SamCommand]):
    """Decodes host commands (the reader's side: simulators and bus sniffers)."""

    def __init__(self, *, max_length: int = 1024, frame_timeout: float = 0.5) -> None:
        super().__init__(min_payload=2, max_length=max_length, frame_timeout=frame_timeout)

    def _make(self, payload: bytes) -> SamCommand:
        return SamCommand(payload[0], payload[1], payload[2:])
