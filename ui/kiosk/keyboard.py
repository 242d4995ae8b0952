"""The on-screen keyboard: Qt Virtual Keyboard's InputPanel (`keyboard.qml`) in a QQuickWidget.

Chinese goes through the keyboard's full pinyin input method (its whole dictionary, not a table of ours);
the field a form selects (`set_target`) gets input method hints that choose the layout: pinyin for text,
Latin capitals for a plate, the digit pad for a phone number, numbers (with a letter page for the X) for an
ID number. Personal fields are marked sensitive, so the input method learns nothing from them.

The panel never takes focus: the field keeps it and the platform input context (QT_IM_MODULE=
qtvirtualkeyboard, `ui.kiosk.ime.prepare`) types into it. `press`, `candidates` and `choose` drive the same
input engine the panel's keys drive (scripted screenshots, tests). `wipe()` drops the composition and makes
the pinyin input method close its user dictionary (a focused sensitive field does that), then deletes the
dictionary's files: nothing a resident typed survives the session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import SIGNAL, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QResizeEvent, QWindow
from PySide6.QtQml import QQmlExpression
from PySide6.QtQuickWidgets import QQuickWidget
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLineEdit, QPlainTextEdit, QWidget

from ui.kiosk.ime import dictionary_dir, wipe_dictionary
from ui.kiosk.widgets import PersonalLineEdit

__all__ = ["HINTS", "OnScreenKeyboard"]

Target = QLineEdit | QPlainTextEdit
QML = Path(__file__).with_name("keyboard.qml")
_H = Qt.InputMethodHint
_PLAIN = _H.ImhNoAutoUppercase
_FIXED = _H.ImhNoPredictiveText | _H.ImhNoAutoUppercase
#: Mode a form asks for -> the input method hints that choose the panel's layout.
HINTS: dict[str, Qt.InputMethodHint] = {
    "pinyin": _PLAIN,
    "letters": _FIXED | _H.ImhPreferLatin | _H.ImhPreferUppercase,
    "digits": _FIXED | _H.ImhDigitsOnly,
    "id_number": _FIXED | _H.ImhPreferNumbers | _H.ImhPreferUppercase,
}
_SENSITIVE = _H.ImhSensitiveData | _H.ImhNoPredictiveText
_KEY_A = int(Qt.Key.Key_A)
_MAX_WIDTH = 1500
_BACKGROUND = "#252D31"  # the default style's keyboard background (sides beside a capped panel)


class OnScreenKeyboard(QWidget):
    typed = Signal()  # any key: the resident is still there

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target: Target | None = None
        self.mode = "pinyin"
        self.view = QQuickWidget(self)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # taps never take the field's focus
        self.view.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.view.setResizeMode(QQuickWidget.ResizeMode.SizeRootObjectToView)
        self.view.setClearColor(Qt.GlobalColor.transparent)
        self.view.setSource(QUrl.fromLocalFile(str(QML)))
        errors = [e.toString() for e in self.view.errors()]
        root = self.view.rootObject()
        if root is None or errors:
            raise RuntimeError(f"the on-screen keyboard did not load: {errors}")
        self.root = root
        QObject.connect(root, SIGNAL("typed()"), self.typed.emit)  # the panel's own signal (QML)
        # A field the pinyin input method must not learn from, focused for a moment by wipe(). It lives in
        # the top-level window (behind the pages), shown even while the keyboard is hidden.
        self._sensitive = QLineEdit()
        self._sensitive.setInputMethodHints(_SENSITIVE)
        self._sensitive.setFixedSize(1, 1)
        self._sensitive.setStyleSheet("border: none; background: transparent;")
        # The panel's height follows its width (its keys keep their shape): a capped width keeps the form
        # above it in view on a 1920x1080 screen; the panel's own background fills the sides.
        self.view.setMaximumWidth(_MAX_WIDTH)
        # Queued: the panel changes its height while the view resizes it, and a nested resize is lost.
        QObject.connect(root, SIGNAL("implicitHeightChanged()"), self._fit, Qt.ConnectionType.QueuedConnection)
        box = QHBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.view)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(f"OnScreenKeyboard {{ background: {_BACKGROUND}; }}")
        self._fit()
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.connect(self._focus_window_changed)

    # ---- public ----------------------------------------------------------------------------------
    def set_target(self, target: Target | None, mode: str) -> None:
        """Type into `target` with the layout of `mode` (pinyin | letters | digits | id_number)."""
        self.target, self.mode = target, mode
        if target is None:
            return
        hints = HINTS.get(mode, HINTS["pinyin"])
        if isinstance(target, PersonalLineEdit):
            hints |= _SENSITIVE
        target.setInputMethodHints(hints)
        if not target.isActiveWindow():
            target.activateWindow()  # the kiosk's only window: keys reach the focused field of the active one
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        im = QGuiApplication.inputMethod()
        im.update(Qt.InputMethodQuery.ImQueryAll)
        im.reset()  # a composition never moves from one field to another

    @property
    def composition(self) -> str:
        """The pinyin typed and not yet turned into characters."""
        return str(self._eval("context.preeditText") or "")

    def candidates(self) -> list[str]:
        n = int(self._eval("context.inputEngine.wordCandidateListModel.count") or 0)
        return [str(self._eval(f"context.inputEngine.wordCandidateListModel.dataAt({i}, 0)")) for i in range(n)]

    def choose(self, index: int) -> None:
        """Pick a candidate, as tapping it in the candidate bar does."""
        self._eval(f"context.inputEngine.wordCandidateListModel.selectItem({int(index)})")
        self.typed.emit()

    def press(self, text: str) -> None:
        """One key, as tapping it does: a letter, a digit, " " or "\\b" (backspace)."""
        if text == "\b":
            key = int(Qt.Key.Key_Backspace)
        elif text == " ":
            key = int(Qt.Key.Key_Space)
        elif len(text) == 1 and text.isascii() and text.isalpha():
            key = _KEY_A + ord(text.upper()) - ord("A")
        elif len(text) == 1 and text.isdigit():
            key = int(Qt.Key.Key_0) + int(text)
        else:
            raise ValueError(f"no key for {text!r}")
        shown = "" if text == "\b" else text
        self._eval(f"context.inputEngine.virtualKeyClick({key}, {_js(shown)}, 0)")

    def wipe(self) -> None:
        """Forget the composition and everything the input method learned in this session."""
        im = QGuiApplication.inputMethod()
        im.reset()  # the composition goes, uncommitted
        host = self.window()
        if self._sensitive.parentWidget() is not host:
            self._sensitive.setParent(host)
            self._sensitive.move(0, 0)
            self._sensitive.lower()
            self._sensitive.show()
        previous = QApplication.focusWidget()
        self._sensitive.setFocus(Qt.FocusReason.OtherFocusReason)
        im.update(Qt.InputMethodQuery.ImQueryAll)
        im.reset()  # the pinyin input method sees a sensitive field: it closes (writes) its dictionary
        wipe_dictionary(dictionary_dir())
        self._sensitive.clearFocus()
        if previous is not None and previous is not self._sensitive:
            previous.setFocus(Qt.FocusReason.OtherFocusReason)
        self.target = None

    def _fit(self) -> None:
        height = self.root.property("implicitHeight")
        if isinstance(height, (int, float)) and height > 0:
            self.view.setFixedHeight(round(height))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _focus_window_changed(self, window: QWindow | None) -> None:
        # Showing the QQuickWidget shows its offscreen Qt Quick window, and the platform may take the
        # focus window away for it (offscreen does): give it back, or keys reach no field.
        if window is None and self.isVisible():
            self.window().activateWindow()

    # ---- QML -------------------------------------------------------------------------------------
    def _eval(self, source: str) -> Any:
        expr = QQmlExpression(self.view.rootContext(), self.root, source)
        value, _undefined = expr.evaluate()
        if expr.hasError():
            raise RuntimeError(f"{source}: {expr.error().toString()}")
        return value


def _js(text: str) -> str:
    """A JavaScript string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
