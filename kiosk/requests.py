"""What the kiosk asks for and what it gets back: requests, results, ticket numbers.

A request carries a `request_id` made at the kiosk, so central can answer it exactly once whether it
arrives live (a request to the hub) or later (a durable `kiosk.request` event queued while the link was
down). A report's ticket number is derived from the station id and the event's sequence number, so a
resident gets it at once, offline too, and central derives the same number from the stored event.
"""

from __future__ import annotations

import secrets
from typing import Literal

import msgspec

from kiosk.catalogue import ServiceKind, Text

__all__ = [
    "KioskRequest",
    "KioskResult",
    "LookupItem",
    "ResultStatus",
    "new_request_id",
    "ticket_for",
]

ResultStatus = Literal["submitted", "queued", "booked", "found", "issued", "called", "raised", "failed", "checked_in"]


def ticket_for(station: str, seq: int) -> str:
    """The ticket number of the event `seq` of `station`: `SZ-FT-0042-000123`."""
    return f"{station}-{seq:06d}"


def new_request_id() -> str:
    return secrets.token_hex(12)


class KioskRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A resident's request as the touchscreen sends it to the daemon (`kiosk.submit`)."""

    request_id: str
    service: str
    fields: dict[str, str] = msgspec.field(default_factory=dict)
    lang: str = "zh"
    from_card: bool = False  # identity fields came from a card tap


class LookupItem(msgspec.Struct, frozen=True, kw_only=True):
    """One traffic violation of a lookup answer."""

    date: str
    place: str
    what: Text
    points: int = 0
    fine: int = 0  # yuan
    handled: bool = False


class KioskResult(msgspec.Struct, frozen=True, kw_only=True):
    """The daemon's answer to the touchscreen; `receipt_id` prints it (`kiosk.print`)."""

    request_id: str
    service: str
    kind: ServiceKind
    status: ResultStatus
    message: Text
    ticket: str = ""
    slot: str = ""  # appointments: "2026-05-07 09:30"
    items: tuple[LookupItem, ...] = ()
    receipt_id: str = ""
    queued: bool = False  # accepted locally, sent to central when the link returns
