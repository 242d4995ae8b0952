""" "Check my report": what a resident types, and what the public state of a report says in plain words.

The resident types the reference printed on the receipt: at the station that took the report the last
digits are enough, elsewhere the whole reference (`SZ-FT-0042-000123`; spaces stand for the dashes the
on-screen keyboard does not have; a QR scanner types the receipt's `PK:` code). `normalize_ticket`
turns that into what `orders.status` takes; `progress_text` turns its answer (state, triage, outcome:
no personal data) into a headline and a sentence in both languages.
"""

from __future__ import annotations

import re
from typing import Any

from kiosk.catalogue import Text

__all__ = ["normalize_ticket", "progress_text"]

_NUMBER = re.compile(r"^\d{1,12}$")
_TICKET = re.compile(r"^[A-Za-z0-9_-]{1,64}-\d{6,}$")

_HEADLINES = {
    "new": Text("已受理", "Received"),
    "triaged": Text("已受理，正在安排", "Received, being arranged"),
    "assigned": Text("已安排民警", "An officer is assigned"),
    "in_progress": Text("正在处理", "Being handled"),
    "resolved": Text("已办结", "Resolved"),
    "referred": Text("已转交办理", "Passed on"),
}
_DETAILS = {
    "new": Text("您的报案已登记，民警会尽快查看。", "Your report is registered; an officer will look at it soon."),
    "assigned": Text("已有民警负责您的报案。", "An officer is now in charge of your report."),
    "in_progress": Text("民警正在处理您的报案。", "An officer is working on your report."),
    "resolved": Text("您的报案已处理完毕。", "Your report has been dealt with."),
    "referred": Text("您的报案已转交相关部门办理。", "Your report has been passed on to the office that handles it."),
}
_TRIAGES = {
    "on_spot": Text("民警将到现场调解处理。", "An officer will settle it on the spot."),
    "follow_up": Text("民警将跟进处理，请保持电话畅通。", "An officer will follow it up; please keep your phone on."),
    "to_station": Text("民警将通知有关人员到警务站处理。", "The parties will be asked to come to the police station."),
}


def normalize_ticket(raw: str) -> str | None:
    """The reference as `orders.status` takes it, or None when it cannot be one."""
    text = raw.strip()
    if text.upper().startswith("PK:"):
        text = text[3:]
    text = re.sub(r"[\s－—]+", "-", text.strip()).strip("-")
    if _NUMBER.match(text) or _TICKET.match(text):
        return text
    return None


def progress_text(status: dict[str, Any]) -> tuple[Text, Text]:
    """A headline and a sentence for `orders.status`'s answer; the outcome is added when it is closed."""
    state = str(status.get("state", ""))
    headline = _HEADLINES.get(state, Text("已受理", "Received"))
    if state == "triaged":
        detail = _TRIAGES.get(str(status.get("triage", "")), _DETAILS["new"])
    else:
        detail = _DETAILS.get(state, _DETAILS["new"])
    outcome = str(status.get("outcome") or "").strip()
    if outcome and state in ("resolved", "referred"):
        detail = Text(f"{detail.zh}处理结果：{outcome}", f"{detail.en} Outcome: {outcome}")
    return headline, detail
