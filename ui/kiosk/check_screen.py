""" "Check my report" (查询报案进度): the resident types the reference on the receipt and sees its progress.

The on-screen keyboard opens on digits (the last 6 digits are enough at this station; its mode key
gives letters for another station's whole reference, spaces standing for dashes). The screen asks the
daemon itself (`orders.status` through the window's `DaemonLink`); an answer that comes after the
session ended (the screen was wiped) is dropped. The answer is shown in plain words (`kiosk.progress`):
a headline, a sentence, the outcome once it is closed, and the reference. Nothing personal is ever on
this screen: the daemon sends none.
"""

from __future__ import annotations

from typing import Any

import msgspec
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from edge.wire.api.orders import ORDERS_STATUS, PublicStatus, StatusQuery
from kiosk.progress import normalize_ticket, progress_text
from ui.kiosk.i18n import translate
from ui.kiosk.keyboard import OnScreenKeyboard
from ui.kiosk.widgets import Screen, button, label
from ui.link import ApiError, DaemonLink

__all__ = ["CheckScreen"]


class CheckScreen(Screen):
    back = Signal()

    def __init__(self, keyboard: OnScreenKeyboard, link: DaemonLink | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.keyboard = keyboard
        self.link = link
        self._asked = 0  # grows with every question and every wipe: a late answer is dropped
        self.lang = "zh"
        self.status: dict[str, Any] | None = None
        self.problem: tuple[str, str] | None = None  # (zh, en) of the daemon's refusal
        self.bad_entry = False  # what was typed cannot be a reference
        self.title = label(name="Title")
        self.hint = label(name="Hint")
        self.entry = QLineEdit()
        self.entry.setObjectName("TicketEntry")
        self.entry.setMaxLength(80)
        self.entry.returnPressed.connect(self._check)
        self.check_button = button(name="Primary")
        self.check_button.clicked.connect(self._check)
        row = QHBoxLayout()
        row.addWidget(self.entry, 1)
        row.addWidget(self.check_button)
        self.panel = QFrame()
        self.panel.setObjectName("Panel")
        box = QVBoxLayout(self.panel)
        self.headline = label(name="Big")
        self.detail = label(name="Subtitle")
        self.reference = label(name="Muted")
        for w in (self.headline, self.detail, self.reference):
            box.addWidget(w)
        self.panel.hide()
        self.message = label(name="Error")
        self.back_button = button()
        self.back_button.clicked.connect(self.back.emit)
        for w in (self.title, self.hint):
            self.layout_.addWidget(w)
        self.layout_.addLayout(row)
        self.layout_.addWidget(self.message)
        self.layout_.addWidget(self.panel)
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.back_button)
        self.retranslate()

    def open(self, lang: str) -> None:
        """A fresh screen: nothing of a previous check, the keyboard on digits."""
        self.lang = lang
        self.wipe()
        self.entry.setFocus()
        self.keyboard.set_target(self.entry, "digits")
        self.retranslate()

    def busy(self) -> None:
        self.status, self.problem, self.bad_entry = None, None, False
        self.check_button.setEnabled(False)
        self.retranslate()

    def show_status(self, status: dict[str, Any]) -> None:
        self.status, self.problem = status, None
        self.check_button.setEnabled(True)
        self.retranslate()

    def show_problem(self, zh: str, en: str) -> None:
        self.status, self.problem = None, (zh, en)
        self.check_button.setEnabled(True)
        self.retranslate()

    def wipe(self) -> None:
        self._asked += 1
        self.entry.clear()
        self.status = self.problem = None
        self.bad_entry = False
        self.check_button.setEnabled(True)
        self.message.clear()
        self.panel.hide()

    def retranslate(self) -> None:
        self.title.setText(translate("Kiosk", "Check my report"))
        self.hint.setText(
            translate(
                "Kiosk",
                "Enter the reference on your receipt. For a report made at this station the last 6 digits are "
                "enough; for another station enter the whole reference (a space for each dash).",
            )
        )
        self.entry.setPlaceholderText(translate("Kiosk", "e.g. 000123"))
        self.check_button.setText(translate("Kiosk", "Check"))
        self.back_button.setText(translate("Kiosk", "Back"))
        if self.bad_entry:
            self.message.setText(translate("Kiosk", "Enter the reference on your receipt."))
        elif self.problem is not None:
            self.message.setText(self.problem[1] if self.lang == "en" else self.problem[0])
        elif not self.check_button.isEnabled():
            self.message.setText(translate("Kiosk", "Checking..."))
        else:
            self.message.clear()
        if self.status is None:
            self.panel.hide()
            return
        headline, detail = progress_text(self.status)
        self.headline.setText(headline.get(self.lang))
        self.detail.setText(detail.get(self.lang))
        self.reference.setText(translate("Kiosk", "Reference: %1").replace("%1", str(self.status.get("ticket", ""))))
        self.panel.show()

    def _check(self) -> None:
        ticket = normalize_ticket(self.entry.text())
        self.bad_entry = ticket is None
        if ticket is None:
            self.status = self.problem = None
            self.retranslate()
            return
        self._asked += 1
        asked = self._asked

        def done(result: PublicStatus | None, error: ApiError | None) -> None:
            if asked != self._asked:
                return  # wiped (the session ended) or asked again meanwhile
            if result is not None:
                self.show_status(msgspec.to_builtins(result))
                return
            data = error.data if error is not None and isinstance(error.data, dict) else {}
            self.show_problem(
                str(data.get("zh") or "暂时无法查询，请稍后再试或咨询值班民警"),
                str(data.get("en") or "Cannot check now; please try later or ask the officer on duty"),
            )

        self.busy()
        if self.link is not None:
            self.link.request(ORDERS_STATUS, StatusQuery(ticket=ticket), done, timeout=15.0)
