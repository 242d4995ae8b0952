"""Colours, sizes and the style sheet of the touchscreen, with the WCAG contrast of every text colour.

Every text/background pair the screens use is listed in `TEXT_PAIRS`; a test checks each reaches 4.5:1
(WCAG 2.x AA for normal text). Targets are at least `MIN_TARGET` px; elder mode scales text and targets.
"""

from __future__ import annotations

from typing import Final

__all__ = ["COLORS", "ELDER_SCALE", "MIN_TARGET", "TEXT_PAIRS", "contrast_ratio", "font_px", "stylesheet"]

COLORS: Final = {
    "bg": "#0B2545",  # deep police blue
    "fg": "#FFFFFF",
    "muted": "#D5E1F2",
    "tile": "#FFFFFF",
    "tile_fg": "#0B2545",
    "tile_sub": "#3A4A5E",
    "accent": "#0050A0",
    "accent_fg": "#FFFFFF",
    "danger": "#B3001B",
    "danger_fg": "#FFFFFF",
    "warn": "#FFD34E",
    "warn_fg": "#1B1B1B",
    "error": "#B3001B",  # on the white form panel
    "panel": "#FFFFFF",
    "panel_fg": "#1B1B1B",
}

#: (text colour, background colour) of every text the screens draw.
TEXT_PAIRS: Final = [
    ("fg", "bg"),
    ("muted", "bg"),
    ("tile_fg", "tile"),
    ("tile_sub", "tile"),
    ("accent_fg", "accent"),
    ("danger_fg", "danger"),
    ("warn_fg", "warn"),
    ("error", "panel"),
    ("panel_fg", "panel"),
    ("accent", "panel"),
    ("fg", "danger"),
]

MIN_TARGET: Final = 60
ELDER_SCALE: Final = 1.3
FONT_FAMILY: Final = "Noto Sans CJK SC"


def _channel(c: int) -> float:
    s = c / 255
    return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4


def _luminance(hex_color: str) -> float:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG 2.x contrast ratio of two `#RRGGBB` colours (1..21)."""
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def font_px(base: int, scale: float) -> int:
    return round(base * scale)


def stylesheet(scale: float = 1.0) -> str:
    c = COLORS

    def f(n: int) -> int:
        return font_px(n, scale)

    t = round(MIN_TARGET * scale)
    return f"""
    QWidget {{ font-family: "{FONT_FAMILY}"; font-size: {f(26)}px; color: {c["fg"]}; }}
    #KioskRoot, QStackedWidget, #Screen {{ background: {c["bg"]}; }}
    QLabel#Title {{ font-size: {f(44)}px; font-weight: bold; color: {c["fg"]}; }}
    QLabel#Subtitle {{ font-size: {f(28)}px; color: {c["muted"]}; }}
    QLabel#Big {{ font-size: {f(72)}px; font-weight: bold; color: {c["fg"]}; }}
    QLabel#Muted {{ color: {c["muted"]}; }}
    QPushButton {{ min-height: {t}px; min-width: {t}px; font-size: {f(28)}px; border-radius: 10px;
                   background: {c["accent"]}; color: {c["accent_fg"]}; padding: 8px 20px; border: none; }}
    QPushButton:checked {{ background: {c["warn"]}; color: {c["warn_fg"]}; }}
    QPushButton#Tile {{ background: {c["tile"]}; color: {c["tile_fg"]}; text-align: left; padding: 16px 24px;
                        min-height: {round(150 * scale)}px; font-size: {f(32)}px; }}
    QPushButton#Tile QLabel#TileTitle {{ color: {c["tile_fg"]}; font-size: {f(34)}px; font-weight: bold; }}
    QPushButton#Tile QLabel#TileSub {{ color: {c["tile_sub"]}; font-size: {f(22)}px; }}
    QPushButton#DangerTile QLabel {{ color: {c["danger_fg"]}; font-size: {f(36)}px; font-weight: bold; }}
    QPushButton#DangerTile QLabel#TileSub {{ font-size: {f(22)}px; font-weight: normal; }}
    QFrame#Panel QLabel#FieldLabel {{ color: {c["panel_fg"]}; font-size: {f(26)}px;
                                      min-width: {round(180 * scale)}px; }}
    QPushButton#Danger, QPushButton#DangerTile {{ background: {c["danger"]}; color: {c["danger_fg"]}; }}
    QPushButton#DangerTile {{ min-height: {round(150 * scale)}px; font-size: {f(36)}px; font-weight: bold; }}
    QFrame#Panel {{ background: {c["panel"]}; border-radius: 12px; }}
    QFrame#Panel QLabel {{ color: {c["panel_fg"]}; }}
    QFrame#Panel QLabel#Error {{ color: {c["error"]}; font-size: {f(24)}px; }}
    QFrame#Panel QLabel#Hint {{ color: {c["accent"]}; font-size: {f(24)}px; }}
    QFrame#Warn {{ background: {c["warn"]}; border-radius: 16px; }}
    QFrame#Warn QLabel {{ color: {c["warn_fg"]}; }}
    QLineEdit, QPlainTextEdit {{ background: {c["panel"]}; color: {c["panel_fg"]}; border: 2px solid {c["accent"]};
                                border-radius: 8px; min-height: {t}px; font-size: {f(30)}px; padding: 4px 10px; }}
    QScrollArea {{ border: none; background: transparent; }}
    """
