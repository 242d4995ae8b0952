"""The on-screen keyboard, inside the app: digits, letters, and Chinese through pinyin.

Its keys never take focus; they type into the target the form gives it (`set_target`). In pinyin mode
letters build a composition; the candidate bar offers characters and words (`kiosk.pinyin`), and the one
tapped is typed and remembered for this session only. `wipe()` forgets the composition and everything
learned (the session's end calls it).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.pinyin import PinyinEngine
from ui.kiosk.i18n import translate
from ui.kiosk.widgets import button

__all__ = ["OnScreenKeyboard"]

Target = QLineEdit | QPlainTextEdit
_LETTER_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_DIGIT_ROWS = ("123", "456", "789", "X0")
_CANDIDATES = 8


class OnScreenKeyboard(QWidget):
    typed = Signal()  # any key: the resident is still there

    def __init__(self, engine: PinyinEngine | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine or PinyinEngine()
        self.mode = "pinyin"  # pinyin | letters | digits
        self.composition = ""
        self.target: Target | None = None
        root = QVBoxLayout(self)
        root.setSpacing(8)
        top = QHBoxLayout()
        self.comp_label = QLabel()
        self.comp_label.setObjectName("Muted")
        self.comp_label.setMinimumWidth(140)
        top.addWidget(self.comp_label)
        self.cand_buttons: list[QPushButton] = []
        for _ in range(_CANDIDATES):
            b = button(name="Candidate")
            b.clicked.connect(lambda _=False, btn=b: self._choose(btn.text()))
            b.hide()
            self.cand_buttons.append(b)
            top.addWidget(b)
        top.addStretch(1)
        root.addLayout(top)
        self.grid = QGridLayout()
        self.grid.setSpacing(8)
        root.addLayout(self.grid)
        self.mode_button = button(name="Key")
        self.mode_button.clicked.connect(self._toggle_mode)
        self._build()

    # ---- public ----------------------------------------------------------------------------------
    def set_target(self, target: Target | None, mode: str) -> None:
        self._commit_composition()
        self.target = target
        self.mode = mode
        self._build()

    def wipe(self) -> None:
        self.composition = ""
        self.engine.forget()
        self.target = None
        self._refresh()

    def retranslate(self) -> None:
        self._build()

    # ---- keys ------------------------------------------------------------------------------------
    def _build(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None and w is not self.mode_button:
                w.hide()
                w.setParent(None)
                w.deleteLater()
        rows = (
            _DIGIT_ROWS
            if self.mode == "digits"
            else ("1234567890", *_LETTER_ROWS)
            if self.mode == "letters"
            else _LETTER_ROWS
        )
        for r, row in enumerate(rows):
            for c, ch in enumerate(row):
                shown = ch.upper() if self.mode == "letters" or ch == "X" else ch
                k = button(shown, name="Key")
                k.clicked.connect(lambda _=False, s=shown: self.press(s))
                indent = 0 if self.mode == "digits" else max(0, r - (self.mode == "letters"))
                self.grid.addWidget(k, r, c * 2 + indent, 1, 2)
                k.show()
        last = len(rows)
        back = button("⌫", name="Key")
        back.clicked.connect(self.backspace)
        space = button(translate("Kiosk", "Space"), name="Key")
        space.clicked.connect(lambda: self.press(" "))
        self.mode_button.setText({"pinyin": translate("Kiosk", "Pinyin"), "letters": "ABC", "digits": "123"}[self.mode])
        self.grid.addWidget(self.mode_button, last, 0, 1, 4)
        self.grid.addWidget(space, last, 4, 1, 8)
        self.grid.addWidget(back, last, 12, 1, 4 if self.mode != "digits" else 2)
        for w in (space, back, self.mode_button):
            w.show()
        self._refresh()

    def _toggle_mode(self) -> None:
        order = ["pinyin", "letters", "digits"]
        self.set_target(self.target, order[(order.index(self.mode) + 1) % 3])

    def press(self, key: str) -> None:
        self.typed.emit()
        if self.mode == "pinyin" and key.isalpha() and key.isascii():
            self.composition += key.lower()
            self._refresh()
            return
        self._commit_composition()
        self._insert(key)

    def backspace(self) -> None:
        self.typed.emit()
        if self.composition:
            self.composition = self.composition[:-1]
            self._refresh()
            return
        t = self.target
        if isinstance(t, QLineEdit):
            t.backspace()
        elif isinstance(t, QPlainTextEdit):
            t.textCursor().deletePreviousChar()

    def _choose(self, word: str) -> None:
        self.typed.emit()
        used = self.engine.consumed(self.composition, word)
        self.engine.learn(used, word)
        self.composition = self.composition[len(used) :]
        self._insert(word)
        self._refresh()

    def _commit_composition(self) -> None:
        """Letters left in the composition are typed as they are (a name in pinyin, a plate)."""
        if self.composition:
            text, self.composition = self.composition, ""
            self._insert(text)
            self._refresh()

    def _insert(self, text: str) -> None:
        t = self.target
        if isinstance(t, QLineEdit):
            t.insert(text)
        elif isinstance(t, QPlainTextEdit):
            t.insertPlainText(text)

    def _refresh(self) -> None:
        self.comp_label.setText(self.composition)
        self.comp_label.setVisible(self.mode == "pinyin")
        cands = self.engine.candidates(self.composition) if self.mode == "pinyin" else []
        for b, text in zip(self.cand_buttons, cands + [""] * _CANDIDATES):
            b.setText(text)
            b.setVisible(bool(text))
