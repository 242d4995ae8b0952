"""The kiosk component's methods: the resident services the touchscreen calls.

A request is a `kiosk.requests.KioskRequest` on the wire (`request_id` may be left out: the daemon
makes one); the answer a `kiosk.requests.KioskResult`. Form errors come back as -32602 with
`data.fields`, each with a code and messages in both languages.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from edge.wire.api.base import KIOSK, Empty, Method, Params, Short
from edge.wire.bulletin import Bulletin
from kiosk.notices import Notice
from kiosk.requests import KioskResult

__all__ = [
    "KIOSK_BOOK",
    "KIOSK_BULLETIN",
    "KIOSK_CALL_OFFICER",
    "KIOSK_CATALOGUE",
    "KIOSK_EMERGENCY",
    "KIOSK_LOOKUP",
    "KIOSK_NOTICES",
    "KIOSK_PENDING",
    "KIOSK_PRINT",
    "KIOSK_SESSION_END",
    "KIOSK_SUBMIT",
    "KIOSK_TICKET",
    "CurrentBulletin",
    "KioskCatalogue",
    "KioskSettings",
    "KioskSubmit",
    "Notices",
    "OfficerCalled",
    "Pending",
    "PendingRequest",
    "PrintReceipt",
    "Printed",
]


class KioskSubmit(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A resident's request (the JSON of `kiosk.requests.KioskRequest`, bounded)."""

    service: Short
    request_id: Short = ""
    fields: Annotated[
        dict[Annotated[str, msgspec.Meta(max_length=64)], Annotated[str, msgspec.Meta(max_length=2000)]],
        msgspec.Meta(max_length=64),
    ] = msgspec.field(default_factory=dict)
    lang: Literal["zh", "en"] = "zh"
    from_card: bool = False


class KioskSettings(msgspec.Struct, frozen=True, kw_only=True):
    idle_timeout: float
    idle_warning: float
    station: str
    station_name: str
    printer: bool
    id_reader: bool


class KioskCatalogue(msgspec.Struct, frozen=True, kw_only=True):
    catalogue: dict[str, Any]  # `kiosk.catalogue.catalogue_from_data` reads it
    settings: KioskSettings
    devices: dict[str, str]


class PrintReceipt(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    receipt_id: Short
    lang: Literal["zh", "en"] = "zh"


class Printed(msgspec.Struct, frozen=True, kw_only=True):
    printed: bool
    replaced: list[str]


class Notices(msgspec.Struct, frozen=True, kw_only=True):
    notices: list[Notice]


class CurrentBulletin(msgspec.Struct, frozen=True, kw_only=True):
    bulletin: Bulletin | None  # None: central has sent none yet


class PendingRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A request queued at the station until central answers it."""

    seq: int
    request_id: str
    service: str
    kind: str
    queued_at: str


class Pending(msgspec.Struct, frozen=True, kw_only=True):
    pending: list[PendingRequest]
    resolved: list[KioskResult]


class OfficerCalled(msgspec.Struct, frozen=True, kw_only=True):
    """The `kiosk.officer_called` notification (crew): a resident called the officer on duty.

    `incident` names the alarm engine's `officer_call` incident when it took the call (the console then
    shows that incident); empty when the station runs no alarm engine, and the console announces the
    call itself until the crew notes it. Lenient: a console older than the daemon ignores new fields."""

    seq: int  # the `kiosk.call_officer` event's sequence number at this station
    station: str
    station_name: str = ""
    location: str = ""
    location_en: str = ""
    incident: str = ""
    at: float = 0.0  # epoch seconds


def _submit(name: str, what: str) -> Method[KioskSubmit, KioskResult]:
    return Method(name, KioskSubmit, KioskResult, KIOSK, what)


KIOSK_CATALOGUE: Method[Empty, KioskCatalogue] = Method(
    "kiosk.catalogue", Empty, KioskCatalogue, KIOSK, "The services, settings and devices."
)
KIOSK_SUBMIT = _submit("kiosk.submit", "Any service that takes a request.")
KIOSK_BOOK = _submit("kiosk.book", "An appointment service only.")
KIOSK_LOOKUP = _submit("kiosk.lookup", "A lookup service only.")
KIOSK_TICKET = _submit("kiosk.ticket", "A queue-ticket service only.")
KIOSK_CALL_OFFICER = _submit("kiosk.call_officer", "Call the officer on duty.")
KIOSK_EMERGENCY = _submit("kiosk.emergency", "The emergency button.")
KIOSK_PRINT: Method[PrintReceipt, Printed] = Method(
    "kiosk.print", PrintReceipt, Printed, KIOSK, "Print a receipt of this session."
)
KIOSK_NOTICES: Method[Empty, Notices] = Method("kiosk.notices", Empty, Notices, KIOSK, "The notices to show.")
KIOSK_PENDING: Method[Empty, Pending] = Method(
    "kiosk.pending", Empty, Pending, KIOSK, "Queued requests and answers that came in."
)
KIOSK_SESSION_END: Method[Empty, Empty] = Method(
    "kiosk.session.end", Empty, Empty, KIOSK, "Forget the session's receipts."
)
KIOSK_BULLETIN: Method[Empty, CurrentBulletin] = Method(
    "kiosk.bulletin", Empty, CurrentBulletin, KIOSK, "The latest weekly bulletin central sent (or none)."
)
