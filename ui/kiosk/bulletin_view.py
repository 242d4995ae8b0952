"""The weekly bulletin on the notices tile: a table of categories with this week, last week and the change,
the share of incidents that met the 1-3-5 minute targets, and central's safety tip.

Its fixed wording is bilingual data here (like the service catalogue), not Qt translations: the table
is read in the resident's language chosen at the kiosk, and every number comes from central. In elder
mode the window's style sheet scales all of it (`ui.kiosk.theme`).
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from edge.wire.bulletin import Bulletin
from kiosk.catalogue import Text
from ui.kiosk.widgets import label

__all__ = ["BulletinPanel"]

WORDS: Final = {
    "title": Text("每周警情通报", "Weekly incident bulletin"),
    "category": Text("类别", "Category"),
    "this_week": Text("本周", "This week"),
    "last_week": Text("上周", "Last week"),
    "change": Text("变化", "Change"),
    "alarms": Text("报警总数", "Alarms in total"),
    "targets": Text("1-3-5 分钟快速反应达标", "1-3-5 minute response targets met"),
    "no_events": Text("本周与上周均无报警和报事。", "No alarms or reports this week or last week."),
    "none_yet": Text("—", "—"),
    "tip": Text("安全提示", "Safety tip"),
}


def _change(n: int, lang: str) -> str:
    if n == 0:
        return "持平" if lang == "zh" else "same"
    arrow = "↑" if n > 0 else "↓"
    return f"{arrow} {abs(n)}"


class BulletinPanel(QFrame):
    """One bulletin, drawn once for a language (the screen makes a new panel when the language changes)."""

    def __init__(self, bulletin: Bulletin, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Panel")
        self.bulletin = bulletin
        b, w = bulletin, {k: v.get(lang) for k, v in WORDS.items()}
        box = QVBoxLayout(self)
        box.addWidget(label(f"{w['title']} · {b.area} · {b.first_day} – {b.last_day}", name="Hint"))
        summary = b.summary_en if lang == "en" else b.summary_zh
        if summary:
            box.addWidget(label(summary))
        self.cells: dict[tuple[int, int], QLabel] = {}
        self.table = QGridLayout()
        self.table.setHorizontalSpacing(24)
        for col, key in enumerate(("category", "this_week", "last_week", "change")):
            head = label(w[key], name="Hint", wrap=False)
            if col:
                head.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.table.addWidget(head, 0, col)
            self.cells[0, col] = head
        for row, c in enumerate(b.categories, start=1):
            cells = (c.en if lang == "en" else c.zh, str(c.this_week), str(c.last_week), _change(c.change, lang))
            for col, text in enumerate(cells):
                cell = label(text, wrap=col == 0)
                if col:
                    cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
                cell.setAccessibleName(f"{c.category}:{col}")
                self.table.addWidget(cell, row, col)
                self.cells[row, col] = cell
        box.addLayout(self.table)
        if not b.categories:
            box.addWidget(label(w["no_events"]))
        box.addWidget(label(f"{w['alarms']}: {b.incidents}"))
        box.addWidget(label(w["targets"], name="Hint"))
        for s in b.targets:
            share = f"{s.percent}% ({s.met}/{s.counted})" if s.percent is not None else w["none_yet"]
            box.addWidget(label(f"{s.en if lang == 'en' else s.zh}: {share}"))
        tip = b.tip_en if lang == "en" else b.tip_zh
        if tip:
            box.addWidget(label(f"{w['tip']}: {tip}", name="Hint"))

    def cell(self, row: int, col: int) -> str:
        got = self.cells.get((row, col))
        return got.text() if got is not None else ""

    def texts(self) -> list[str]:
        return [lbl.text() for lbl in self.findChildren(QLabel)]
