"""The weekly incident bulletin (每周警情通报) as central sends it to an area's kiosks.

Central builds one per station area (the stations' district) and ISO week (`hub/bulletin.py`), a person
at central may edit its tip and summary, and it travels as the args of the signed command
`kiosk.bulletin` (one per station of the area). The kiosk keeps the latest and shows it on its notices
tile. Version 1; later versions add fields with defaults, so the structs accept fields they do not know.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

import msgspec

__all__ = ["BULLETIN_COMMAND", "WEEK_RE", "Bulletin", "CategoryCount", "TargetShare"]

BULLETIN_COMMAND: Final = "kiosk.bulletin"
WEEK_RE: Final = re.compile(r"^(\d{4})-W(\d{2})$")

Week = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-W\d{2}$")]
Name = Annotated[str, msgspec.Meta(max_length=64)]
Line = Annotated[str, msgspec.Meta(max_length=200)]
Para = Annotated[str, msgspec.Meta(max_length=600)]
Count = Annotated[int, msgspec.Meta(ge=0)]


class CategoryCount(msgspec.Struct, frozen=True, kw_only=True):
    """Alarms of one kind, or reports of one category, this week and the week before."""

    kind: Annotated[str, msgspec.Meta(max_length=16)]  # alarm | report
    category: Name
    zh: Name
    en: Name
    this_week: Count
    last_week: Count

    @property
    def change(self) -> int:
        return self.this_week - self.last_week


class TargetShare(msgspec.Struct, frozen=True, kw_only=True):
    """How many of the week's incidents met one of the 1-3-5 minute targets."""

    name: Annotated[str, msgspec.Meta(max_length=16)]  # respond | arrive | resolve
    zh: Name
    en: Name
    met: Count
    counted: Count  # incidents whose outcome for this target is known (met, or missed)

    @property
    def percent(self) -> int | None:
        return None if self.counted == 0 else round(100 * self.met / self.counted)


class Bulletin(msgspec.Struct, frozen=True, kw_only=True):
    v: int = 1
    week: Week  # ISO week, "2026-W49"
    area: Name  # the stations' district, or a station id for a station with none
    stations: Annotated[list[Name], msgspec.Meta(max_length=200)]
    first_day: Annotated[str, msgspec.Meta(max_length=10)]  # Monday, local date "2026-11-30"
    last_day: Annotated[str, msgspec.Meta(max_length=10)]  # Sunday
    tz: Name = "Asia/Shanghai"
    categories: Annotated[list[CategoryCount], msgspec.Meta(max_length=64)] = msgspec.field(default_factory=list)
    incidents: Count = 0
    targets: Annotated[list[TargetShare], msgspec.Meta(max_length=8)] = msgspec.field(default_factory=list)
    summary_zh: Para = ""
    summary_en: Para = ""
    tip_zh: Line = ""
    tip_en: Line = ""
    generated_at: Annotated[str, msgspec.Meta(max_length=40)] = ""  # RFC 3339 UTC
    edited: bool = False  # a person at central changed the summary or the tip

    def order_key(self) -> tuple[str, str]:
        """Orders two bulletins for one kiosk: the later week, then the later (re)generation."""
        return self.week, self.generated_at
