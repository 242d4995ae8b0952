"""The console's words: English source strings translated by Qt (`console_zh_CN.ts`, compiled to `.qm`).

Every user-facing string goes through `translate("Console", ...)` or a `QT_TRANSLATE_NOOP` table here,
so that `pyside6-lupdate` finds it. Chinese is the default language; `Language` swaps the translator
at run time (the widgets redraw from the view-model on every tick, so nothing needs retranslating).

Update the translations after changing a string:

    .venv/bin/pyside6-lupdate ui/console/*.py -ts ui/console/console_zh_CN.ts -no-obsolete -locations none
    (translate the new entries in the .ts: Qt Linguist, or by hand)
    .venv/bin/pyside6-lrelease ui/console/console_zh_CN.ts -qm ui/console/console_zh_CN.qm

`tests/ui/test_console_qt.py` fails when the .ts has an untranslated entry or the .qm is out of date.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, QTranslator

__all__ = [
    "I18N_DIR",
    "Language",
    "action_label",
    "camera_state_label",
    "crew_label",
    "kind_label",
    "notice_label",
    "order_label",
    "outcome_label",
    "reason_label",
    "source_label",
    "state_label",
    "step_label",
    "target_label",
    "translate",
]

I18N_DIR = Path(__file__).parent
translate = QCoreApplication.translate

_KINDS: dict[str, object] = {
    "panic": QT_TRANSLATE_NOOP("Console", "One-key alarm"),
    "duress": QT_TRANSLATE_NOOP("Console", "Duress alarm"),
    "holdup": QT_TRANSLATE_NOOP("Console", "Hold-up alarm"),
    "emergency": QT_TRANSLATE_NOOP("Console", "Emergency"),
    "officer_call": QT_TRANSLATE_NOOP("Console", "Officer call"),
}
_STATES: dict[str, object] = {
    "raised": QT_TRANSLATE_NOOP("Console", "Awaiting acknowledgement"),
    "acknowledged": QT_TRANSLATE_NOOP("Console", "Acknowledged"),
    "dispatched": QT_TRANSLATE_NOOP("Console", "Dispatched"),
    "on_scene": QT_TRANSLATE_NOOP("Console", "At the scene"),
    "closed": QT_TRANSLATE_NOOP("Console", "Closed"),
}
_TARGETS: dict[str, object] = {
    "respond": QT_TRANSLATE_NOOP("Console", "Respond"),
    "arrive": QT_TRANSLATE_NOOP("Console", "Arrive"),
    "resolve": QT_TRANSLATE_NOOP("Console", "Resolve"),
}
_ACTIONS: dict[str, object] = {
    "ack": QT_TRANSLATE_NOOP("Console", "Acknowledge"),
    "dispatch": QT_TRANSLATE_NOOP("Console", "Dispatch"),
    "arrive": QT_TRANSLATE_NOOP("Console", "On scene"),
    "close": QT_TRANSLATE_NOOP("Console", "Close"),
    "real": QT_TRANSLATE_NOOP("Console", "Real incident"),
    "false_alarm": QT_TRANSLATE_NOOP("Console", "False alarm"),
    "test": QT_TRANSLATE_NOOP("Console", "Test"),
    "cancel": QT_TRANSLATE_NOOP("Console", "Cancel"),
    "silence": QT_TRANSLATE_NOOP("Console", "Silence"),
    "noted": QT_TRANSLATE_NOOP("Console", "Noted"),
}
_REASONS: dict[str, object] = {
    "new": QT_TRANSLATE_NOOP("Console", "NEW ALARM"),
    "new_call": QT_TRANSLATE_NOOP("Console", "RESIDENT CALLING AT THE KIOSK"),
    "missed:respond": QT_TRANSLATE_NOOP("Console", "RESPONSE OVERDUE"),
    "missed:arrive": QT_TRANSLATE_NOOP("Console", "ARRIVAL OVERDUE"),
    "missed:resolve": QT_TRANSLATE_NOOP("Console", "RESOLUTION OVERDUE"),
    "escalated": QT_TRANSLATE_NOOP("Console", "ESCALATED TO COMMAND"),
    "pressed": QT_TRANSLATE_NOOP("Console", "PRESSED AGAIN"),
}
_SOURCES: dict[str, object] = {
    "dc09": QT_TRANSLATE_NOOP("Console", "Alarm panel"),
    "modbus": QT_TRANSLATE_NOOP("Console", "Wired button"),
    "kiosk": QT_TRANSLATE_NOOP("Console", "Station kiosk"),
    "manual": QT_TRANSLATE_NOOP("Console", "Entered by crew"),
}
_STEPS: dict[str, object] = {
    "raised": QT_TRANSLATE_NOOP("Console", "Alarm raised"),
    "merged": QT_TRANSLATE_NOOP("Console", "Pressed again"),
    "acknowledged": QT_TRANSLATE_NOOP("Console", "Acknowledged"),
    "dispatched": QT_TRANSLATE_NOOP("Console", "Dispatched"),
    "on_scene": QT_TRANSLATE_NOOP("Console", "On scene"),
    "closed": QT_TRANSLATE_NOOP("Console", "Closed"),
    "restored": QT_TRANSLATE_NOOP("Console", "Button restored"),
    "escalated": QT_TRANSLATE_NOOP("Console", "Escalated to command"),
}
_NOTICES: dict[str, object] = {
    "no_alarm_service": QT_TRANSLATE_NOOP("Console", "Alarm service not running on this station"),
    "incidents_failed": QT_TRANSLATE_NOOP("Console", "Could not load the incidents"),
    "links_failed": QT_TRANSLATE_NOOP("Console", "Could not load the school links"),
    "sound_unavailable": QT_TRANSLATE_NOOP("Console", "Sound unavailable"),
    "cameras_failed": QT_TRANSLATE_NOOP("Console", "Could not load the camera status"),
}
_CAMERA_STATES: dict[str, object] = {
    "starting": QT_TRANSLATE_NOOP("Console", "starting"),
    "disconnected": QT_TRANSLATE_NOOP("Console", "disconnected"),
    "failed": QT_TRANSLATE_NOOP("Console", "failed"),
    "ended": QT_TRANSLATE_NOOP("Console", "ended"),
    "stopped": QT_TRANSLATE_NOOP("Console", "stopped"),
    "fault": QT_TRANSLATE_NOOP("Console", "fault"),
}

_OUTCOMES: dict[str, object] = {
    "real": QT_TRANSLATE_NOOP("Console", "Real incident"),
    "false_alarm": QT_TRANSLATE_NOOP("Console", "False alarm"),
    "test": QT_TRANSLATE_NOOP("Console", "Test"),
    "": QT_TRANSLATE_NOOP("Console", "Not recorded"),
}
_CREW: dict[str, object] = {
    "manual": QT_TRANSLATE_NOOP("Console", "Manual alarm"),
    "manual_title": QT_TRANSLATE_NOOP("Console", "Raise an alarm by hand"),
    "history": QT_TRANSLATE_NOOP("Console", "History"),
    "back": QT_TRANSLATE_NOOP("Console", "Back"),
    "raise": QT_TRANSLATE_NOOP("Console", "Raise…"),
    "confirm": QT_TRANSLATE_NOOP("Console", "Confirm alarm"),
    "sending": QT_TRANSLATE_NOOP("Console", "Raising…"),
    "siren_on": QT_TRANSLATE_NOOP("Console", "Siren on"),
    "siren_off": QT_TRANSLATE_NOOP("Console", "Siren off"),
    "site_missing": QT_TRANSLATE_NOOP("Console", "Enter the site"),
    "too_long": QT_TRANSLATE_NOOP("Console", "Site and point: at most 64 characters each"),
    "raise_failed": QT_TRANSLATE_NOOP("Console", "The alarm was not raised"),
    "response:dispatch": QT_TRANSLATE_NOOP("Console", "Time to dispatch"),
    "response:arrive": QT_TRANSLATE_NOOP("Console", "Time to scene"),
    "response:close": QT_TRANSLATE_NOOP("Console", "Time to close"),
    "history_empty": QT_TRANSLATE_NOOP("Console", "No closed incidents yet"),
    "history_failed": QT_TRANSLATE_NOOP("Console", "Could not load the history"),
    "loading": QT_TRANSLATE_NOOP("Console", "Loading…"),
}

# Work orders (residents' reports): states, triages, categories, actions and the page's words.
_ORDERS: dict[str, object] = {
    "reports": QT_TRANSLATE_NOOP("Console", "Reports"),
    "title": QT_TRANSLATE_NOOP("Console", "Residents' reports: %1 open, %2 not triaged"),
    "new_report": QT_TRANSLATE_NOOP("Console", "New report %1: %2 · %3"),
    "col:number": QT_TRANSLATE_NOOP("Console", "No."),
    "col:category": QT_TRANSLATE_NOOP("Console", "Category"),
    "col:place": QT_TRANSLATE_NOOP("Console", "Place"),
    "col:contact": QT_TRANSLATE_NOOP("Console", "Contact"),
    "col:age": QT_TRANSLATE_NOOP("Console", "Age"),
    "col:state": QT_TRANSLATE_NOOP("Console", "State"),
    "not_synced": QT_TRANSLATE_NOOP("Console", "not synced"),
    "state:new": QT_TRANSLATE_NOOP("Console", "New"),
    "state:triaged": QT_TRANSLATE_NOOP("Console", "Triaged"),
    "state:assigned": QT_TRANSLATE_NOOP("Console", "Assigned"),
    "state:in_progress": QT_TRANSLATE_NOOP("Console", "In progress"),
    "state:resolved": QT_TRANSLATE_NOOP("Console", "Resolved"),
    "state:referred": QT_TRANSLATE_NOOP("Console", "Referred"),
    "triage:on_spot": QT_TRANSLATE_NOOP("Console", "Settle on the spot"),
    "triage:follow_up": QT_TRANSLATE_NOOP("Console", "Follow up"),
    "triage:to_station": QT_TRANSLATE_NOOP("Console", "To the station"),
    "category:dispute": QT_TRANSLATE_NOOP("Console", "Dispute"),
    "category:hazard": QT_TRANSLATE_NOOP("Console", "Safety hazard"),
    "action:triage": QT_TRANSLATE_NOOP("Console", "Triage"),
    "action:assign": QT_TRANSLATE_NOOP("Console", "Assign"),
    "action:start": QT_TRANSLATE_NOOP("Console", "Start"),
    "action:resolve": QT_TRANSLATE_NOOP("Console", "Mark resolved"),
    "action:refer": QT_TRANSLATE_NOOP("Console", "Refer"),
    "officer_hint": QT_TRANSLATE_NOOP("Console", "Officer's name"),
    "outcome_hint": QT_TRANSLATE_NOOP("Console", "Outcome (for a referral: to whom and why)"),
    "needs_officer": QT_TRANSLATE_NOOP("Console", "Enter the officer's name"),
    "needs_outcome": QT_TRANSLATE_NOOP("Console", "Enter the outcome"),
    "empty": QT_TRANSLATE_NOOP("Console", "No reports yet"),
    "failed": QT_TRANSLATE_NOOP("Console", "Could not load the reports"),
    "reported": QT_TRANSLATE_NOOP("Console", "Reported %1"),
    "officer": QT_TRANSLATE_NOOP("Console", "Officer: %1"),
    "outcome": QT_TRANSLATE_NOOP("Console", "Outcome: %1"),
    "refused": QT_TRANSLATE_NOOP("Console", "not applied: %1"),
}


def _lookup(table: dict[str, object], key: str) -> str:
    source = table.get(key)  # QT_TRANSLATE_NOOP returns its text (typed as object)
    return translate("Console", str(source)) if source is not None else key


def kind_label(kind: str) -> str:
    return _lookup(_KINDS, kind)


def state_label(state: str) -> str:
    return _lookup(_STATES, state)


def target_label(name: str) -> str:
    return _lookup(_TARGETS, name)


def action_label(name: str) -> str:
    return _lookup(_ACTIONS, name)


def reason_label(reason: str) -> str:
    return _lookup(_REASONS, reason)


def source_label(kind: str) -> str:
    return _lookup(_SOURCES, kind)


def step_label(what: str) -> str:
    return _lookup(_STEPS, what)


def notice_label(key: str) -> str:
    return _lookup(_NOTICES, key)


def camera_state_label(state: str) -> str:
    return _lookup(_CAMERA_STATES, state)


def outcome_label(outcome: str) -> str:
    return _lookup(_OUTCOMES, outcome)


def crew_label(key: str) -> str:
    return _lookup(_CREW, key)


def order_label(key: str) -> str:
    """A work-order word: `state:new`, `triage:on_spot`, `category:dispute`, `action:assign`, `title`, ..."""
    return _lookup(_ORDERS, key)


class Language(QObject):
    """Which language the console speaks: "zh" (default, with the compiled translation) or "en"."""

    def __init__(self, code: str = "zh", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._translator = QTranslator(self)
        self._installed = False
        self.code = "en"
        self.set(code)

    def set(self, code: str) -> None:
        if code == "zh" and not self._installed:
            if not self._translator.load(str(I18N_DIR / "console_zh_CN.qm")):
                raise FileNotFoundError(f"missing translation {I18N_DIR / 'console_zh_CN.qm'}")
            QCoreApplication.installTranslator(self._translator)
            self._installed = True
        elif code != "zh" and self._installed:
            QCoreApplication.removeTranslator(self._translator)
            self._installed = False
        self.code = "zh" if code == "zh" else "en"

    def toggle(self) -> None:
        self.set("en" if self.code == "zh" else "zh")

    def close(self) -> None:
        self.set("en")
