"""The patrol check-in method of the kiosk (巡逻打卡).

`kiosk.patrol.checkin` checks a patrol member in: `method: card` takes the ID card now on the kiosk's
reader (the daemon keeps the last card read, for a minute, until it is removed or the session ends:
the touchscreen never sends an ID number back), `method: code` takes the check-in code the member
typed on the kiosk's digit pad. An unknown card or code is NOT_FOUND with `data.zh`/`data.en` to show,
and nothing about the person is kept. Too many wrong codes in a row: UNAVAILABLE for a while.
The answer is a `KioskResult` (kind `patrol`, status `checked_in`) with a receipt to print.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from edge.wire.api.base import KIOSK, Method, Params
from kiosk.requests import KioskResult

__all__ = ["KIOSK_PATROL_CHECKIN", "PatrolCheckInParams"]


class PatrolCheckInParams(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    method: Literal["card", "code"]
    code: Annotated[str, msgspec.Meta(max_length=16)] = ""
    service: Annotated[str, msgspec.Meta(max_length=64)] = "patrol_checkin"
    lang: Literal["zh", "en"] = "zh"


KIOSK_PATROL_CHECKIN: Method[PatrolCheckInParams, KioskResult] = Method(
    "kiosk.patrol.checkin", PatrolCheckInParams, KioskResult, KIOSK, "A patrol member checks in (card or code)."
)
