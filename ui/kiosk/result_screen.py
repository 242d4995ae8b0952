"""The answer: ticket number, slot or lookup items, whether it was queued, and the receipt's printing."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from ui.kiosk.i18n import translate
from ui.kiosk.widgets import Screen, button, label

__all__ = ["ResultScreen"]


class ResultScreen(Screen):
    done = Signal()
    reprint = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = label(name="Title")
        self.message = label(name="Subtitle")
        self.ticket_caption = label(name="Muted")
        self.ticket = label(name="Big")
        self.ticket.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.slot = label(name="Title")
        self.items = QFrame()
        self.items.setObjectName("Panel")
        self.items_box = QVBoxLayout(self.items)
        self.print_status = label(name="Subtitle")
        for w in (self.title, self.message, self.ticket_caption, self.ticket, self.slot, self.items):
            self.layout_.addWidget(w)
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.print_status)
        row = QHBoxLayout()
        self.print_button = button()
        self.print_button.clicked.connect(self.reprint.emit)
        self.done_button = button()
        self.done_button.clicked.connect(self.done.emit)
        row.addWidget(self.print_button)
        row.addStretch(1)
        row.addWidget(self.done_button)
        self.layout_.addLayout(row)
        self.result: dict[str, Any] = {}
        self.service_title = ""
        self.lang = "zh"
        self._print_state = ""

    def show_result(self, result: dict[str, Any], *, service_title: str, lang: str) -> None:
        self.result, self.service_title, self.lang = result, service_title, lang
        self._print_state = ""
        self.retranslate()

    def set_print_state(self, state: str) -> None:
        """ "" | printing | printed | a bilingual fault text to show."""
        self._print_state = state
        self.retranslate()

    def retranslate(self) -> None:
        r = self.result
        msg = r.get("message") or {}
        self.title.setText(self.service_title)
        self.message.setText(str(msg.get("en" if self.lang == "en" else "zh", "")))
        ticket = str(r.get("ticket", ""))
        caption = (
            translate("Kiosk", "Queue number") if r.get("kind") == "ticket" else translate("Kiosk", "Reference number")
        )
        self.ticket_caption.setText(caption if ticket else "")
        self.ticket.setText(ticket)
        self.slot.setText(translate("Kiosk", "Appointment: %1").replace("%1", str(r["slot"])) if r.get("slot") else "")
        while self.items_box.count():
            item = self.items_box.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()
                w.setParent(None)
                w.deleteLater()
        items = r.get("items") or []
        self.items.setVisible(r.get("kind") == "lookup")
        if r.get("kind") == "lookup" and not items:
            self.items_box.addWidget(label(translate("Kiosk", "No violations found for this vehicle.")))
        for it in items:
            what = it["what"]["en" if self.lang == "en" else "zh"]
            handled = translate("Kiosk", "handled") if it.get("handled") else translate("Kiosk", "not handled")
            points = (
                translate("Kiosk", "%1 points, %2 yuan").replace("%1", str(it["points"])).replace("%2", str(it["fine"]))
            )
            self.items_box.addWidget(label(f"{it['date']}  {it['place']}  {what}  {points}  {handled}"))
        state = self._print_state
        text = {
            "": "",
            "printing": translate("Kiosk", "Printing your receipt..."),
            "printed": translate("Kiosk", "Please take your receipt."),
        }.get(state, state)
        self.print_status.setText(text)
        self.print_button.setText(translate("Kiosk", "Print again"))
        self.print_button.setVisible(bool(r.get("receipt_id")) and state not in ("", "printing"))
        self.done_button.setText(translate("Kiosk", "Finish"))

    def wipe(self) -> None:
        self.result = {}
        self._print_state = ""
        for w in (self.title, self.message, self.ticket, self.slot, self.print_status):
            w.clear()
        self.retranslate()
