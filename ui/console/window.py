"""The crew console's main window: wires `DaemonLink` to the view-model and the view-model to the widgets.

Everything from the daemon arrives as `DaemonLink` signals on the GUI thread (notifications, call
results, the connection state); the window updates its `ConsoleBoard` and redraws from
`board.view(now)` on a short timer, so elapsed counters and 1-3-5 timers run on their own. Nothing
here blocks: a button sends a call and the incident returned (or the notification) moves the view on.

Watch-listed vehicles (`vision.hits`) show with the warning tone until noted: in the amber panel across
the top while no incident is on screen, and as a narrower card beside the incident in focus otherwise
(the alarm view keeps its room; the alarm tone wins over the warning tone). The camera line in the
status strip comes from `vision.cameras`, asked on every reload, when a `camera.*` fault changes, after a
hit, and every so often (a camera that connects raises no fault). A daemon without the vision component
answers "method not found": then there is no camera line.

The crew bar along the bottom raises an alarm by hand (an inline form with a separate confirmation:
`incidents.raise`, source "manual"; the incident then arrives like any other), switches the siren and
strobe (`alarms.siren`; a refusal says manual control is disabled at this station) and opens the history
of closed incidents (`incidents.list {"include_closed": true}`, asked again on every `closed` change).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import msgspec
from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QMainWindow,
    QSizePolicy,
    QWidget,
)

from edge.wire.api import incidents as api
from edge.wire.api.incidents import Incident, Siren
from edge.wire.errors import INVALID_PARAMS
from ui.console.actions import raise_request, step_request
from ui.console.layout import ConsoleLayout
from ui.console.model import ConsoleBoard
from ui.console.orders_panel import OrdersController
from ui.console.sound import AlarmSound
from ui.console.style import STYLE, set_prop
from ui.console.text import Language, action_label, notice_label, translate
from ui.console.vehicle_panel import show_hit
from ui.console.views import ConsoleView
from ui.link import ApiError, DaemonLink

__all__ = ["TOPICS", "ConsoleWindow"]

log = logging.getLogger(__name__)

TOPICS = ["incidents", "alarm.links", "faults", "vision.hits", "kiosk.officer_called", "orders.new", "orders.changed"]
METHOD_NOT_FOUND = -32601
RETRY_S = 10.0  # while the alarm service did not answer, ask again this often
MESSAGE_S = 8.0


class ConsoleWindow(QMainWindow):
    def __init__(
        self,
        link: DaemonLink,
        *,
        language: Language,
        sound: AlarmSound | None = None,
        officer: str = "",
        clock: Callable[[], float] = time.time,
        tick_ms: int = 250,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.link = link
        self.language = language
        self.sound = sound
        self.officer = officer
        self.clock = clock
        self.board = ConsoleBoard()
        self.station = ""
        self.view: ConsoleView | None = None
        self._message_until = 0.0
        self._retry_at: float | None = None
        self._page: int | None = None  # the stack's page on show
        self._cameras_at: float | None = None  # when to ask `vision.cameras` again
        self.cameras_pending = False
        self.setStyleSheet(STYLE)
        self._build()
        self.orders = OrdersController(self)  # residents' reports: a page and a crew-bar button of its own
        link.notified.connect(self._on_notified)
        link.connectedChanged.connect(self._on_connected)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(tick_ms)
        self.pulse_timer = QTimer(self)
        self.pulse_timer.timeout.connect(self._pulse)
        self.pulse_timer.start(450)
        if link.connected:
            self._on_connected(True)
        self.refresh()

    def _build(self) -> None:
        self.ui = ConsoleLayout(self)
        self.ui.lang_button.clicked.connect(self.toggle_language)
        self.ui.hits.noted.connect(self.note_hit)
        self.ui.focus.action.connect(self.act)
        self.ui.focus.silence.connect(self.silence)
        self.ui.list.selected.connect(self.select)
        self.ui.side_hit.noted.connect(self.note_hit)
        self.ui.calls.noted.connect(self.note_call)
        self.ui.manual.kindChosen.connect(self.manual_kind)
        self.ui.manual.review.connect(self.manual_review)
        self.ui.manual.confirmed.connect(self.manual_confirm)
        self.ui.manual.back.connect(self.manual_back)
        self.ui.manual.cancelled.connect(self.manual_cancel)
        self.ui.crew.manualClicked.connect(self.manual_open)
        self.ui.crew.historyClicked.connect(self.toggle_history)
        self.ui.crew.sirenSwitched.connect(self.switch_siren)

    # ---- daemon --------------------------------------------------------------------------------
    def _on_connected(self, up: bool) -> None:
        self.board.set_connected(up, self.clock())
        if up:
            self.reload()
        self.refresh()

    def reload(self) -> None:
        """Ask for everything again (after every reconnection): status, open incidents, school links."""
        self._retry_at = None
        token = self.board.begin_reload()
        self.link.call("status.get", None, self._status_loaded)
        self.link.call("incidents.list", {"include_closed": False}, lambda r, e: self._incidents_loaded(token, r, e))
        self.link.call("alarms.links", None, self._links_loaded)
        self.load_cameras()
        self.load_history()

    def _status_loaded(self, result: Any, error: ApiError | None) -> None:
        if error is None and isinstance(result, dict):
            self.board.load_status(result)
            self.station = str(result.get("name") or result.get("station") or "")
            self.refresh()

    def _incidents_loaded(self, token: int, result: Any, error: ApiError | None) -> None:
        if error is None and isinstance(result, dict) and isinstance(result.get("incidents"), list):
            try:
                self.board.load_incidents(result["incidents"], token)
            except ValueError as exc:
                log.error("incidents.list answered something that is not a list of incidents: %s", exc)
                self._failed("incidents", "incidents_failed")
        elif error is None or not error.unavailable:
            missing = error is not None and error.code == METHOD_NOT_FOUND
            self._failed("incidents", "no_alarm_service" if missing else "incidents_failed")
        self.refresh()

    def _links_loaded(self, result: Any, error: ApiError | None) -> None:
        if error is None and isinstance(result, dict) and isinstance(result.get("links"), list):
            self.board.load_links(result["links"])
        elif error is None or not (error.unavailable or error.code == METHOD_NOT_FOUND):
            self._failed("links", "links_failed")  # a missing alarm service is told once, by incidents.list
        self.refresh()

    def load_cameras(self) -> None:
        """Ask for the camera list (one request at a time)."""
        if self.cameras_pending:
            return
        self.cameras_pending = True
        self._cameras_at = None
        self.link.call("vision.cameras", None, self._cameras_loaded)

    def _cameras_loaded(self, result: Any, error: ApiError | None) -> None:
        self.cameras_pending = False
        vision = self.board.vision
        if error is None:
            try:
                vision.load_cameras(result)
                self.board.set_notice("cameras", None)
            except ValueError as exc:
                log.error("vision.cameras answered something that is not a camera list: %s", exc)
                self._failed("cameras", "cameras_failed")
        elif error.code == METHOD_NOT_FOUND:
            vision.forget_cameras()  # no vision component on this station: no camera line
            self.board.set_notice("cameras", None)
        elif not error.unavailable:
            self._failed("cameras", "cameras_failed")
        poll = vision.camera_poll_s()
        if poll is not None:
            self._cameras_at = self.clock() + poll
        self.refresh()

    def load_history(self) -> None:
        """Ask for the closed incidents (one request at a time; asked again when one is out)."""
        if self.board.history.want():
            self.link.call("incidents.list", {"include_closed": True}, self._history_loaded)

    def _history_loaded(self, result: Any, error: ApiError | None) -> None:
        items = result.get("incidents") if error is None and isinstance(result, dict) else None
        try:
            again = self.board.history.load(items if isinstance(items, list) else None)
        except ValueError as exc:
            log.error("incidents.list answered something that is not a list of incidents: %s", exc)
            again = self.board.history.load(None)
        if again and self.board.connected:
            self.load_history()
        self.refresh()

    def _failed(self, key: str, notice: str) -> None:
        self.board.set_notice(key, notice)
        self._retry_at = self.clock() + RETRY_S

    def _on_notified(self, topic: str, params: dict[str, Any]) -> None:
        try:
            if topic == "incidents" and isinstance(params.get("incident"), dict):
                change = str(params.get("change") or "")
                self.board.apply_incident(change, params["incident"])
                if change == "closed":
                    self.load_history()
            elif topic == "alarm.links":
                self.board.apply_link(params, self.clock())
            elif topic == "faults":
                self.board.apply_fault(params)
                if str(params.get("code") or "").startswith("camera.") and self.board.vision.cameras is not None:
                    self.load_cameras()
            elif topic == "kiosk.officer_called":
                self.board.calls.apply(params)
            elif topic == "vision.hits" and isinstance(params.get("hit"), dict):
                self.board.vision.apply_hit(params["hit"])
                if self.board.vision.cameras is not None:
                    self.load_cameras()  # the camera that saw it is evidently up
        except ValueError as exc:
            log.error("ignored a malformed %s notification: %s", topic, exc)
            return
        self.refresh()

    # ---- crew actions --------------------------------------------------------------------------
    def act(self, iid: str, action: str, arg: str = "") -> None:
        try:
            method, params = step_request(action, iid, arg, self.officer)
        except ValueError as exc:
            self._acted(iid, action, None, ApiError(INVALID_PARAMS, str(exc)))
            return
        self.board.pending.add(iid)
        self.link.request(method, params, lambda r, e: self._acted(iid, action, r, e))
        self.refresh()

    def _acted(self, iid: str, action: str, result: Incident | None, error: ApiError | None) -> None:
        self.board.pending.discard(iid)
        if error is not None:
            self.show_message(
                translate("Console", "%1 failed: %2").replace("%1", action_label(action)).replace("%2", error.message)
            )
        elif result is not None:
            self.board.apply_incident("", result)
        self.refresh()

    def manual_open(self) -> None:
        self.board.open_manual(self.station)
        self.refresh()

    def manual_kind(self, kind: str) -> None:
        self.board.manual.set_kind(kind)
        self.refresh()

    def manual_review(self, site: str, point: str) -> None:
        self.board.manual.review(site, point)
        self.refresh()

    def manual_back(self) -> None:
        self.board.manual.back()
        self.refresh()

    def manual_cancel(self) -> None:
        self.board.manual.cancel()
        self.refresh()

    def manual_confirm(self) -> None:
        params = self.board.manual.confirm(self.officer)
        if params is not None:
            try:
                self.link.request(api.INCIDENTS_RAISE, raise_request(params), self._manual_raised)
            except ValueError as exc:
                self.board.manual.done(str(exc))
        self.refresh()

    def _manual_raised(self, result: Incident | None, error: ApiError | None) -> None:
        self.board.manual.done(None if error is None else error.message)
        if result is not None:
            self.board.apply_incident("", result)  # the notification may come after the answer
        self.refresh()

    def switch_siren(self, on: bool) -> None:
        params = self.board.siren.request(on)
        if params is not None:
            self.link.request(api.ALARMS_SIREN, Siren(on=bool(params["on"])), self._siren_switched)
        self.refresh()

    def _siren_switched(self, result: Siren | None, error: ApiError | None) -> None:
        if error is None:
            self.board.siren.answered(msgspec.to_builtins(result))
        else:
            self.board.siren.answered(None, error.code, error.message)
        self.refresh()

    def toggle_history(self) -> None:
        self.board.toggle_history()
        if self.board.history_open and not self.board.history.loaded and self.board.connected:
            self.load_history()
        self.refresh()

    def silence(self, iid: str) -> None:
        self.board.silence(iid)
        self.refresh()

    def note_hit(self, key: str) -> None:
        """ "Noted": the crew has seen this vehicle warning; it stops sounding (local to this console)."""
        self.board.vision.note(key)
        self.refresh()

    def note_call(self, key: str) -> None:
        """ "Noted": the crew has seen this officer call (local to this console)."""
        self.board.calls.note(key)
        self.refresh()

    def select(self, iid: str) -> None:
        self.board.select(iid)
        self.refresh()

    def toggle_language(self) -> None:
        self.language.toggle()
        self.refresh()

    def show_message(self, text: str) -> None:
        self.ui.message.setText(text)
        self.ui.message.show()
        self._message_until = self.clock() + MESSAGE_S

    # ---- drawing -------------------------------------------------------------------------------
    def refresh(self) -> None:
        now = self.clock()
        if self._retry_at is not None and now >= self._retry_at and self.board.connected:
            self.reload()
        elif self._cameras_at is not None and now >= self._cameras_at and self.board.connected:
            self.load_cameras()
        started = self.board.tick(now)
        view = self.view = self.board.view(now, self.language.code)
        if self.sound is not None:
            active = view.alerting or view.vision.alerting or bool(view.calls)
            self.sound.set_active(active and view.connected, tone="alarm" if view.alarm_alerting else "warning")
            if started:
                self.sound.restart()
        self.ui.title.setText(
            translate("Console", "Street police station · Crew console")
            + (f" · {self.station}" if self.station else "")
        )
        self.ui.conn.setText(
            "● " + (translate("Console", "Connected") if view.connected else translate("Console", "Not connected"))
        )
        set_prop(self.ui.conn, "ok", "true" if view.connected else "false")
        self.ui.clock_label.setText(time.strftime("%H:%M:%S", time.localtime(now)))
        self.ui.lang_button.setText("EN" if self.language.code == "zh" else "中文")
        self.ui.strip.show_status(view)
        self.ui.calls.show_calls(view.calls)
        sound_note = "" if self.sound is not None and self.sound.available else notice_label("sound_unavailable")
        manual_open = view.manual.step != "closed"
        alarms = 0 if view.focus is None else 1
        reports = self.orders.index if self.orders.keep_open(taken_over=bool(started)) else alarms
        self._show_page(3 if manual_open else 2 if view.history_open else reports)
        self.orders.draw(now, view.connected)
        self.ui.crew.show_state(
            view.siren, manual_open=manual_open, history_open=view.history_open, connected=view.connected
        )
        self.ui.manual.show_form(view.manual)
        if view.history_open or manual_open:
            history = self.board.history
            if view.history_open:
                self.ui.history.show_history(
                    view.history, lang=self.language.code, loading=history.pending, failed=history.failed
                )
            self.ui.hits.show_hits(view.vision, sound_note=sound_note)
        elif view.focus is None:
            self.ui.hits.show_hits(view.vision, sound_note=sound_note)
            self.ui.idle.setText(translate("Console", "No open incidents"))
            self.ui.idle_sub.setText(translate("Console", "New alarms appear here at once, with sound."))
        else:
            self.ui.focus.show_incident(view.focus, sound_note=sound_note)
            self.ui.list.show_incidents(view.incidents, view.focus.id)
            self.ui.list.setVisible(len(view.incidents) > 1)
            self.ui.hits.hide()  # the vehicle warning moves to the side column: the alarm keeps its room
            show_hit(self.ui.side_hit, view.vision, sound_note=sound_note)
            ui = self.ui
            ui.side.setVisible(ui.list.isVisibleTo(ui.side) or ui.side_hit.isVisibleTo(ui.side))
        if self.ui.message.isVisible() and now >= self._message_until:
            self.ui.message.hide()
        self.ui.overlay.show_state(view)

    def _show_page(self, index: int) -> None:
        """Only the page on show counts for the window's minimum size (the incident page's is large): the
        idle page leaves room for the full vehicle warning, and the window fits a 1080p screen."""
        if self._page == index:
            return
        self._page = index
        for i, page in enumerate(self.ui.pages):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
        self.ui.stack.setCurrentIndex(index)

    def _pulse(self) -> None:
        self.ui.calls.pulse()
        if self.view is not None and self.view.alerting:
            self.ui.focus.pulse()
        if self.view is not None and self.view.vision.alerting:
            (self.ui.side_hit if self.view.focus is not None else self.ui.hits.card).pulse()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.timer.stop()
        self.pulse_timer.stop()
        if self.sound is not None:
            self.sound.set_active(False)
        super().closeEvent(event)
