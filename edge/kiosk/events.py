"""Event payloads of the kiosk (`kiosk.*`), registered with `edge.wire.payloads` when the kiosk loads.

`patrol.checkin` (edge.wire.patrol.PatrolCheckIn) is a patrol member's check-in: a hash, a display name, no ID number.
`kiosk.report` and `kiosk.request` carry what the resident entered (central needs it to act); they go
to central through the outbox and are never logged or put in telemetry.
"""

from __future__ import annotations

import msgspec

from edge.wire import payloads
from edge.wire.patrol import PatrolCheckIn

__all__ = ["CallOfficer", "Emergency", "Report", "Request", "TicketIssued"]


class Report(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A resident's report (dispute, hazard). Its ticket is `{station}-{seq:06d}`."""

    request_id: str
    service: str
    category: str = ""
    fields: dict[str, str] = msgspec.field(default_factory=dict)
    lang: str = "zh"
    from_card: bool = False


class Request(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A request central must answer (appointment, lookup), queued because central could not answer live.
    Central answers it once by `request_id`, whether it came live or queued."""

    request_id: str
    service: str
    kind: str  # appointment | lookup | ticket
    category: str = ""
    fields: dict[str, str] = msgspec.field(default_factory=dict)
    lang: str = "zh"
    from_card: bool = False


class TicketIssued(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A queue ticket handed out by the station itself (central unreachable)."""

    request_id: str
    queue: str
    number: str
    local: bool = True


class CallOfficer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A resident pressed "call the officer on duty". `incident` is set when the alarm engine took it (an
    `officer_call` incident); `location` is where the kiosk stands (`[kiosk] location`)."""

    request_id: str
    service: str = "call_officer"
    incident: str = ""
    location: str = ""
    location_en: str = ""


class Emergency(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A resident raised an emergency at the kiosk. `incident` is set when the alarm engine took it."""

    request_id: str
    service: str = "emergency"
    incident: str = ""


payloads.register("kiosk.report", Report)
payloads.register("kiosk.request", Request)
payloads.register("kiosk.ticket", TicketIssued)
payloads.register("kiosk.call_officer", CallOfficer)
payloads.register("kiosk.emergency", Emergency)
payloads.register("patrol.checkin", PatrolCheckIn)
