"""A simulated GA/T 467 ID card reader on a pty pair, and the text-block encoder it uses.

The driver under test opens :attr:`IdCardReaderSimulator.port` (a pty slave) as if it were the
reader's serial port; the simulator answers like a reader:

========================  ==========================================================
``11 FF`` SAM status      ``90`` (or the SW3 in ``sam_status``, e.g. ``0x60``)
``20 01`` find card       ``9F`` + 4 zero bytes with a card, ``80`` without
``20 02`` select card     ``90`` + 8 zero bytes with a card, ``81`` without
``30 01`` read            ``90`` + lengths + 256-byte text + photo, ``41`` without
other / bad checksum      ``21`` / ``10``
========================  ==========================================================

Knobs for exercising a driver: ``stray_prefix`` bytes before every reply, ``split_chunk`` to send
replies in small pieces, ``silent`` to stop answering, ``corrupt_replies`` to break the checksum
of the next N replies, ``find_fails_after_read`` to mimic readers whose next *find* after a read
fails while the card stays, ``fingerprint`` to add the third length field and block.

:func:`encode_card_text` builds the 256-byte UCS-2LE text block (space padded; offsets in
:mod:`drivers.idcard.text`) from an :class:`IdCardData`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Self

from drivers.idcard.sam import (
    SamCommand,
    SamCommandDecoder,
    SamFrameError,
    SamReply,
    Sw3,
    encode_reply,
)
from drivers.idcard.text import TEXT_BLOCK_SIZE, CardType, IdCardData, LongTerm
from drivers.serialport.pty import PtyDevice

__all__ = ["DUMMY_PHOTO", "IdCardReaderSimulator", "encode_card_text"]

DUMMY_PHOTO = b"WLT" + bytes(1021)  # 1024 bytes, the usual size of the encrypted photo


def _put(block: bytearray, offset: int, size: int, value: str, name: str) -> None:
    raw = value.encode("utf-16-le")
    if len(raw) > size:
        raise ValueError(f"{name} does not fit in {size // 2} characters")
    block[offset : offset + size] = raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def _ymd(value: date) -> str:
    return value.strftime("%Y%m%d")


def encode_card_text(data: IdCardData) -> bytes:
    """The 256-byte UCS-2LE text block a card with ``data`` holds (inverse of decode_card_text)."""
    block = bytearray(" ".encode("utf-16-le") * (TEXT_BLOCK_SIZE // 2))
    valid_to = data.valid_to.value if isinstance(data.valid_to, LongTerm) else _ymd(data.valid_to)
    if data.card_type is CardType.FOREIGN_PERMANENT:
        _put(block, 0, 120, data.english_name, "english_name")
        _put(block, 120, 2, data.gender.value, "gender")
        _put(block, 122, 30, data.id_number, "id_number")
        _put(block, 152, 6, data.nationality_code, "nationality_code")
        _put(block, 158, 30, data.name, "name")
        _put(block, 188, 16, _ymd(data.valid_from), "valid_from")
        _put(block, 204, 16, valid_to, "valid_to")
        _put(block, 220, 16, _ymd(data.birth_date), "birth_date")
        _put(block, 236, 4, data.card_version, "card_version")
        _put(block, 240, 8, data.authority_code, "authority_code")
        _put(block, 248, 2, "I", "card_type")
        return bytes(block)
    _put(block, 0, 30, data.name, "name")
    _put(block, 30, 2, data.gender.value, "gender")
    _put(block, 36, 16, _ymd(data.birth_date), "birth_date")
    _put(block, 52, 70, data.address, "address")
    _put(block, 122, 36, data.id_number, "id_number")
    _put(block, 158, 30, data.issuing_authority, "issuing_authority")
    _put(block, 188, 16, _ymd(data.valid_from), "valid_from")
    _put(block, 204, 16, valid_to, "valid_to")
    if data.card_type is CardType.HKMT_RESIDENCE:
        _put(block, 220, 18, data.pass_number, "pass_number")
        count = "" if data.issue_count is None else f"{data.issue_count:02d}"
        _put(block, 238, 4, count, "issue_count")
        _put(block, 248, 2, "J", "card_type")
    else:
        _put(block, 32, 4, data.ethnicity_code, "ethnicity_code")
    return bytes(block)


@dataclass(frozen=True)
class _Card:
    text: bytes
    photo: bytes


class IdCardReaderSimulator:
    """A reader on the master side of a pty pair. Use as ``async with``; open :attr:`port`."""

    def __init__(
        self,
        *,
        stray_prefix: bytes = b"",
        split_chunk: int = 0,
        chunk_delay: float = 0.002,
        fingerprint: bytes = b"",
    ) -> None:
        if chunk_delay <= 0:
            raise ValueError("chunk_delay must be positive (it orders the chunks)")
        self._pty = PtyDevice(self._on_data)
        self._decoder = SamCommandDecoder()
        self._card: _Card | None = None
        self._fails_left = 0
        self.stray_prefix = stray_prefix
        self.split_chunk = split_chunk
        self.chunk_delay = chunk_delay
        self.fingerprint = fingerprint
        self.sam_status = int(Sw3.OK)
        self.silent = False
        self.corrupt_replies = 0
        self.find_fails_after_read = 0
        self.commands: list[SamCommand] = []
        self.reads = 0

    @property
    def port(self) -> str:
        return self._pty.port

    async def __aenter__(self) -> Self:
        await self._pty.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._pty.close()

    def place_card(self, card: IdCardData) -> None:
        """Put a card on the reader (its photo, or :data:`DUMMY_PHOTO` if it has none)."""
        self._card = _Card(encode_card_text(card), card.photo or DUMMY_PHOTO)
        self._fails_left = 0

    def place_raw_text(self, text: bytes, photo: bytes = DUMMY_PHOTO) -> None:
        """Put a card whose text block is given as bytes (for malformed-card tests)."""
        self._card = _Card(text, photo)
        self._fails_left = 0

    def remove_card(self) -> None:
        self._card = None

    def _on_data(self, data: bytes) -> None:
        try:
            commands = self._decoder.feed(data)
        except SamFrameError as exc:
            commands = [c for c in exc.decoded if isinstance(c, SamCommand)]
            self._reply(SamReply(0, 0, Sw3.CHECKSUM_ERROR))
        for command in commands:
            self.commands.append(command)
            self._reply(self._answer(command))

    def _answer(self, command: SamCommand) -> SamReply:
        card = self._card
        key = (command.cmd, command.para)
        if key == (0x11, 0xFF):
            return SamReply(0, 0, self.sam_status)
        if self.sam_status != Sw3.OK:
            return SamReply(0, 0, self.sam_status)
        if key == (0x20, 0x01):
            if card is None or self._fails_left > 0:
                self._fails_left = max(0, self._fails_left - 1)
                return SamReply(0, 0, Sw3.FIND_FAILED)
            return SamReply(0, 0, Sw3.FIND_OK, bytes(4))
        if key == (0x20, 0x02):
            return SamReply(0, 0, Sw3.OK, bytes(8)) if card else SamReply(0, 0, Sw3.SELECT_FAILED)
        if key in ((0x30, 0x01), (0x30, 0x10)):
            if card is None:
                return SamReply(0, 0, Sw3.READ_FAILED)
            self.reads += 1
            self._fails_left = self.find_fails_after_read
            lengths = len(card.text).to_bytes(2, "big") + len(card.photo).to_bytes(2, "big")
            if self.fingerprint:
                lengths += len(self.fingerprint).to_bytes(2, "big")
            return SamReply(0, 0, Sw3.OK, lengths + card.text + card.photo + self.fingerprint)
        return SamReply(0, 0, Sw3.COMMAND_ERROR)

    def _reply(self, reply: SamReply) -> None:
        if self.silent:
            return
        frame = bytearray(encode_reply(reply))
        if self.corrupt_replies > 0:
            self.corrupt_replies -= 1
            frame[-1] ^= 0xFF
        wire = self.stray_prefix + bytes(frame)
        if self.split_chunk <= 0:
            self._pty.send(wire)
            return
        for i in range(0, len(wire), self.split_chunk):
            self._pty.send_later(self.chunk_delay * (i // self.split_chunk), wire[i : i + self.split_chunk])
