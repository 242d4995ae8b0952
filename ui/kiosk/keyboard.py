"""The on-screen keyboard: Qt Virtual Keyboard's InputPanel (`keyboard.qml`) in a QQuickWidget.

Chinese goes through the keyboard's full pinyin input method (its whole dictionary, not a table of ours);
the field a form selects (`set_target`) gets input method hints that choose the layout: pinyin for text and
a plate's province (the globe key switches to English capitals), the digit pad for a phone number, Latin
letters and digits without pinyin for an ID number. Personal fields are marked sensitive, so the input
method learns nothing from them.

The panel never takes focus: the field keeps it and the platform input context (QT_IM_MODULE=
qtvirtualkeyboard, `ui.kiosk.ime.prepare`) types into it. `press`, `candidates`, `choose` and `set_language`
drive the same input engine the panel's keys drive (scripted screenshots, tests). `wipe()` drops the
composition and makes the pinyin input method close its user dictionary (a focused sensitive field does
that), then deletes the dictionary's files: nothing a resident typed survives the session.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Q_ARG, Q_RETURN_ARG, SIGNAL, QMetaObject, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QResizeEvent, QWindow
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
#: (Qt 6.12: ImhPreferLatin and ImhPreferNumbers leave letters going to pinyin; ImhLatinOnly does not.)
HINTS: dict[str, Qt.InputMethodHint] = {
    "pinyin": _PLAIN,
    # A plate: its province by pinyin (粤), then the globe key to English for capitals and digits.
    "plate": _PLAIN | _H.ImhNoPredictiveText | _H.ImhPreferUppercase,
    "digits": _FIXED | _H.ImhDigitsOnly,
    # Letters and, a tap away on the &123 page, digits: no pinyin, so the X is an X.
    "id_number": _FIXED | _H.ImhLatinOnly | _H.ImhPreferUppercase,
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
        # The panel's own signal (QML), forwarded by Qt. Not through `self.typed.emit`: in PySide6 6.12 on
        # Python 3.11 each SignalInstance.emit() called from Python drops a reference to True, and a
        # resident types thousands of keys.
        QObject.connect(root, SIGNAL("typed()"), self, SIGNAL("typed()"))
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
        """Type into `target` with the layout of `mode` (pinyin | plate | digits | id_number)."""
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
        return str(self._call("composition") or "")

    def candidates(self) -> list[str]:
        """What the candidate bar offers now, best first."""
        joined = str(self._call("candidates") or "")
        return joined.split("\n") if joined else []

    def choose(self, index: int) -> None:
        """Pick a candidate, as tapping it in the candidate bar does."""
        self._call("choose", int(index))

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
        self._call("click", key, shown)

    def set_language(self, locale: str) -> None:
        """Switch the layout's language ("zh_CN" pinyin, "en_US" letters), as the globe key does."""
        self._call("setLocale", locale)

    def wipe(self) -> None:
        """Forget the composition and everything the input method learned in this session."""
        im = QGuiApplication.inputMethod()
        im.reset()  # the composition goes, uncommitted
        self.set_language("zh_CN")  # the next resident starts in pinyin
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
    def _call(self, function: str, *args: int | str) -> object:
        """Call a function of keyboard.qml: plain values in and out (no JavaScript built from strings)."""
        return QMetaObject.invokeMethod(
            self.root, function, Q_RETURN_ARG("QVariant"), *(Q_ARG("QVariant", a) for a in args)
        )
