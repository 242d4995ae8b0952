"""ESC/POS receipt printers with Chinese text: a sans-IO receipt builder and status parser.

Commands emitted by :class:`ReceiptBuilder` (hex):

==================  ===========================  ===========================================
``1B 40``           ESC @                        initialise
``1C 26`` / ``1C 2E``  FS & / FS .               Chinese (two-byte) character mode on / off
``1B 61 n``         ESC a n                      align: 0 left, 1 centre, 2 right
``1B 45 n``         ESC E n                      bold off/on
``1D 21 n``         GS ! n                       character size, (width-1) << 4 | (height-1)
``0A``              LF                           print the line and feed
``1B 64 n``         ESC d n                      print and feed n lines
``1D 56 m [n]``     GS V                         cut: m 0 full / 1 partial; 65 / 66 feed n then cut
``1D 28 6B ...``    GS ( k  cn=49 (0x31)         QR: fn 65 model, 67 module size, 69 error level,
                                                 80 store data, 81 print ("functions 165...181")
==================  ===========================  ===========================================

Text is encoded in the printer's character set, chosen with ``charset``: ``gb2312`` (many cheap
printers carry only these glyphs), ``gbk`` or ``gb18030``. A character the set cannot represent is
NEVER printed as a silent ``?``: it is replaced by a visible marker (default ``〓``, GB2312
A1FE) and listed in :attr:`ReceiptBuilder.replaced`, so the caller can warn or reprint. Control
characters other than ``\\n`` are treated the same way, which also stops user data (a name, an
address) from smuggling printer commands into the receipt. QR payloads are UTF-8 and must not
contain control characters (a ``DLE EOT`` inside one would be answered as a status query).

Status: ``DLE EOT n`` (``10 04 n``) makes the printer answer one byte at once, even when offline.
Bits 0 and 7 are always 0 and bits 1 and 4 always 1 (``b & 0x93 == 0x12``), which
:func:`parse_status` checks. n=1 printer: bit 3 offline. n=2 offline cause: bit 2 cover open,
bit 3 feed button, bit 5 stopped at paper end, bit 6 error. n=3 error cause: bit 2 recoverable
(mechanical) error, bit 3 autocutter error, bit 5 unrecoverable error, bit 6 auto-recoverable
error. n=4 paper sensor: bits 2-3 paper near end, bits 5-6 paper out.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Literal, Self

__all__ = [
    "Align",
    "Charset",
    "EscPosError",
    "EscPosStatusError",
    "PrinterFault",
    "PrinterStatus",
    "QrErrorLevel",
    "ReceiptBuilder",
    "StatusKind",
    "parse_status",
    "status_query",
]

Charset = Literal["gb2312", "gbk", "gb18030"]

ESC, GS, FS, DLE, EOT, LF = 0x1B, 0x1D, 0x1C, 0x10, 0x04, 0x0A
_QR_MAX = 7089


class EscPosError(Exception):
    """Base of the ESC/POS errors."""


class EscPosStatusError(EscPosError):
    """A status byte whose fixed bits are wrong: not an answer to ``DLE EOT``."""


class Align(IntEnum):
    LEFT = 0
    CENTER = 1
    RIGHT = 2


class QrErrorLevel(IntEnum):
    L = 48
    M = 49
    Q = 50
    H = 51


class StatusKind(IntEnum):
    PRINTER = 1
    OFFLINE_CAUSE = 2
    ERROR_CAUSE = 3
    PAPER_SENSOR = 4


class PrinterFault(Enum):
    """A printer problem, with a short message to show as a device warning."""

    PORT_UNAVAILABLE = ("打印机未连接", "printer not connected")
    NO_ANSWER = ("打印机无响应", "printer does not answer")
    OFFLINE = ("打印机离线", "printer offline")
    COVER_OPEN = ("打印机盖未关好", "printer cover open")
    PAPER_OUT = ("打印纸已用完", "printer out of paper")
    PAPER_NEAR_END = ("打印纸即将用完", "printer paper nearly used up")
    CUTTER_ERROR = ("切纸刀故障", "printer cutter error")
    UNRECOVERABLE_ERROR = ("打印机故障，需要维修", "printer fault, needs service")
    ERROR = ("打印机出错", "printer error")

    @property
    def message_zh(self) -> str:
        return self.value[0]

    @property
    def message_en(self) -> str:
        return self.value[1]


def status_query(kind: StatusKind) -> bytes:
    """``DLE EOT n``."""
    return bytes([DLE, EOT, kind])


def parse_status(byte: int) -> int:
    """Check the fixed bits of a ``DLE EOT`` answer and return it; raise EscPosStatusError."""
    if not 0 <= byte <= 0xFF or byte & 0x93 != 0x12:
        raise EscPosStatusError(f"not a DLE EOT status byte: {byte:#04x}")
    return byte


@dataclass(frozen=True)
class PrinterStatus:
    online: bool
    cover_open: bool
    paper_near_end: bool
    paper_out: bool
    error: bool  # any error reported by n=2 bit 6 or n=3
    cutter_error: bool = False
    unrecoverable_error: bool = False
    feed_button: bool = False

    @classmethod
    def from_bytes(cls, printer: int, offline: int, error: int, paper: int) -> PrinterStatus:
        """From the answers to ``DLE EOT 1``, ``2``, ``3`` and ``4`` (fixed bits checked)."""
        printer, offline, error, paper = (parse_status(b) for b in (printer, offline, error, paper))
        return cls(
            online=not printer & 0x08,
            cover_open=bool(offline & 0x04),
            feed_button=bool(offline & 0x08),
            paper_out=bool(paper & 0x60) or bool(offline & 0x20),
            paper_near_end=bool(paper & 0x0C),
            error=bool(offline & 0x40) or bool(error & 0x6C),
            cutter_error=bool(error & 0x08),
            unrecoverable_error=bool(error & 0x20),
        )

    @property
    def faults(self) -> tuple[PrinterFault, ...]:
        """Problems that stop printing, most specific first; empty when the printer can print."""
        found = [
            fault
            for fault, present in (
                (PrinterFault.PAPER_OUT, self.paper_out),
                (PrinterFault.COVER_OPEN, self.cover_open),
                (PrinterFault.UNRECOVERABLE_ERROR, self.unrecoverable_error),
                (PrinterFault.CUTTER_ERROR, self.cutter_error),
            )
            if present
        ]
        if self.error and not found:
            found.append(PrinterFault.ERROR)
        if not self.online and not found:
            found.append(PrinterFault.OFFLINE)
        return tuple(found)

    @property
    def warnings(self) -> tuple[PrinterFault, ...]:
        """Problems that do not stop printing yet."""
        return (PrinterFault.PAPER_NEAR_END,) if self.paper_near_end and not self.paper_out else ()

    @property
    def ok(self) -> bool:
        return not self.faults


def _printable(char: str, codec: str) -> bool:
    if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
        return False
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


class ReceiptBuilder:
    """Accumulates ESC/POS commands for one receipt. Methods chain; :meth:`build` gives bytes."""

    def __init__(self, *, charset: Charset = "gb18030", replacement: str = "〓", initialize: bool = True) -> None:
        if charset not in ("gb2312", "gbk", "gb18030"):
            raise ValueError(f"unsupported charset {charset!r}")
        if len(replacement) != 1 or not _printable(replacement, charset):
            raise ValueError("the replacement must be one character the charset can print")
        self.charset: Charset = charset
        self.replacement = replacement
        self._buf = bytearray()
        self._chinese = False
        self._replaced: dict[str, int] = {}
        if initialize:
            self._buf += bytes([ESC, 0x40])

    @property
    def replaced(self) -> tuple[str, ...]:
        """Distinct characters replaced by the marker so far, in first-seen order."""
        return tuple(self._replaced)

    @property
    def replaced_count(self) -> int:
        return sum(self._replaced.values())

    def text(self, text: str) -> Self:
        """Text without a line feed; ``\\n`` inside it feeds a line."""
        out = bytearray()
        for char in text:
            if char == "\n":
                out.append(LF)
                continue
            if _printable(char, self.charset):
                out += char.encode(self.charset)
            else:
                self._replaced[char] = self._replaced.get(char, 0) + 1
                out += self.replacement.encode(self.charset)
        if not self._chinese and any(b >= 0x80 for b in out):
            self._buf += bytes([FS, 0x26])
            self._chinese = True
        self._buf += out
        return self

    def line(self, text: str = "") -> Self:
        return self.text(text + "\n")

    def align(self, align: Align) -> Self:
        self._buf += bytes([ESC, 0x61, Align(align)])
        return self

    def bold(self, on: bool = True) -> Self:
        self._buf += bytes([ESC, 0x45, int(on)])
        return self

    def size(self, *, width: int = 1, height: int = 1) -> Self:
        if not (1 <= width <= 8 and 1 <= height <= 8):
            raise ValueError("width and height are 1..8")
        self._buf += bytes([GS, 0x21, (width - 1) << 4 | (height - 1)])
        return self

    def double(self, on: bool = True) -> Self:
        return self.size(width=2, height=2) if on else self.size()

    def feed(self, lines: int = 1) -> Self:
        if not 0 <= lines <= 255:
            raise ValueError("lines is 0..255")
        self._buf += bytes([ESC, 0x64, lines])
        return self

    def cut(self, *, partial: bool = False, feed: int = 3) -> Self:
        """Cut, after feeding ``feed`` lines' worth of motion units (0: cut where the paper is)."""
        if not 0 <= feed <= 255:
            raise ValueError("feed is 0..255")
        if feed:
            self._buf += bytes([GS, 0x56, 66 if partial else 65, feed])
        else:
            self._buf += bytes([GS, 0x56, 1 if partial else 0])
        return self

    def qr(
        self,
        data: str | bytes,
        *,
        model: Literal[1, 2] = 2,
        module_size: int = 6,
        error_level: QrErrorLevel = QrErrorLevel.M,
    ) -> Self:
        """A QR code (functions 165 model, 167 size, 169 error level, 180 store, 181 print)."""
        payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if not 1 <= len(payload) <= _QR_MAX:
            raise ValueError(f"QR payload must be 1..{_QR_MAX} bytes")
        if any(b < 0x20 or b == 0x7F for b in payload):
            raise ValueError("QR payload must not contain control bytes")
        if model not in (1, 2) or not 1 <= module_size <= 16:
            raise ValueError("QR model is 1 or 2 and module size 1..16")

        def fn(code: int, params: bytes) -> bytes:
            size = len(params) + 2
            return bytes([GS, 0x28, 0x6B, size & 0xFF, size >> 8, 0x31, code]) + params

        self._buf += fn(65, bytes([48 + model, 0]))
        self._buf += fn(67, bytes([module_size]))
        self._buf += fn(69, bytes([QrErrorLevel(error_level)]))
        self._buf += fn(80, b"\x30" + payload)
        self._buf += fn(81, b"\x30")
        return self

    def build(self) -> bytes:
        """The receipt's bytes (Chinese mode switched off again at the end if it was used)."""
        return bytes(self._buf) + (bytes([FS, 0x2E]) if self._chinese else b"")
