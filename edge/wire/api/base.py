"""What a local API method is: its name, params and result types, and the roles that may call it.

A method is declared once, here in the wire contract, and used by both sides: the server decodes a
request's params into `method.params` (unknown fields, wrong types and bounds give -32602 naming the
field) before the handler runs, and the client encodes the same Struct and decodes the answer into
`method.result`. The JSON on the wire is what the Structs encode to: plain objects.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import msgspec

from edge.wire.errors import INVALID_PARAMS, ApiError

__all__ = [
    "ADMIN_ONLY",
    "ANY_ROLE",
    "CREW",
    "KIOSK",
    "Empty",
    "Method",
    "Params",
    "Role",
    "Short",
    "Text",
    "topic_allowed",
]


class Role(enum.StrEnum):
    """Who is on the other end of a connection (from its peer credentials, see `edge.config.api`)."""

    KIOSK = "kiosk"  # the resident touchscreen: resident services only, its own session's card data
    CREW = "crew"  # the crew console: incidents, sirens, cameras; changes signed by the logged-in member
    ADMIN = "admin"  # the daemon's own user and root: tools, simulators, everything


#: Role sets a method declares (admin is always among them: an admin tool can do what the screens can).
KIOSK = frozenset({Role.KIOSK, Role.ADMIN})
CREW = frozenset({Role.CREW, Role.ADMIN})
ADMIN_ONLY = frozenset({Role.ADMIN})
ANY_ROLE = frozenset(Role)

Short = Annotated[str, msgspec.Meta(max_length=64)]
Text = Annotated[str, msgspec.Meta(max_length=500)]


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Base of every params Struct: unknown fields are an error, defaults are left out on the wire."""


class Empty(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A method that takes no params (`{}` or none at all)."""


P = TypeVar("P", bound=Params)
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Method(Generic[P, R]):
    """One local API method as both sides know it."""

    name: str
    params: type[P]
    result: Any  # a type (a Struct, list[str], ...): what `msgspec.convert` turns the answer into
    roles: frozenset[Role]
    doc: str = ""

    def decode_params(self, raw: Any) -> P:
        """The request's params as `self.params`; ApiError -32602 naming the bad field otherwise."""
        if raw is not None and not isinstance(raw, dict):
            raise ApiError(INVALID_PARAMS, f"{self.name}: params must be an object")
        try:
            return msgspec.convert({} if raw is None else raw, self.params)
        except msgspec.ValidationError as exc:
            raise ApiError(INVALID_PARAMS, f"{self.name}: {exc}") from None

    def decode_result(self, raw: Any) -> R:
        out: R = msgspec.convert(raw, self.result)
        return out

    def allows(self, role: Role) -> bool:
        return role in self.roles


#: Notification topics and the roles that receive them. A subscription pattern (`kiosk.*`, `*`) never
#: widens this: a connection gets a notification only if its role may receive that topic.
TOPICS: dict[str, frozenset[Role]] = {
    "faults": ANY_ROLE,
    "events.accepted": CREW,
    "incidents": CREW,
    "alarm.links": CREW,
    "vision.hits": CREW,
    "vision.reads": CREW,
    "kiosk.officer_called": CREW,
    "orders.new": CREW,
    "orders.changed": CREW,
    "kiosk.notices": KIOSK,
    "kiosk.bulletin": KIOSK,
    "kiosk.result": KIOSK,
    "kiosk.card": KIOSK,
    "kiosk.card_removed": KIOSK,
    "kiosk.card_failed": KIOSK,
}


def topic_allowed(role: Role, topic: str) -> bool:
    """May a connection of `role` receive `topic`? Topics not in the contract go to admin tools only."""
    return role in TOPICS.get(topic, ADMIN_ONLY)
