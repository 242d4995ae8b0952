"""The kiosk window: screens, the resident session and its idle wipe, and the calls to the daemon.

All daemon traffic goes through `ui.link.DaemonLink` (`kiosk.*` methods and notifications). Forms are
validated here first (`kiosk.forms`, the same rules the daemon applies again) so errors show at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any, Literal

import msgspec
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from edge.wire.api import kiosk as api
from edge.wire.api.base import Empty
from edge.wire.api.kiosk import CurrentBulletin, KioskCatalogue, KioskSubmit, Notices, Printed, PrintReceipt
from edge.wire.bulletin import Bulletin
from kiosk.catalogue import Catalogue, ServiceSpec, catalogue_from_data
from kiosk.catalogue_default import DEFAULT_CATALOGUE
from kiosk.forms import FormError, validate_form
from kiosk.requests import KioskResult, new_request_id
from kiosk.session import CardIdentity, ResidentSession, SessionState
from ui.kiosk.check_screen import CheckScreen
from ui.kiosk.form_screen import FormScreen
from ui.kiosk.i18n import Language, translate
from ui.kiosk.keyboard import OnScreenKeyboard
from ui.kiosk.overlay import TimeoutOverlay
from ui.kiosk.patrol_screen import PatrolScreen
from ui.kiosk.result_screen import ResultScreen
from ui.kiosk.screens import AttractScreen, ConfirmScreen, HomeScreen, NoticesScreen, OutOfServiceScreen
from ui.kiosk.theme import ELDER_SCALE, stylesheet
from ui.link import ApiError, DaemonLink

__all__ = ["KioskWindow"]

_ACTIVITY = (QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.TouchBegin)


class KioskWindow(QWidget):
    def __init__(
        self, link: DaemonLink | None, *, clock: Callable[[], float] = time.monotonic, today: date | None = None
    ) -> None:
        super().__init__()
        self.setObjectName("KioskRoot")
        self.link = link
        self.clock = clock
        self.today = today
        self.language = Language()
        self.language.set("zh")
        self.catalogue: Catalogue = DEFAULT_CATALOGUE
        self.settings: dict[str, Any] = {
            "idle_timeout": 120.0,
            "idle_warning": 30.0,
            "station_name": "",
            "printer": False,
            "id_reader": False,
        }
        self.notices: list[dict[str, Any]] = []
        self.bulletin: Bulletin | None = None
        self.session = self._new_session()
        self.keyboard = OnScreenKeyboard()
        self.keyboard.typed.connect(self._activity)
        self.stack = QStackedWidget()
        # The pages share the screen with the keyboard: the tallest page must not push the window past it.
        self.stack.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.stack.setMinimumHeight(300)
        self.attract, self.home, self.notices_screen = AttractScreen(), HomeScreen(), NoticesScreen()
        self.confirm, self.out_of_service, self.result = ConfirmScreen(), OutOfServiceScreen(), ResultScreen()
        self.patrol = PatrolScreen()
        self.check_screen = CheckScreen(self.keyboard, link)
        for screen in (self.attract, self.home, self.notices_screen, self.confirm, self.out_of_service, self.result):
            self.stack.addWidget(screen)
        self.stack.addWidget(self.patrol)
        self.stack.addWidget(self.check_screen)
        self.form: FormScreen | None = None
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.stack, 1)
        box.addWidget(self.keyboard)
        self.keyboard.hide()
        self.overlay = TimeoutOverlay(self)
        self.overlay.keep.connect(self._activity)
        self.attract.tapped.connect(self.start_session)
        self.home.chosen.connect(self.choose)
        self.home.toggle_lang.connect(self.toggle_lang)
        self.home.toggle_elder.connect(self.toggle_elder)
        self.notices_screen.back.connect(self.show_home)
        self.confirm.confirmed.connect(self._raise_emergency)
        self.confirm.cancelled.connect(self.show_home)
        self.result.done.connect(self.finish)
        self.result.reprint.connect(self.print_receipt)
        self.patrol.back.connect(self.show_home)
        self.patrol.checked_in.connect(self.show_result)
        self.check_screen.back.connect(self.show_home)
        self.setStyleSheet(stylesheet(1.0))
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        if link is not None:
            link.connectedChanged.connect(self._connected)
            link.notified.connect(self._notified)
        self.stack.setCurrentWidget(self.out_of_service)

    # ---- session -----------------------------------------------------------------------------------
    def _new_session(self) -> ResidentSession:
        s = ResidentSession(
            idle_timeout=float(self.settings["idle_timeout"]),
            warning=float(self.settings["idle_warning"]),
            clock=self.clock,
        )
        s.on_wipe(self._wiped)
        return s

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY and self.session.state is not SessionState.IDLE:
            self._activity()
        return False

    def _activity(self) -> None:
        if self.session.state is not SessionState.IDLE:
            self.session.touch()
            self.overlay.hide()

    def tick(self) -> None:
        state = self.session.poll()
        if state is SessionState.WARNING:
            self.overlay.show_countdown(self.session.seconds_left())
        else:
            self.overlay.hide()

    def start_session(self) -> None:
        self.session.start()
        self.attract.timer.stop()
        self.show_home()

    def finish(self) -> None:
        self.session.end()

    def _wiped(self) -> None:
        """Everything the resident typed, or the card said, goes: widgets, models, keyboard memory."""
        self._drop_form()
        self.result.wipe()
        self.patrol.wipe()
        self.check_screen.wipe()
        self.keyboard.wipe()
        self.keyboard.hide()
        self.overlay.hide()
        self.language.set("zh")
        self.setStyleSheet(stylesheet(1.0))
        if self.link is not None:
            self.link.request(api.KIOSK_SESSION_END, Empty(), None)
        self.retranslate()
        self.show_attract()

    def _drop_form(self) -> None:
        if self.form is not None:
            self.form.wipe()
            self.stack.removeWidget(self.form)
            self.form.deleteLater()
            self.form = None

    # ---- daemon ------------------------------------------------------------------------------------
    def _connected(self, ok: bool) -> None:
        if ok:
            if self.link is not None:
                self.link.request(api.KIOSK_CATALOGUE, None, self._got_catalogue)
            return
        if self.session.state is not SessionState.IDLE:
            self.session.wipe()  # nobody can be served now: do not keep what was entered
        self.keyboard.hide()
        self.stack.setCurrentWidget(self.out_of_service)

    def _got_catalogue(self, result: KioskCatalogue | None, error: ApiError | None) -> None:
        if error is not None or result is None:
            QTimer.singleShot(2000, lambda: self._connected(bool(self.link and self.link.connected)))
            return
        self.load_catalogue(result)
        self.refresh_notices()
        if self.session.state is SessionState.IDLE:
            self.show_attract()
        else:
            self.show_home()

    def load_catalogue(self, data: KioskCatalogue) -> None:
        self.catalogue = catalogue_from_data(data.catalogue, source="daemon")
        self.settings.update(msgspec.to_builtins(data.settings))
        if self.session.state is SessionState.IDLE:
            self.session = self._new_session()

    def refresh_notices(self) -> None:
        def got(result: Notices | None, error: ApiError | None) -> None:
            if result is not None:
                self.set_notices(msgspec.to_builtins(result.notices))

        def got_bulletin(result: CurrentBulletin | None, error: ApiError | None) -> None:
            if result is not None:
                self.bulletin = result.bulletin
                if self.stack.currentWidget() is self.notices_screen:
                    self.notices_screen.show_notices(self.notices, self.session.lang, self.bulletin)

        if self.link is not None:
            self.link.request(api.KIOSK_NOTICES, None, got)
            self.link.request(api.KIOSK_BULLETIN, None, got_bulletin)

    def set_notices(self, notices: list[dict[str, Any]]) -> None:
        self.notices = notices
        self.attract.set_notices(notices)

    def _notified(self, topic: str, params: dict[str, Any]) -> None:
        if topic == "kiosk.card":
            self.card_read(params)
        elif topic in ("kiosk.notices", "kiosk.bulletin"):
            self.refresh_notices()

    def card_read(self, params: dict[str, Any]) -> None:
        if self.stack.currentWidget() is self.out_of_service:
            return
        if self.stack.currentWidget() is self.patrol:  # a patrol member's card: not the session's
            self._activity()
            self.patrol.card_read()
            return
        birth = params.get("birth_date") or ""
        card = CardIdentity(
            name=str(params.get("name", "")),
            id_number=str(params.get("id_number", "")),
            gender=str(params.get("gender", "")),
            address=str(params.get("address", "")),
            birth_date=date.fromisoformat(birth) if birth else None,
        )
        if self.session.state is SessionState.IDLE:
            self.start_session()
        self._activity()
        mapping: dict[str, str] = {f.name: str(f.card) for f in self.form.service.fields if f.card} if self.form else {}
        self.session.apply_card(card, mapping)
        if self.form is not None:
            self.form.apply_card(params)

    # ---- screens -----------------------------------------------------------------------------------
    def show_attract(self) -> None:
        self.keyboard.hide()
        self.attract.retranslate()
        self.stack.setCurrentWidget(self.attract)
        self.attract.timer.start()

    def show_home(self) -> None:
        self._drop_form()
        self.keyboard.hide()
        self.home.show_services(
            self.catalogue.services,
            lang=self.session.lang,
            elder=self.session.elder,
            station_name=str(self.settings.get("station_name") or ""),
        )
        self.stack.setCurrentWidget(self.home)

    def retranslate(self) -> None:
        lang = self.session.lang
        self.attract.retranslate()
        self.home.lang = lang
        self.home.elder = self.session.elder
        self.home.retranslate()
        self.notices_screen.lang = lang
        self.notices_screen.retranslate()
        self.confirm.retranslate()
        self.result.lang = lang
        self.result.retranslate()
        self.patrol.lang = lang
        self.patrol.retranslate()
        self.overlay.retranslate()
        self.check_screen.lang = lang
        self.check_screen.retranslate()
        if self.form is not None:
            self.form.lang = lang
            self.form.retranslate()

    def toggle_lang(self) -> None:
        self.session.lang = "en" if self.session.lang == "zh" else "zh"
        self.language.set(self.session.lang)
        self.retranslate()

    def toggle_elder(self) -> None:
        self.session.elder = not self.session.elder
        self.setStyleSheet(stylesheet(ELDER_SCALE if self.session.elder else 1.0))
        self.show_home()

    def choose(self, service_id: str) -> None:
        spec = self.catalogue.service(service_id)
        self.session.service_id = service_id
        if spec.kind == "notices":
            self.notices_screen.show_notices(self.notices, self.session.lang, self.bulletin)
            self.stack.setCurrentWidget(self.notices_screen)
        elif spec.kind == "report_status":
            self.open_check()
        elif spec.kind == "emergency":
            self.confirm.retranslate()
            self.stack.setCurrentWidget(self.confirm)
        elif spec.kind == "patrol":
            self.patrol.open(spec, self.link, self.session.lang)
            self.stack.setCurrentWidget(self.patrol)
        elif spec.kind == "call_officer" or not spec.fields:
            self._send(spec, {})
        else:
            self.open_form(spec)

    def open_check(self) -> None:
        self._drop_form()
        self.check_screen.open(self.session.lang)
        self.stack.setCurrentWidget(self.check_screen)
        self.keyboard.show()

    def open_form(self, spec: ServiceSpec) -> None:
        self._drop_form()
        self.form = FormScreen(
            spec,
            lang=self.session.lang,
            keyboard=self.keyboard,
            has_reader=bool(self.settings.get("id_reader")),
            today=self.today,
        )
        self.form.submit.connect(self.submit_form)
        self.form.cancel.connect(self.show_home)
        self.stack.addWidget(self.form)
        self.stack.setCurrentWidget(self.form)
        self.keyboard.show()
        card = self.session.card
        if card is not None:
            self.form.apply_card({f.card: card.field(f.card) for f in spec.fields if f.card})

    def submit_form(self) -> None:
        form = self.form
        if form is None:
            return
        values = form.values()
        for k, v in values.items():
            self.session.set_value(k, v)
        try:
            validate_form(form.service, values, today=self.today or date.today())
        except FormError as exc:
            form.show_errors([{"field": e.field, "zh": e.message_zh, "en": e.message_en} for e in exc.errors])
            return
        form.set_busy(True)
        self._send(form.service, values, from_card=form.from_card)

    def _raise_emergency(self) -> None:
        self._send(self.catalogue.service(self.session.service_id or "emergency"), {})

    def _send(self, spec: ServiceSpec, fields: dict[str, str], *, from_card: bool = False) -> None:
        lang: Literal["zh", "en"] = "en" if self.session.lang == "en" else "zh"
        params = KioskSubmit(
            request_id=new_request_id(), service=spec.id, fields=fields, lang=lang, from_card=from_card
        )

        def done(result: KioskResult | None, error: ApiError | None) -> None:
            if self.session.state is SessionState.IDLE:
                return  # the session ended meanwhile
            if error is not None or result is None:
                text = translate("Kiosk", "Sorry, this could not be done now. Please ask the officer on duty.")
                if self.form is not None and self.form.service.id == spec.id:
                    self.form.set_busy(False)
                    self.form.set_status(text)
                return
            self.show_result(msgspec.to_builtins(result), spec)

        if self.link is not None:
            self.link.request(api.KIOSK_SUBMIT, params, done, timeout=30.0)

    def show_result(self, result: dict[str, Any], spec: ServiceSpec) -> None:
        self._drop_form()
        self.keyboard.hide()
        self.result.show_result(result, service_title=spec.title.get(self.session.lang), lang=self.session.lang)
        self.stack.setCurrentWidget(self.result)
        if result.get("receipt_id") and self.settings.get("printer"):
            self.print_receipt()

    def print_receipt(self) -> None:
        receipt_id = self.result.result.get("receipt_id")
        if not receipt_id:
            return
        self.result.set_print_state("printing")

        def done(result: Printed | None, error: ApiError | None) -> None:
            if error is None:
                self.result.set_print_state("printed")
            else:
                zh, _, en = error.message.partition(" / ")
                self.result.set_print_state((en or zh) if self.session.lang == "en" else zh)

        if self.link is not None:
            lang: Literal["zh", "en"] = "en" if self.session.lang == "en" else "zh"
            self.link.request(api.KIOSK_PRINT, PrintReceipt(receipt_id=str(receipt_id), lang=lang), done, timeout=20.0)
