"""Payload schemas of the alarm events a station sends (registered with `edge.wire.payloads` on import).

Incident transitions (priority ALARM): ``alarm.raised``, ``alarm.merged``, ``alarm.acknowledged``,
``alarm.dispatched``, ``alarm.on_scene``, ``alarm.closed``, ``alarm.restored``, ``alarm.escalated``.
Each carries the whole incident after the change (``incident``, with its full timeline), so central
can rebuild the incident from any one of them and needs no earlier event; ``(incident.id,
incident.rev)`` identifies the change (a station that crashed between its snapshot and its outbox
may send one change twice).

Links and frames: ``alarm.link_lost`` / ``alarm.link_restored`` (WARNING): a school panel went
silent past its link-test interval, or a Modbus module stopped answering; ``alarm.rejected_frame``
(INFO): DC-09 frames refused (NAK, DUH) since the last report, per account.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from edge.alarms.incidents import CHANGE_EVENT, Change, Incident
from edge.alarms.journal import PendingEvent
from edge.wire import payloads
from edge.wire.messages import Priority

__all__ = ["IncidentChanged", "LinkChanged", "RejectedFrames", "pending_event", "register_all"]


class IncidentChanged(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One incident transition. Version 1."""

    incident_id: str
    change: str  # raised | merged | acknowledged | dispatched | on_scene | closed | restored | escalated
    at: float  # unix epoch seconds of the change (station clock)
    by: str = ""  # officer name or badge, as given by the console
    detail: str = ""
    target: str | None = None  # escalated: respond | arrive | resolve
    incident: Incident


class LinkChanged(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A supervised link was lost or came back. Version 1."""

    source: Literal["dc09", "modbus"]
    account: str  # DC-09 account, or the Modbus module name
    site: str = ""
    site_en: str = ""
    state: Literal["ok", "lost"]
    silence_s: float = 0.0  # lost: silence so far; restored: how long it had been down
    reason: str = ""


class RejectedFrames(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """DC-09 frames from one account refused since the last report. Version 1."""

    account: str
    site: str = ""
    naks: int = 0  # timestamp outside the window (the panel's clock is wrong)
    duhs: int = 0  # not understood (unknown key, undecryptable, malformed)
    reasons: dict[str, int] = msgspec.field(default_factory=dict)
    clock_error_s: float | None = None  # last NAKed frame's timestamp minus the receiver's clock
    panic_refused: bool = False  # a panic or hold-up alarm was among the refused frames
    delivered_anyway: int = 0  # NAKed alarms delivered because the account has time_check = false


def register_all() -> None:
    for event_type in CHANGE_EVENT.values():
        payloads.register(event_type, IncidentChanged)
    payloads.register("alarm.link_lost", LinkChanged)
    payloads.register("alarm.link_restored", LinkChanged)
    payloads.register("alarm.rejected_frame", RejectedFrames)


register_all()


def pending_event(change: Change) -> PendingEvent:
    """The alarm event of one incident change, as the journal keeps it until the outbox has it."""
    incident = change.incident
    data = {
        "incident_id": incident.id,
        "change": change.change,
        "at": change.at,
        "by": change.by,
        "detail": change.detail,
        "target": change.target,
        "incident": msgspec.to_builtins(incident),
    }
    return PendingEvent(
        key=f"{incident.id}:{incident.rev}", type=change.event_type, priority=int(Priority.ALARM), data=data
    )
