"""The simple pages: attract loop, home (service tiles), notices, emergency confirmation, out of service."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from edge.wire.bulletin import Bulletin
from kiosk.catalogue import ServiceSpec
from ui.kiosk.bulletin_view import BulletinPanel
from ui.kiosk.i18n import translate
from ui.kiosk.widgets import Screen, button, label

__all__ = ["AttractScreen", "ConfirmScreen", "HomeScreen", "NoticesScreen", "OutOfServiceScreen"]


def _text(d: dict[str, Any], lang: str) -> str:
    return str(d.get("en" if lang == "en" else "zh", ""))


class AttractScreen(Screen):
    """Shown while nobody uses the kiosk: the current notices in turn, and "touch to start"."""

    tapped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.notices: list[dict[str, Any]] = []
        self.index = 0
        self.station = label(name="Subtitle")
        self.title = label(name="Title")
        self.body = label()
        self.hint = label(name="Big")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for w in (self.station, self.title, self.body):
            self.layout_.addWidget(w)
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.hint)
        self.layout_.addStretch(1)
        self.timer = QTimer(self)
        self.timer.setInterval(6000)
        self.timer.timeout.connect(self.next_notice)
        self.retranslate()

    def set_notices(self, notices: list[dict[str, Any]]) -> None:
        self.notices = notices
        self.index = 0
        self.retranslate()

    def next_notice(self) -> None:
        if self.notices:
            self.index = (self.index + 1) % len(self.notices)
            self.retranslate()

    def retranslate(self) -> None:
        self.hint.setText(translate("Kiosk", "Touch the screen to start"))
        if self.notices:
            n = self.notices[self.index]
            self.title.setText(_text(n["title"], "zh"))
            self.body.setText(_text(n["body"], "zh"))
        else:
            self.title.setText(translate("Kiosk", "Smart police station: self-service"))
            self.body.setText(translate("Kiosk", "Reports, appointments, traffic matters and more, day and night."))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.tapped.emit()
        super().mousePressEvent(event)


class HomeScreen(Screen):
    chosen = Signal(str)
    toggle_lang = Signal()
    toggle_elder = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        bar = QHBoxLayout()
        self.title = label(name="Title")
        bar.addWidget(self.title, 1)
        self.elder_button = button(name="")
        self.elder_button.setCheckable(True)
        self.elder_button.clicked.connect(self.toggle_elder.emit)
        self.lang_button = button()
        self.lang_button.clicked.connect(self.toggle_lang.emit)
        bar.addWidget(self.elder_button)
        bar.addWidget(self.lang_button)
        self.layout_.addLayout(bar)
        self.notice = label(name="Subtitle")
        self.layout_.addWidget(self.notice)
        self.grid = QGridLayout()
        self.grid.setSpacing(18)
        self.layout_.addLayout(self.grid)
        self.layout_.addStretch(1)
        self.services: tuple[ServiceSpec, ...] = ()
        self.lang = "zh"
        self.elder = False
        self.station_name = ""
        self.tiles: dict[str, QWidget] = {}

    def show_services(self, services: tuple[ServiceSpec, ...], *, lang: str, elder: bool, station_name: str) -> None:
        self.services, self.lang, self.elder, self.station_name = services, lang, elder, station_name
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self.station_name or translate("Kiosk", "Smart police station"))
        self.lang_button.setText("English" if self.lang == "zh" else "中文")
        self.elder_button.setText(translate("Kiosk", "Elder mode"))
        self.elder_button.setChecked(self.elder)
        self.notice.setText(translate("Kiosk", "Choose a service. Tap your ID card on the reader when asked."))
        while self.grid.count():
            item = self.grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()
                w.setParent(None)
                w.deleteLater()
        self.tiles = {}
        shown = [s for s in self.services if s.elder] if self.elder else list(self.services)
        cols = 2 if self.elder else 3
        for i, s in enumerate(shown):
            tile = button(name="DangerTile" if s.kind == "emergency" else "Tile")
            box = QVBoxLayout(tile)
            box.setContentsMargins(20, 12, 20, 12)
            head = label(f"{s.icon}  {s.title.get(self.lang)}", name="TileTitle")
            box.addWidget(head)
            if not self.elder and s.subtitle.get(self.lang):
                box.addWidget(label(s.subtitle.get(self.lang), name="TileSub"))
            for lbl in tile.findChildren(QLabel):
                lbl.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
            tile.setAccessibleName(s.title.get(self.lang))
            tile.clicked.connect(lambda _=False, sid=s.id: self.chosen.emit(sid))
            self.grid.addWidget(tile, i // cols, i % cols)
            tile.show()
            self.tiles[s.id] = tile


class NoticesScreen(Screen):
    back = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = label(name="Title")
        self.layout_.addWidget(self.title)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.inner = QWidget()
        self.inner.setObjectName("Screen")
        self.list_ = QVBoxLayout(self.inner)
        self.scroller.setWidget(self.inner)
        self.layout_.addWidget(self.scroller, 1)
        self.back_button = button()
        self.back_button.clicked.connect(self.back.emit)
        self.layout_.addWidget(self.back_button)
        self.notices: list[dict[str, Any]] = []
        self.bulletin: Bulletin | None = None  # the weekly bulletin, shown first
        self.bulletin_panel: BulletinPanel | None = None
        self.lang = "zh"

    def show_notices(self, notices: list[dict[str, Any]], lang: str, bulletin: Bulletin | None = None) -> None:
        self.notices, self.lang, self.bulletin = notices, lang, bulletin
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(translate("Kiosk", "Anti-fraud notices and bulletins"))
        self.back_button.setText(translate("Kiosk", "Back"))
        while self.list_.count():
            item = self.list_.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()
                w.setParent(None)
                w.deleteLater()
        self.bulletin_panel = BulletinPanel(self.bulletin, self.lang) if self.bulletin is not None else None
        if self.bulletin_panel is not None:
            self.list_.addWidget(self.bulletin_panel)
        elif not self.notices:
            self.list_.addWidget(label(translate("Kiosk", "There are no notices at the moment."), name="Subtitle"))
        for n in self.notices:
            panel = QFrame()
            panel.setObjectName("Panel")
            box = QVBoxLayout(panel)
            kind = (
                translate("Kiosk", "Anti-fraud")
                if n.get("kind") == "anti_fraud"
                else translate("Kiosk", "Weekly bulletin")
            )
            box.addWidget(label(f"【{kind}】{_text(n['title'], self.lang)}", name="Hint"))
            box.addWidget(label(_text(n["body"], self.lang)))
            self.list_.addWidget(panel)
        self.list_.addStretch(1)


class ConfirmScreen(Screen):
    """ "Raise the alarm?": one large red confirm button and a cancel button (no accidental alarms)."""

    confirmed = Signal()
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = label(name="Title")
        self.body = label(name="Subtitle")
        self.ok = button(name="DangerTile")
        self.cancel = button()
        self.ok.clicked.connect(self.confirmed.emit)
        self.cancel.clicked.connect(self.cancelled.emit)
        for w in (self.title, self.body):
            self.layout_.addWidget(w)
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.ok)
        self.layout_.addWidget(self.cancel)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(translate("Kiosk", "Emergency"))
        self.body.setText(
            translate(
                "Kiosk",
                "If you are in danger, press the red button. Officers will come "
                "at once. For a fire or medical emergency, also call 119 or 120.",
            )
        )
        self.ok.setText(translate("Kiosk", "Raise the alarm now"))
        self.cancel.setText(translate("Kiosk", "Cancel"))


class OutOfServiceScreen(Screen):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = label(name="Big")
        self.body = label(name="Subtitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.body)
        self.layout_.addStretch(1)
        self.retranslate()

    def retranslate(self) -> None:
        # Shown in both languages: the language button is not available here.
        self.title.setText("暂停服务\nOut of service")
        self.body.setText(
            "本机服务暂时不可用，正在自动恢复。如需帮助请联系值班民警或拨打 110。\n"
            "The station service is not running; it is restarting. For help, ask the officer on "
            "duty or call 110."
        )
