"""The crew's steps as typed requests of the wire contract (`edge.wire.api.incidents`)."""

from __future__ import annotations

from typing import Any

import msgspec

from edge.wire.api import incidents as api
from edge.wire.api.base import Method, Params
from edge.wire.api.incidents import Incident, IncidentClose, IncidentDispatch, IncidentRaise, IncidentRef

__all__ = ["METHODS", "raise_request", "step_request"]

METHODS: dict[str, Method[Any, Incident]] = {
    "ack": api.INCIDENTS_ACK,
    "dispatch": api.INCIDENTS_DISPATCH,
    "arrive": api.INCIDENTS_ARRIVE,
    "close": api.INCIDENTS_CLOSE,
}


def step_request(action: str, iid: str, arg: str = "", by: str = "") -> tuple[Method[Any, Incident], Params]:
    """The method and params of a step on an incident; ValueError when they do not fit the contract.

    `by` is the console's crew member: the daemon signs with the connection's logged-in member, and
    refuses a `by` that is not that member."""
    method = METHODS[action]
    raw: dict[str, Any] = {"id": iid, "by": by}
    kind: type[Params] = IncidentRef
    if action == "dispatch":
        raw["unit"], kind = arg, IncidentDispatch
    elif action == "close":
        raw["outcome"], kind = arg, IncidentClose
    try:
        return method, msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None


def raise_request(params: dict[str, Any]) -> IncidentRaise:
    """The manual alarm form's params as the contract's `IncidentRaise`; ValueError when they do not fit."""
    try:
        return msgspec.convert(params, IncidentRaise)
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None
