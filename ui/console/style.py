"""The console's look: a dark room-readable theme, big type, states as colours (set as dynamic properties)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

__all__ = ["STYLE", "set_prop"]

RED = "#e0282e"
AMBER = "#ffb020"
GREEN = "#2fb35a"
BLUE = "#3d8bd9"

STYLE = f"""
QWidget {{ background: #11161c; color: #eef2f5; font-size: 22px; }}
QLabel {{ background: transparent; }}
#header {{ background: #1b232c; border-bottom: 2px solid #2b3540; }}
#title {{ font-size: 30px; font-weight: 700; }}
#clock {{ font-size: 34px; font-weight: 700; }}
#conn[ok="true"] {{ color: {GREEN}; font-size: 22px; }}
#conn[ok="false"] {{ color: {RED}; font-size: 22px; font-weight: 700; }}
QPushButton {{ background: #2b3642; border: 2px solid #3c4a58; border-radius: 10px; padding: 8px 18px; }}
QPushButton:disabled {{ color: #5d6b78; background: #1a2027; border-color: #232c35; }}
QPushButton:pressed {{ background: #3c4a58; }}
#lang {{ font-size: 22px; min-width: 90px; }}

#strip {{ background: #161d24; border-bottom: 1px solid #2b3540; }}
#chip {{ border-radius: 8px; padding: 6px 14px; font-size: 22px; font-weight: 600; }}
#chip[level="ok"] {{ background: #173524; color: #8fe0a9; }}
#chip[level="lost"] {{ background: #5a1416; color: #ffd6d6; }}
#chip[level="error"] {{ background: #5a1416; color: #ffd6d6; }}
#chip[level="warning"] {{ background: #4d3a0c; color: #ffe3a3; }}
#message {{ background: #5a1416; color: #ffffff; font-size: 24px; padding: 8px 16px; }}

#idle {{ font-size: 56px; color: #8fe0a9; font-weight: 700; }}
#idleSub {{ font-size: 26px; color: #93a4b4; }}

#focus {{ border-radius: 16px; border: 3px solid #2b3540; background: #1b232c; }}
#focus[alert="a"] {{ background: #9c0d12; border-color: #ff4a4a; }}
#focus[alert="b"] {{ background: #e0161e; border-color: #ffffff; }}
#focus[alert="off"] {{ background: #1b232c; }}
#kind {{ font-size: 34px; font-weight: 800; background: {RED}; color: white; border-radius: 8px; padding: 4px 16px; }}
#kind[call="true"] {{ background: {AMBER}; color: #221800; }}
#reason {{ font-size: 34px; font-weight: 800; color: #ffffff; }}
#badge {{ font-size: 24px; font-weight: 700; border: 2px solid #eef2f5; border-radius: 8px; padding: 4px 12px; }}
#site {{ font-size: 64px; font-weight: 800; }}
#siteOther {{ font-size: 28px; color: #c7d2dc; }}
#point {{ font-size: 40px; font-weight: 700; }}
#pointOther {{ font-size: 24px; color: #c7d2dc; }}
#raisedAt {{ font-size: 30px; }}
#elapsed {{ font-size: 92px; font-weight: 800; font-family: "DejaVu Sans Mono", monospace; }}
#caption {{ font-size: 22px; color: #c7d2dc; }}
#timeline {{ font-size: 20px; color: #c7d2dc; }}
#soundNote {{ font-size: 22px; color: #221800; background: #ffe3a3; font-weight: 700; border-radius: 8px;
             padding: 4px 10px; }}
#bigButton {{ font-size: 32px; font-weight: 800; min-height: 88px; min-width: 200px; }}
#bigButton[primary="true"] {{ background: #f2f5f7; color: #9c0d12; border-color: #ffffff; }}
#outcome {{ font-size: 30px; font-weight: 800; min-height: 80px; min-width: 180px; }}
#silence {{ font-size: 28px; font-weight: 800; min-height: 56px; background: {AMBER}; color: #221800; }}
QLineEdit {{ font-size: 26px; min-height: 60px; padding: 4px 10px; background: #0d1116; border: 2px solid #3c4a58;
            border-radius: 8px; }}

#timer {{ background: rgba(0, 0, 0, 0.35); border-radius: 10px; }}
#timerName {{ font-size: 24px; font-weight: 700; }}
#timerText {{ font-size: 30px; font-weight: 800; }}
#timer QProgressBar {{ min-height: 22px; max-height: 22px; border-radius: 6px; background: #2b3540; border: none; }}
#timer[status="running"] QProgressBar::chunk {{ background: {BLUE}; border-radius: 6px; }}
#timer[status="amber"] QProgressBar::chunk {{ background: {AMBER}; border-radius: 6px; }}
#timer[status="red"] QProgressBar::chunk, #timer[status="late"] QProgressBar::chunk {{ background: {RED};
            border-radius: 6px; }}
#timer[status="met"] QProgressBar::chunk {{ background: {GREEN}; border-radius: 6px; }}
#timer[status="amber"] #timerText {{ color: {AMBER}; }}
#timer[status="red"] {{ background: {RED}; }}
#timer[status="red"] QProgressBar::chunk {{ background: #ffffff; }}
#timer[status="late"] #timerText {{ color: #ff8a8a; }}
#timer[status="met"] #timerText {{ color: #8fe0a9; }}

#card {{ background: #1b232c; border: 2px solid #2b3540; border-radius: 12px; }}
#card[focused="true"] {{ border-color: #eef2f5; }}
#card[alert="true"] {{ background: #7a0d12; border-color: #ff4a4a; }}
#cardSite {{ font-size: 30px; font-weight: 800; }}
#cardPoint {{ font-size: 22px; color: #c7d2dc; }}
#cardState {{ font-size: 22px; font-weight: 700; }}
#cardElapsed {{ font-size: 30px; font-weight: 800; font-family: "DejaVu Sans Mono", monospace; }}
#pill {{ border-radius: 6px; padding: 2px 8px; font-size: 18px; font-weight: 700; }}
#pill[status="running"] {{ background: #24456b; }}
#pill[status="amber"] {{ background: {AMBER}; color: #221800; }}
#pill[status="red"], #pill[status="late"] {{ background: {RED}; }}
#pill[status="met"] {{ background: #1f5a34; }}
#listTitle {{ font-size: 24px; color: #93a4b4; }}

#calls {{ border-bottom: 3px solid {AMBER}; }}
#calls[alert="a"] {{ background: #6b4a00; }}
#calls[alert="b"] {{ background: #8f6300; }}
#callCaption {{ font-size: 28px; font-weight: 800; background: {AMBER}; color: #221800; border-radius: 8px;
               padding: 2px 12px; }}
#callWhere {{ font-size: 30px; font-weight: 800; color: #ffffff; }}
#hits {{ background: #161d24; border-bottom: 2px solid #4d3a0c; }}
#hitCard {{ border-radius: 14px; border: 3px solid {AMBER}; }}
#hitCard[alert="a"] {{ background: #6b4a00; }}
#hitCard[alert="b"] {{ background: #8f6300; border-color: #ffe3a3; }}
#hitCaption {{ font-size: 28px; font-weight: 800; background: {AMBER}; color: #221800; border-radius: 8px;
              padding: 2px 14px; }}
#hitPriority {{ font-size: 22px; font-weight: 700; border: 2px solid #ffe3a3; border-radius: 8px; padding: 2px 10px; }}
#hitPriority[urgent="true"] {{ background: {RED}; border-color: #ffffff; }}
#hitMore {{ font-size: 22px; font-weight: 700; color: #ffe3a3; }}
#hitImage {{ background: #0d1116; border: 2px solid #ffe3a3; border-radius: 6px; }}
#hitPlate {{ font-size: 60px; font-weight: 800; font-family: "Noto Sans CJK SC", "DejaVu Sans Mono", monospace;
            background: #f2f5f7; color: #11161c; border-radius: 8px; padding: 0px 14px; }}
#hitNear {{ font-size: 26px; font-weight: 800; color: #ffffff; }}
#hitReason {{ font-size: 32px; font-weight: 800; color: #ffffff; }}
#hitWhere {{ font-size: 24px; color: #ffe3a3; }}
#noted {{ font-size: 30px; font-weight: 800; min-height: 72px; min-width: 200px; background: #f2f5f7;
         color: #6b4a00; border-color: #ffffff; }}
#hitCaption[compact="true"] {{ font-size: 22px; padding: 0px 10px; }}
#hitPriority[compact="true"] {{ font-size: 18px; padding: 0px 8px; }}
#hitPlate[compact="true"] {{ font-size: 40px; padding: 0px 10px; }}
#hitNear[compact="true"] {{ font-size: 22px; }}
#hitReason[compact="true"] {{ font-size: 26px; }}
#hitWhere[compact="true"] {{ font-size: 20px; }}
#noted[compact="true"] {{ font-size: 26px; min-height: 56px; min-width: 160px; padding: 4px 12px; }}
#hitListTitle {{ font-size: 22px; color: #93a4b4; }}
#hitRow {{ font-size: 22px; font-family: "Noto Sans CJK SC", "DejaVu Sans Mono", monospace; }}
#hitRow[noted="false"] {{ color: {AMBER}; font-weight: 700; }}
#hitRow[noted="true"] {{ color: #93a4b4; }}

#crewBar {{ background: #1b232c; border-top: 2px solid #2b3540; }}
#crewButton {{ font-size: 26px; font-weight: 700; min-height: 42px; min-width: 150px; padding: 6px 18px; }}
#crewButton[active="true"] {{ background: #eef2f5; color: #11161c; }}
#sirenState {{ font-size: 24px; font-weight: 700; padding: 4px 12px; border-radius: 8px; }}
#sirenState[level="on"] {{ background: {RED}; color: #ffffff; }}
#sirenState[level="off"] {{ color: #c7d2dc; }}
#sirenState[level="unknown"] {{ color: #93a4b4; }}
#sirenState[level="refused"] {{ background: #4d3a0c; color: #ffe3a3; }}
#sirenButton {{ font-size: 26px; font-weight: 700; min-height: 42px; min-width: 150px; padding: 6px 18px; }}
#sirenButton[current="true"] {{ border-color: #eef2f5; background: #3c4a58; }}
#manualPanel {{ background: #1b232c; border: 3px solid {RED}; border-radius: 16px; }}
#manualTitle {{ font-size: 34px; font-weight: 800; color: #ffd6d6; }}
#plain {{ background: transparent; }}
#formButton {{ font-size: 30px; font-weight: 700; min-height: 80px; min-width: 150px; }}
#fieldCaption {{ font-size: 22px; color: #c7d2dc; }}
#kindButton {{ font-size: 30px; font-weight: 800; min-height: 80px; min-width: 180px; }}
#kindButton[current="true"] {{ background: {RED}; border-color: #ffffff; color: #ffffff; }}
#raiseButton {{ font-size: 30px; font-weight: 800; min-height: 80px; min-width: 170px; background: #f2f5f7;
               color: #9c0d12; }}
#raiseButton:disabled {{ background: #1a2027; color: #5d6b78; }}
#manualQuestion {{ font-size: 36px; font-weight: 800; color: #ffffff; }}
#confirmButton {{ font-size: 32px; font-weight: 800; min-height: 88px; min-width: 220px; background: {RED};
                 border-color: #ffffff; color: #ffffff; }}
#manualProblem {{ font-size: 24px; font-weight: 700; color: #ffe3a3; }}
#historyTitle {{ font-size: 28px; font-weight: 800; color: #c7d2dc; }}
#historyEmpty {{ font-size: 36px; color: #93a4b4; }}
#history {{ font-size: 22px; gridline-color: #2b3540; border: none; }}
#history QHeaderView::section {{ background: #1b232c; color: #c7d2dc; font-size: 20px; font-weight: 700;
                                 padding: 6px 10px; border: none; border-bottom: 2px solid #2b3540; }}
#history::item {{ padding: 6px 10px; }}

#overlay {{ background: rgba(8, 10, 14, 0.88); }}
#overlayTitle {{ font-size: 64px; font-weight: 800; color: {RED}; }}
#overlaySub {{ font-size: 30px; color: #eef2f5; }}
"""


def set_prop(widget: QWidget, name: str, value: str, *, deep: bool = False) -> None:
    """Set a dynamic property the style sheet selects on, re-polishing only when it changes (and the
    children too when `deep`: for rules like `#timer[status="red"] QProgressBar::chunk`)."""
    if widget.property(name) == value:
        return
    widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    for child in widget.findChildren(QWidget) if deep else ():
        style.unpolish(child)
        style.polish(child)
    widget.update()
