"""巡逻打卡 / Patrol check-in: a member puts their ID card on the reader, or types the check-in code central
issued them on the digit pad here (the kiosk has no code scanner; the code shows on the member's phone).

The screen never sees an ID number: on a card tap the window asks the daemon to check in "the card on the
reader" (`kiosk.patrol.checkin {method: card}`); the daemon hashes it against the roster. The typed code
shows as dots and is cleared after every attempt and at the session's end.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

import msgspec
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QPushButton, QWidget

from edge.wire.api.patrol import KIOSK_PATROL_CHECKIN, PatrolCheckInParams
from kiosk.catalogue import ServiceSpec
from kiosk.requests import KioskResult
from ui.kiosk.i18n import translate
from ui.kiosk.widgets import Screen, button, label
from ui.link import ApiError, DaemonLink

__all__ = ["PatrolScreen"]

MAX_CODE = 12


class PatrolScreen(Screen):
    back = Signal()
    checked_in = Signal(dict, object)  # the KioskResult as JSON, the ServiceSpec

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = "zh"
        self.spec: ServiceSpec | None = None
        self.link: DaemonLink | None = None
        self._code = ""
        self._busy = False
        self.title = label(name="Title")
        self.hint = label(name="Subtitle")
        self.code_caption = label(name="Muted")
        self.code_view = label(name="Big")
        self.code_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status = label(name="Subtitle")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for w in (self.title, self.hint, self.code_caption, self.code_view):
            self.layout_.addWidget(w)
        pad = QFrame()
        pad.setObjectName("Panel")
        grid = QGridLayout(pad)
        self.digits: dict[str, QPushButton] = {}
        for i, d in enumerate("123456789"):
            self.digits[d] = self._key(d, functools.partial(self.press, d))
            grid.addWidget(self.digits[d], i // 3, i % 3)
        self.clear_button = self._key("", self.clear)
        self.digits["0"] = self._key("0", functools.partial(self.press, "0"))
        self.delete_button = self._key("⌫", self.delete)
        for col, key in enumerate((self.clear_button, self.digits["0"], self.delete_button)):
            grid.addWidget(key, 3, col)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(pad)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.layout_.addWidget(self.status)
        self.layout_.addStretch(1)
        buttons = QHBoxLayout()
        self.back_button = button()
        self.back_button.clicked.connect(self.back.emit)
        self.send_button = button()
        self.send_button.clicked.connect(self.send_code)
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.send_button)
        self.layout_.addLayout(buttons)
        self.retranslate()

    def _key(self, text: str, slot: Callable[[], None]) -> QPushButton:
        b = button(text, name="Key")
        b.setMinimumWidth(140)
        b.clicked.connect(lambda _checked=False: slot())
        return b

    # ---- the code ------------------------------------------------------------------------------
    def press(self, digit: str) -> None:
        if len(self._code) < MAX_CODE:
            self._code += digit
            self.status.clear()
            self._show_code()

    def delete(self) -> None:
        self._code = self._code[:-1]
        self._show_code()

    def clear(self) -> None:
        self._code = ""
        self._show_code()

    def _show_code(self) -> None:
        self.code_view.setText("●" * len(self._code) if self._code else "—")
        self.send_button.setEnabled(len(self._code) >= 6 and not self._busy)

    # ---- the daemon ----------------------------------------------------------------------------
    def open(self, spec: ServiceSpec, link: DaemonLink | None, lang: str) -> None:
        self.spec, self.link, self.lang = spec, link, lang
        self._busy = False
        self.clear()
        self.status.clear()
        self.retranslate()

    def send_code(self) -> None:
        code, self._code = self._code, ""
        self._check_in("code", code)

    def card_read(self) -> None:
        """A card was read while this screen is shown: check in whoever it belongs to."""
        self._check_in("card", "")

    def _check_in(self, method: Literal["card", "code"], code: str) -> None:
        spec = self.spec
        if spec is None or self._busy or self.link is None:
            return
        self._busy = True
        self.status.setText(translate("Kiosk", "Checking in..."))
        self._show_code()
        lang: Literal["zh", "en"] = "en" if self.lang == "en" else "zh"
        params = PatrolCheckInParams(method=method, code=code, service=spec.id, lang=lang)

        def done(result: KioskResult | None, error: ApiError | None) -> None:
            self._busy = False
            self._show_code()
            if result is not None and error is None:
                self.status.clear()
                self.checked_in.emit(_builtins(result), spec)
                return
            self.show_error(error)

        self.link.request(KIOSK_PATROL_CHECKIN, params, done, timeout=20.0)

    def show_error(self, error: ApiError | None) -> None:
        data = error.data if error is not None and isinstance(error.data, dict) else {}
        text = data.get("en" if self.lang == "en" else "zh")
        self.status.setText(
            str(text)
            if text
            else translate("Kiosk", "Sorry, this could not be done now. Please ask the officer on duty.")
        )

    def retranslate(self) -> None:
        self.title.setText(self.spec.title.get(self.lang) if self.spec else "")
        self.hint.setText(
            translate(
                "Kiosk", "Officers and patrol volunteers: put your ID card on the reader, or type your check-in code."
            )
        )
        self.code_caption.setText(translate("Kiosk", "Check-in code"))
        self.clear_button.setText(translate("Kiosk", "Clear"))
        self.back_button.setText(translate("Kiosk", "Back"))
        self.send_button.setText(translate("Kiosk", "Check in"))
        self._show_code()

    def wipe(self) -> None:
        self._code = ""
        self._busy = False
        self.status.clear()
        self._show_code()


def _builtins(result: KioskResult) -> dict[str, Any]:
    out = msgspec.to_builtins(result)
    assert isinstance(out, dict)
    return out
