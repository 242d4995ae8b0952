"""The watch-listed vehicle warning: an amber card at the top of the console, and the recent hits.

The card shows the most urgent hit not yet noted (the view-model picks it): the plate crop, the plate as
read (and the listed plate when it is a near match), the reason, the camera, the time, the list priority,
and a big "Noted" button; it pulses amber (`pulse()`, from the window's timer) but never takes over the
screen the way an alarm does. Beside it, the recent hits, one line each. While an incident fills the
screen the window hides this panel and shows the same card `compact` in the incident page's side column
(so that the alarm view keeps its room on a 1080p screen). Nothing here keeps state beyond the decoded
image of the hit on show; the "Noted" button emits `noted(key)` and the window decides.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ui.console.style import set_prop
from ui.console.text import action_label, translate
from ui.console.vision import HitView, VisionView

__all__ = ["MAX_ROWS", "HitCard", "VehicleHitPanel", "hit_where", "show_hit"]

MAX_ROWS = 4
IMAGE_SIZE = {False: (300, 96), True: (150, 48)}  # full, compact


def _label(name: str, *, wrap: bool = False, compact: bool = False, clip: bool = False) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(wrap)
    label.setProperty("compact", "true" if compact else "false")
    if clip:  # a long text is cut at the edge rather than widening the window
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def hit_where(hit: HitView) -> str:
    """The camera (name, and id when it differs) and the time of a hit."""
    camera = hit.camera if hit.camera == hit.camera_id else f"{hit.camera} ({hit.camera_id})"
    return f"{camera} · {hit.clock}"


class HitCard(QFrame):
    """The hit on show: full size (a wide card: image, big plate, reason and camera on their own lines) or
    `compact` (a narrow one for the side column). Draws a `HitView`; its button emits `noted(key)`."""

    noted = Signal(str)

    def __init__(self, *, compact: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hitCard")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.compact = compact
        self.hit: HitView | None = None
        self._image_key = ""
        self._phase = False
        self.caption = _label("hitCaption", compact=compact)
        self.priority = _label("hitPriority", compact=compact)
        self.more = _label("hitMore", compact=compact)
        self.image = _label("hitImage")
        self.image.setFixedSize(*IMAGE_SIZE[compact])
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.plate = _label("hitPlate", compact=compact)
        self.near = _label("hitNear", wrap=compact, compact=compact)
        self.reason = _label("hitReason", wrap=True, compact=compact)
        self.where = _label("hitWhere", wrap=True, compact=compact)
        self.sound_note = _label("soundNote")
        self.noted_button = QPushButton()
        self.noted_button.setObjectName("noted")
        self.noted_button.setProperty("compact", "true" if compact else "false")
        self.noted_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.noted_button.clicked.connect(self._noted)
        if compact:
            self._build_compact()
        else:
            self._build_full()

    def _build_full(self) -> None:
        head = QHBoxLayout()
        head.addWidget(self.caption)
        head.addSpacing(12)
        head.addWidget(self.priority)
        head.addStretch(1)
        head.addWidget(self.more)
        plate_row = QHBoxLayout()
        plate_row.addWidget(self.plate)
        plate_row.addSpacing(16)
        plate_row.addWidget(self.near, 1)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addLayout(head)
        text.addLayout(plate_row)
        text.addWidget(self.reason)
        text.addWidget(self.where)
        side = QVBoxLayout()
        side.addWidget(self.sound_note, 0, Qt.AlignmentFlag.AlignRight)
        side.addStretch(1)
        side.addWidget(self.noted_button)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 10, 16, 10)
        lay.setSpacing(16)
        lay.addWidget(self.image, 0, Qt.AlignmentFlag.AlignVCenter)
        lay.addLayout(text, 1)
        lay.addLayout(side)

    def _build_compact(self) -> None:
        head = QHBoxLayout()
        head.addWidget(self.caption)
        head.addWidget(self.priority)
        head.addStretch(1)
        plate = QHBoxLayout()
        plate.addWidget(self.plate)
        plate.addWidget(self.image)
        plate.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 8, 12, 8)
        lay.setSpacing(4)
        lay.addLayout(head)
        lay.addLayout(plate)
        for label in (self.near, self.reason, self.where, self.more, self.sound_note):
            lay.addWidget(label)
        lay.addWidget(self.noted_button)

    def show_hit(self, hit: HitView, *, unnoted: int, sound_note: str) -> None:
        self.hit = hit
        self.caption.setText(translate("Console", "WATCH-LIST VEHICLE"))
        self.priority.setText(translate("Console", "Priority %1").replace("%1", str(hit.priority)))
        set_prop(self.priority, "urgent", "true" if hit.priority <= 1 else "false")
        self.more.setText(translate("Console", "%1 more not yet noted").replace("%1", str(unnoted - 1)))
        self.more.setVisible(unnoted > 1)
        self.plate.setText(hit.plate)
        self.near.setText(
            translate("Console", "Near match")
            + " · "
            + translate("Console", "listed %1").replace("%1", hit.listed_plate)
        )
        self.near.setVisible(hit.near)
        self.reason.setText(hit.reason)
        self.where.setText(
            hit_where(hit)
            + " · "
            + translate("Console", "confidence %1%").replace("%1", str(round(hit.confidence * 100)))
        )
        self.sound_note.setText(sound_note)
        self.sound_note.setVisible(bool(sound_note))
        self.noted_button.setText(action_label("noted"))
        self._show_image(hit)
        self._paint()

    def _show_image(self, hit: HitView) -> None:
        if hit.key == self._image_key:
            return
        self._image_key = hit.key
        pixmap = QPixmap()
        if hit.image and pixmap.loadFromData(hit.image, "JPG"):
            w, h = IMAGE_SIZE[self.compact]
            self.image.setPixmap(
                pixmap.scaled(w, h, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
            )
            self.image.show()
        else:
            self.image.clear()
            self.image.hide()

    def has_image(self) -> bool:
        return not self.image.isHidden() and not self.image.pixmap().isNull()

    def pulse(self) -> None:
        self._phase = not self._phase
        self._paint()

    def _paint(self) -> None:
        set_prop(self, "alert", ("b" if self._phase else "a") if self.hit is not None else "off")

    def _noted(self) -> None:
        if self.hit is not None:
            self.noted.emit(self.hit.key)


class VehicleHitPanel(QFrame):
    """Across the top of the console while no incident is on screen: the full card and the recent hits."""

    noted = Signal(str)  # a hit's key

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hits")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.card = HitCard(compact=False)
        self.card.noted.connect(self.noted)
        self.list_title = _label("hitListTitle")
        self.rows = [_label("hitRow", clip=True) for _ in range(MAX_ROWS)]
        self.recent = QWidget()
        self.recent.setObjectName("hitList")
        recent = QVBoxLayout(self.recent)
        recent.setContentsMargins(0, 0, 0, 0)
        recent.setSpacing(2)
        recent.addWidget(self.list_title)
        for row in self.rows:
            recent.addWidget(row)
        recent.addStretch(1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 10, 16, 10)
        lay.setSpacing(16)
        lay.addWidget(self.card, 3)
        lay.addWidget(self.recent, 2)

    @property
    def alert(self) -> HitView | None:
        return self.card.hit

    # ---- drawing -------------------------------------------------------------------------------
    def show_hits(self, view: VisionView, *, sound_note: str = "") -> None:
        """The panel hides when there is nothing to show."""
        self.setVisible(bool(view.hits))
        show_hit(self.card, view, sound_note=sound_note)
        self.list_title.setText(translate("Console", "Recent vehicle hits: %1").replace("%1", str(len(view.hits))))
        for row, item in zip(self.rows, view.hits):
            text = f"{item.clock}  {item.plate}  {item.reason} · {item.camera}"
            if item.noted:
                text += "  ✓ " + action_label("noted")
            row.setText(text)
            set_prop(row, "noted", "true" if item.noted else "false")
            row.show()
        for row in self.rows[len(view.hits) :]:
            row.hide()

    def row_texts(self) -> list[str]:
        return [r.text() for r in self.rows if not r.isHidden()]


def show_hit(card: HitCard, view: VisionView, *, sound_note: str = "") -> None:
    """Show the view's alert on `card`, or hide the card when every hit has been noted."""
    card.setVisible(view.alert is not None)
    if view.alert is None:
        card.hit = None
        card.pulse()  # paints it "off"
    else:
        card.show_hit(view.alert, unnoted=view.unnoted, sound_note=sound_note)
