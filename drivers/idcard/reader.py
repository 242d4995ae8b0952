"""Second-generation ID card reader (GA/T 467 SAM, serial, default 115200 8N1).

This module is the public face of the driver. The sans-IO parts live beside it and are re-exported
here: the SAM framing in :mod:`drivers.idcard.sam` (``SamCodec``, commands, ``Sw3``) and the text
block in :mod:`drivers.idcard.text` (``decode_card_text`` → ``IdCardData``).

:class:`IdCardReader` is the asyncio transport. Each poll (no faster than every 300 ms) asks
*find card* (``20 01``); when a card answers ``9F`` it sends *select* (``20 02``) and *read text +
photo* (``30 01``), decodes the text and reports :class:`CardRead` once per placement. While the
same card stays it is not reported again; after ``removal_polls`` consecutive "no card" answers it
reports :class:`CardRemoved` and the next placement is read again. The reader recognises "the same
card" by a keyed BLAKE2b digest of its text block (a random key per reader, never the content), so
it keeps no card data between polls.

Before polling, and again after every fault, it checks the SAM (``11 FF``). Problems become one
:class:`ReaderStatus` event when they start and one when they clear, never a stream: port missing,
no reply, repeated corrupt frames, SAM self-test failed (``60``), SAM not authorised (``66``).
Logging follows the same rule and never includes card content.

    async with IdCardReader("/dev/ttyUSB0") as reader:
        async for event in reader.events():
            ...
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import Self

from drivers.idcard.sam import (
    FIND_CARD,
    PREAMBLE,
    READ_TEXT_PHOTO,
    SAM_STATUS,
    SELECT_CARD,
    CardBlocks,
    SamChecksumError,
    SamCodec,
    SamCommand,
    SamCommandDecoder,
    SamError,
    SamFrameError,
    SamLengthError,
    SamReply,
    Sw3,
    encode_command,
    encode_reply,
    parse_read_data,
)
from drivers.idcard.text import (
    ETHNICITIES,
    LONG_TERM,
    CardTextError,
    CardType,
    Gender,
    IdCardData,
    IdCardError,
    LongTerm,
    decode_card_text,
)
from drivers.serialport.link import SerialLink, SerialLinkError

__all__ = [
    "ETHNICITIES",
    "FIND_CARD",
    "LONG_TERM",
    "PREAMBLE",
    "READ_TEXT_PHOTO",
    "SAM_STATUS",
    "SELECT_CARD",
    "CardBlocks",
    "CardRead",
    "CardReadFailed",
    "CardRemoved",
    "CardTextError",
    "CardType",
    "Gender",
    "IdCardData",
    "IdCardError",
    "IdCardReader",
    "LongTerm",
    "ReaderEvent",
    "ReaderFault",
    "ReaderStatus",
    "SamChecksumError",
    "SamCodec",
    "SamCommand",
    "SamCommandDecoder",
    "SamError",
    "SamFrameError",
    "SamLengthError",
    "SamReply",
    "SamTimeoutError",
    "Sw3",
    "decode_card_text",
    "encode_command",
    "encode_reply",
    "parse_read_data",
]

_LOG = logging.getLogger(__name__)
MIN_POLL_INTERVAL = 0.3


class SamTimeoutError(SamError):
    """No complete reply within the reply timeout."""


class ReaderFault(Enum):
    PORT_UNAVAILABLE = "port_unavailable"  # cannot open the port / it went away
    NO_REPLY = "no_reply"  # the port is open but the reader does not answer
    LINK_ERRORS = "link_errors"  # replies keep arriving corrupt (checksum/length)
    SAM_SELF_TEST_FAILED = "sam_self_test_failed"  # SW3 60
    SAM_NOT_AUTHORISED = "sam_not_authorised"  # SW3 66
    DEVICE_ERROR = "device_error"  # the SAM status check returned another error code


@dataclass(frozen=True)
class ReaderStatus:
    """The reader became healthy (``fault is None``) or faulty. ``detail`` holds no card data."""

    fault: ReaderFault | None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.fault is None


@dataclass(frozen=True)
class CardRead:
    """A card was placed and read. ``repr`` masks the personal fields (see :class:`IdCardData`)."""

    data: IdCardData


@dataclass(frozen=True)
class CardReadFailed:
    """A card was placed but its text could not be decoded (reported once per placement)."""

    reason: str


@dataclass(frozen=True)
class CardRemoved:
    """The card that was read has been taken away."""


ReaderEvent = CardRead | CardReadFailed | CardRemoved | ReaderStatus

_SW3_FAULTS = {
    Sw3.SAM_SELF_TEST_FAILED: ReaderFault.SAM_SELF_TEST_FAILED,
    Sw3.SAM_NOT_AUTHORISED: ReaderFault.SAM_NOT_AUTHORISED,
}


class IdCardReader:
    """Polls a GA/T 467 reader on a serial port (device path or pyserial URL) and reports events."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 115200,
        poll_interval: float = MIN_POLL_INTERVAL,
        reply_timeout: float = 1.0,
        removal_polls: int = 2,
        fault_after: int = 2,
        reconnect_interval: float = 2.0,
    ) -> None:
        if poll_interval < MIN_POLL_INTERVAL:
            raise ValueError(f"poll_interval must be at least {MIN_POLL_INTERVAL} s")
        if removal_polls < 1 or fault_after < 1:
            raise ValueError("removal_polls and fault_after must be at least 1")
        self.port = port
        self._link = SerialLink(port, baudrate=baudrate, name="idcard")
        self._codec = SamCodec()
        self._poll_interval = poll_interval
        self._reply_timeout = reply_timeout
        self._removal_polls = removal_polls
        self._fault_after = fault_after
        self._reconnect_interval = reconnect_interval
        self._digest_key = secrets.token_bytes(32)
        self._present: bytes | None = None  # keyed digest of the card's text, never the text
        self._absent_polls = 0
        self._failures = 0
        self._sam_checked = False
        self._next_open_at = 0.0
        self._status: ReaderStatus | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def status(self) -> ReaderStatus | None:
        """The last reported status (``None`` before the first poll settled it)."""
        return self._status

    @property
    def checksum_errors(self) -> int:
        return self._codec.checksum_errors

    async def close(self) -> None:
        async with self._lock:
            self._codec.clear()
            self._present = None
            await self._link.close()

    async def events(self) -> AsyncIterator[ReaderEvent]:
        """Poll forever, yielding events as they happen. Cancel the consuming task to stop."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            for event in await self.poll_once():
                yield event
            await asyncio.sleep(max(0.0, started + self._poll_interval - loop.time()))

    async def poll_once(self) -> list[ReaderEvent]:
        """One poll cycle (open/check SAM if needed, find, select, read). Does not sleep."""
        async with self._lock:
            return await self._poll_locked()

    async def _poll_locked(self) -> list[ReaderEvent]:
        loop = asyncio.get_running_loop()
        if not self._link.is_open:
            if loop.time() < self._next_open_at:
                return []
            try:
                await self._link.open()
            except SerialLinkError as exc:
                self._next_open_at = loop.time() + self._reconnect_interval
                return self._set_status(ReaderFault.PORT_UNAVAILABLE, type(exc).__name__)
            self._sam_checked = False
        try:
            events: list[ReaderEvent] = []
            if not self._sam_checked:
                reply = await self._transact(SAM_STATUS)
                self._failures = 0
                if reply.sw3 != Sw3.OK:
                    fault = _SW3_FAULTS.get(reply.status or Sw3.UNKNOWN_ERROR, ReaderFault.DEVICE_ERROR)
                    return self._set_status(fault, f"SAM status SW3={reply.sw3:02X}")
                self._sam_checked = True
                events += self._set_status(None, "SAM ok")
            events += await self._poll_card()
            self._failures = 0
            return events
        except SerialLinkError as exc:
            self._next_open_at = loop.time() + self._reconnect_interval
            return self._set_status(ReaderFault.PORT_UNAVAILABLE, type(exc).__name__)
        except SamTimeoutError:
            return self._count_failure(ReaderFault.NO_REPLY, "no reply")
        except SamFrameError as exc:
            return self._count_failure(ReaderFault.LINK_ERRORS, type(exc).__name__)

    async def _poll_card(self) -> list[ReaderEvent]:
        found = await self._transact(FIND_CARD)
        if found.sw3 in _SW3_FAULTS:
            return self._set_status(_SW3_FAULTS[Sw3(found.sw3)], f"find SW3={found.sw3:02X}")
        if found.sw3 != Sw3.FIND_OK:
            if found.sw3 != Sw3.FIND_FAILED:
                return []  # some other refusal: neither present nor absent, ask again next poll
            self._absent_polls += 1
            if self._present is not None and self._absent_polls >= self._removal_polls:
                self._present = None
                return [CardRemoved()]
            return []
        self._absent_polls = 0
        if (await self._transact(SELECT_CARD)).sw3 != Sw3.OK:
            return []  # the card moved away mid-poll or is still being selected: next poll
        read = await self._transact(READ_TEXT_PHOTO)
        if read.sw3 != Sw3.OK:
            return []
        try:
            blocks = parse_read_data(read.data)
        except SamLengthError:
            return self._once_per_card(read.data, CardReadFailed("read reply lengths do not add up"))
        try:
            data = decode_card_text(blocks.text, photo=blocks.photo)
        except CardTextError as exc:
            return self._once_per_card(blocks.text, CardReadFailed(str(exc)))
        return self._once_per_card(blocks.text, CardRead(data))

    def _once_per_card(self, text: bytes, event: ReaderEvent) -> list[ReaderEvent]:
        digest = hashlib.blake2b(text, key=self._digest_key, digest_size=16).digest()
        if digest == self._present:
            return []
        self._present = digest
        return [event]

    async def _transact(self, command: SamCommand) -> SamReply:
        loop = asyncio.get_running_loop()
        self._codec.clear()
        await self._link.discard_input()
        await self._link.write(encode_command(command))
        deadline = loop.time() + self._reply_timeout
        while (remaining := deadline - loop.time()) > 0:
            chunk = await self._link.read(max_wait=remaining)
            replies = self._codec.feed(chunk, now=loop.time())
            if replies:
                return replies[0]
        raise SamTimeoutError(f"no reply to command {command.cmd:02X} {command.para:02X}")

    def _count_failure(self, fault: ReaderFault, detail: str) -> list[ReaderEvent]:
        self._failures += 1
        if self._failures < self._fault_after:
            return []
        return self._set_status(fault, detail)

    def _set_status(self, fault: ReaderFault | None, detail: str) -> list[ReaderEvent]:
        if fault is not None:
            self._sam_checked = False  # re-check the SAM before trusting the reader again
        if self._status is not None and self._status.fault is fault:
            return []
        status = ReaderStatus(fault, detail)
        if fault is None:
            if self._status is not None:
                _LOG.info("ID card reader on %s is working again", self.port)
        else:
            _LOG.warning("ID card reader on %s: %s (%s)", self.port, fault.value, detail)
        self._status = status
        return [status]
