"""The Qt binding's signals do not leak references (PySide6 6.12.0 dropped one reference to `True` per
`Signal.emit()` from Python on 3.11, so a kiosk or console aborted after a few thousand emits: pinned away
in pyproject.toml). The apps emit on every daemon answer and notification (ui/link.py)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    bare = Signal()
    text = Signal(str)
    flag = Signal(bool)


def test_emitting_from_python_keeps_the_reference_counts_of_true_and_false() -> None:
    e = _Emitter()
    got: list[object] = []
    e.bare.connect(lambda: got.append(None))
    e.text.connect(got.append)
    e.flag.connect(got.append)
    before = sys.getrefcount(True), sys.getrefcount(False)
    for i in range(3000):
        e.bare.emit()
        e.text.emit("x")
        e.flag.emit(i % 2 == 0)
    got.clear()
    after = sys.getrefcount(True), sys.getrefcount(False)
    assert abs(after[0] - before[0]) < 50 and abs(after[1] - before[1]) < 50, (before, after)
