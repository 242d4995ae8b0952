"""Chinese input on the touchscreen: Qt Virtual Keyboard's pinyin input method in the kiosk window, offscreen.

200 common words of dispute and hazard reports typed by their pinyin; a real tap on the panel; and the
pinyin user dictionary, which learns what a resident types, holding none of it once the session is wiped.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtQuick import QQuickItem
from PySide6.QtWidgets import QApplication, QPlainTextEdit
from pytestqt.qtbot import QtBot

from tests.support.clock import FakeClock
from tests.support.keyboard import dictionary_holds, type_keys, type_pinyin
from tests.support.report_words import WORDS
from ui.kiosk.ime import dictionary_dir
from ui.kiosk.window import KioskWindow

# No Python Qt message handler (pytest-qt's log capture): Qt Virtual Keyboard loads while the main thread
# holds the GIL, and a loader thread's log line would wait for the GIL forever.


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[KioskWindow]:
    w = KioskWindow(None, clock=FakeClock())
    qtbot.addWidget(w)
    w.resize(1920, 1080)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    yield w
    w.keyboard.wipe()  # the next test starts with an input method that learned nothing
    w.close()


def open_report(w: KioskWindow, qtbot: QtBot, field: str = "description") -> QPlainTextEdit:
    w.start_session()
    w.choose("report_dispute")
    assert w.form is not None
    w.form.select(field)
    edit = w.form.edits[field]
    qtbot.waitUntil(lambda: QApplication.focusWidget() is edit and w.isActiveWindow())
    assert isinstance(edit, QPlainTextEdit)
    return edit


def test_200_report_words_typed_by_pinyin(window: KioskWindow, qtbot: QtBot) -> None:
    edit = open_report(window, qtbot)
    form = window.form
    assert form is not None
    wrong: list[str] = []
    composed: list[str] = []
    trues = sys.getrefcount(True)
    for word, pinyin in WORDS:
        edit.clear()
        try:
            picks = type_pinyin(window.keyboard, pinyin, word)
        except AssertionError as e:
            wrong.append(str(e))
            window.keyboard.wipe()  # drop the composition left behind
            form.select("description")
            continue
        if edit.toPlainText() != word:
            wrong.append(f"{word} ({pinyin}): the field holds {edit.toPlainText()!r}")
        elif picks > 1:
            composed.append(word)
    assert wrong == [], f"{len(WORDS) - len(wrong)}/{len(WORDS)} committed; wrong: {wrong}"
    # Some 1,600 keys, and no signal emitted from Python per key: PySide6 6.12's SignalInstance.emit()
    # drops a reference to True each time (Python 3.11), and the process aborts once none are left.
    assert sys.getrefcount(True) > trues - 100
    # Most are one pick of the whole word; the rest were built from parts, as a resident would.
    assert len(composed) < len(WORDS) // 4, composed


def test_a_tap_on_the_panel_types_into_the_field_that_keeps_the_focus(window: KioskWindow, qtbot: QtBot) -> None:
    edit = open_report(window, qtbot)
    view = window.keyboard.view
    keys = [
        item
        for item in window.keyboard.root.findChildren(QQuickItem)
        if item.property("text") == "j" and item.property("key") == int(Qt.Key.Key_J) and item.isVisible()
    ]
    assert keys, "no visible key j on the panel"
    centre = keys[0].mapToScene(QPointF(keys[0].width() / 2, keys[0].height() / 2)).toPoint()
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.waitUntil(lambda: window.keyboard.composition == "j")
    assert QApplication.focusWidget() is edit
    type_keys(window.keyboard, "iufen")
    window.keyboard.choose(window.keyboard.candidates().index("纠纷"))
    assert edit.toPlainText() == "纠纷"


def test_keyboard_wipe_forgets_what_the_input_method_learned(window: KioskWindow, qtbot: QtBot) -> None:
    folder = dictionary_dir()
    edit = open_report(window, qtbot)
    # A phrase the dictionary lacks, built from parts: the input method learns it and offers it first next time.
    assert type_pinyin(window.keyboard, "loudaoduiwu", "楼道堆物") > 1
    type_keys(window.keyboard, "loudaoduiwu")
    assert window.keyboard.candidates()[0] == "楼道堆物"
    window.keyboard.choose(0)
    assert edit.toPlainText() == "楼道堆物楼道堆物"
    # The name field is personal (sensitive): the input method closes its dictionary and writes what it
    # learned to the file. The bytes are there, so the search for them below is a real one.
    assert window.form is not None
    window.form.select("name")
    assert dictionary_holds(folder, ["楼道堆物"]) == ["楼道堆物"]
    window.form.select("description")
    type_pinyin(window.keyboard, "zaoyinrao", "噪音扰")  # learned again, in memory only for now
    type_keys(window.keyboard, "loush")  # and a composition left pending

    window.keyboard.wipe()
    assert window.keyboard.composition == ""
    assert dictionary_holds(folder, ["楼道堆物", "噪音扰", "楼道", "噪音"]) == []
    window.form.select("description")
    type_keys(window.keyboard, "loudaoduiwu")
    assert "楼道堆物" not in window.keyboard.candidates()
    window.keyboard.wipe()
    assert dictionary_holds(folder, ["楼道堆物", "噪音扰"]) == []


def test_idle_wipe_leaves_no_typed_text_in_the_dictionary(window: KioskWindow, qtbot: QtBot) -> None:
    folder = dictionary_dir()
    edit = open_report(window, qtbot)
    assert type_pinyin(window.keyboard, "loudaoduiwu", "楼道堆物") > 1
    type_pinyin(window.keyboard, "zaoyinrao", "噪音扰")
    type_pinyin(window.keyboard, "linju", "邻居")
    assert edit.toPlainText() == "楼道堆物噪音扰邻居"
    typed = ["楼道堆物", "噪音扰", "楼道", "堆物", "噪音", "邻居"]
    type_keys(window.keyboard, "loush")
    assert window.form is not None
    window.form.cancel.emit()  # back to the services: the form and the keyboard go, the session stays
    assert not window.keyboard.isVisible()

    # The resident walks away: warning, then the wipe.
    clock = window.clock
    assert isinstance(clock, FakeClock)
    clock.t += float(window.settings["idle_timeout"]) + 1
    window.tick()
    clock.t += float(window.settings["idle_warning"]) + 1
    window.tick()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.attract)
    assert window.form is None
    assert window.keyboard.composition == ""
    assert dictionary_holds(folder, typed) == []

    # The next resident: the learned phrase is gone from memory too, and what they type is theirs alone.
    open_report(window, qtbot)
    type_keys(window.keyboard, "loudaoduiwu")
    assert "楼道堆物" not in window.keyboard.candidates()
    window.keyboard.wipe()
    assert dictionary_holds(folder, typed) == []


def visible_keys(window: KioskWindow) -> set[str]:
    return {
        str(item.property("text"))
        for item in window.keyboard.root.findChildren(QQuickItem)
        if isinstance(item.property("key"), int) and item.property("text") and item.isVisible()
    }


def test_digit_and_letter_fields_get_their_layouts(window: KioskWindow, qtbot: QtBot) -> None:
    window.start_session()
    window.choose("appt_id_card")
    form = window.form
    assert form is not None
    form.select("phone")
    qtbot.waitUntil(lambda: "5" in visible_keys(window) and "q" not in visible_keys(window))  # the digit pad
    type_keys(window.keyboard, "13800138000")
    form.select("id_number")  # numbers first, and the letter X
    type_keys(window.keyboard, "11010519491231002X")
    assert form.values()["phone"] == "13800138000"
    assert form.values()["id_number"] == "11010519491231002X"
    assert dictionary_holds(dictionary_dir(), ["13800138000", "11010519491231002X"]) == []
    window.show_home()
    window.choose("traffic_lookup")
    assert window.form is not None
    window.form.select("plate")
    type_pinyin(window.keyboard, "yue", "粤")  # the province by pinyin
    window.keyboard.set_language("en_US")  # the globe key: then capitals and digits
    type_keys(window.keyboard, "B12345")
    assert window.form.values()["plate"] == "粤B12345"
    window.keyboard.wipe()  # and the next resident starts in pinyin again
    window.form.select("plate")
    type_pinyin(window.keyboard, "yue", "粤")
