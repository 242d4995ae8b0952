"""The kiosk's optional devices: the ID card reader and the receipt printer.

Either may be missing or broken; that is a visible device fault (`device.idcard`, `device.printer`) and
a device state reported to the daemon, never a crash. Card content goes only to the touchscreen (as a `kiosk.card`
notification on the local socket): it is neither logged nor stored. The ID number of the last card is held in
memory for `CARD_HOLD_S` (until the card is removed or the session ends) for a patrol check-in to take once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from drivers.escpos.printer import EscPosPrinter, PrinterFaultError
from drivers.escpos.receipt import Align, ReceiptBuilder
from drivers.idcard.reader import CardRead, CardReadFailed, CardRemoved, IdCardData, IdCardReader, ReaderStatus
from edge.config.kiosk import IdReaderSection, PrinterSection
from edge.system.faults import FaultBoard
from kiosk.receipts import ReceiptDoc, receipt_lines

__all__ = ["KioskDevices", "NoPrinterError", "card_payload", "render_receipt"]

log = logging.getLogger(__name__)

READER_FAULT = "device.idcard"
CARD_HOLD_S = 60.0
PRINTER_FAULT = "device.printer"


class NoPrinterError(Exception):
    """This kiosk has no receipt printer configured."""


def card_payload(card: IdCardData) -> dict[str, Any]:
    """What the touchscreen gets from a card tap (only the fields forms use)."""
    return {
        "name": card.name or card.english_name,
        "id_number": card.id_number,
        "gender": {"1": "male", "2": "female"}.get(card.gender.value, ""),
        "birth_date": card.birth_date.isoformat(),
        "address": card.address,
        "card_type": card.card_type.value,
    }


def render_receipt(doc: ReceiptDoc, lang: str, *, charset: str) -> tuple[bytes, tuple[str, ...]]:
    """ESC/POS bytes of a receipt, and the characters the printer's charset could not print."""
    lines = receipt_lines(doc, lang)
    b = ReceiptBuilder(charset=charset)  # type: ignore[arg-type]
    b.align(Align.CENTER).bold().line(lines[0]).double().line(lines[1]).double(False).bold(False)
    b.line("-" * 32).align(Align.LEFT)
    for text in lines[2:-1]:
        b.line(text)
    b.line("-" * 32).align(Align.CENTER)
    if doc.qr:
        b.qr(doc.qr, module_size=6)
    b.line(lines[-1]).feed(3).cut()
    return b.build(), b.replaced


class KioskDevices:
    def __init__(
        self,
        *,
        reader: IdReaderSection,
        printer: PrinterSection,
        faults: FaultBoard,
        set_device: Callable[[str, str | None], None],
        notify: Callable[[str, dict[str, Any]], object],
    ) -> None:
        self._reader_cfg = reader
        self._printer_cfg = printer
        self._faults = faults
        self._set_device = set_device
        self._notify = notify
        self.reader: IdCardReader | None = None
        self.printer: EscPosPrinter | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._card: tuple[str, float] | None = None  # (ID number, when read): see `take_card`

    def take_card(self) -> str | None:
        """The ID number of the card read in the last minute, once (then it is forgotten)."""
        card, self._card = self._card, None
        if card is None or time.monotonic() - card[1] > CARD_HOLD_S:
            return None
        return card[0]

    def forget_card(self) -> None:
        self._card = None

    async def start(self) -> None:
        if self._reader_cfg.port:
            self.reader = IdCardReader(
                self._reader_cfg.port, baudrate=self._reader_cfg.baudrate, poll_interval=self._reader_cfg.poll_interval
            )
            self._set_device("idcard", "starting")
            self._tasks.append(asyncio.create_task(self._reader_loop(self.reader), name="kiosk-idcard"))
        if self._printer_cfg.port:
            self.printer = EscPosPrinter(
                self._printer_cfg.port, baudrate=self._printer_cfg.baudrate, check_status=self._printer_cfg.check_status
            )
            self._set_device("printer", "starting")
            self._tasks.append(asyncio.create_task(self._printer_loop(self.printer), name="kiosk-printer"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for dev in (self.reader, self.printer):
            if dev is not None:
                with contextlib.suppress(Exception):
                    await dev.close()

    # ---- ID card reader ------------------------------------------------------------------------
    async def _reader_loop(self, reader: IdCardReader) -> None:
        while True:
            try:
                async for event in reader.events():
                    self._reader_event(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a driver bug must not end card reading for good
                log.exception("ID card reader loop failed; restarting it")
                self._set_reader_fault(f"reader error: {type(exc).__name__}")
                await asyncio.sleep(2.0)

    def _reader_event(self, event: object) -> None:
        if isinstance(event, ReaderStatus):
            if event.ok:
                self._set_device("idcard", "ok")
                self._faults.clear_fault(READER_FAULT)
            else:
                assert event.fault is not None
                self._set_reader_fault(f"身份证阅读器故障 / ID card reader fault: {event.fault.value}")
        elif isinstance(event, CardRead):
            self._card = (event.data.id_number, time.monotonic())
            self._notify("kiosk.card", card_payload(event.data))
        elif isinstance(event, CardRemoved):
            self._card = None
            self._notify("kiosk.card_removed", {})
        elif isinstance(event, CardReadFailed):
            self._card = None
            self._notify("kiosk.card_failed", {"reason": event.reason})

    def _set_reader_fault(self, message: str) -> None:
        self._set_device("idcard", "fault")
        self._faults.raise_fault(READER_FAULT, message, severity="warning")

    # ---- receipt printer -----------------------------------------------------------------------
    async def _printer_loop(self, printer: EscPosPrinter) -> None:
        while True:
            try:
                status = await printer.status()
            except PrinterFaultError as exc:
                self._set_printer_fault(exc)
            else:
                if status.faults:
                    self._set_printer_fault(PrinterFaultError(status.faults, status))
                else:
                    self._printer_ok()
            await asyncio.sleep(self._printer_cfg.status_interval)

    def _printer_ok(self) -> None:
        self._set_device("printer", "ok")
        self._faults.clear_fault(PRINTER_FAULT)

    def _set_printer_fault(self, exc: PrinterFaultError) -> None:
        self._set_device("printer", ",".join(f.name.lower() for f in exc.faults))
        self._faults.raise_fault(PRINTER_FAULT, f"{exc.message_zh} / {exc.message_en}", severity="warning")

    async def print_receipt(self, data: bytes) -> None:
        """Print; raises NoPrinterError or PrinterFaultError (and the fault becomes visible)."""
        if self.printer is None:
            raise NoPrinterError("no receipt printer is configured")
        try:
            await self.printer.print_receipt(data)
        except PrinterFaultError as exc:
            self._set_printer_fault(exc)
            raise
        self._printer_ok()
