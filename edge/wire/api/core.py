"""The daemon core's methods: events, status, notifications, central, and the crew's login."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from edge.wire.api.base import ADMIN_ONLY, ANY_ROLE, CREW, Empty, Method, Params, Short
from edge.wire.messages import HostHealth, LinkHealth, OutboxHealth

__all__ = [
    "CREW_LOGIN",
    "CREW_LOGOUT",
    "EVENTS_SUBMIT",
    "HUB_CALL",
    "MAX_TOPICS",
    "NOTIFY_SUBSCRIBE",
    "RPC_METHODS",
    "STATUS_GET",
    "CrewLogin",
    "CrewMember",
    "EventSubmit",
    "FaultInfo",
    "HubCall",
    "Status",
    "Submitted",
    "Subscribe",
    "Subscribed",
]

#: Subscriptions a connection may hold; a topic is a dotted name, optionally ending in `.*` (or `*`).
MAX_TOPICS = 32
TOPIC_PATTERN = r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$"


class EventSubmit(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    type: Annotated[str, msgspec.Meta(max_length=64)]
    priority: str | int = "info"
    data: dict[str, Any] = msgspec.field(default_factory=dict)


class Submitted(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    seq: int


class FaultInfo(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    message: str
    since: float
    severity: str


class Status(msgspec.Struct, frozen=True, kw_only=True):
    station: str
    name: str
    started_at: str
    next_seq: int
    outbox: OutboxHealth
    link: LinkHealth
    faults: list[FaultInfo]
    devices: dict[str, str]
    host: HostHealth
    uplink_url: str | None = None


class Subscribe(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    topics: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=64, pattern=TOPIC_PATTERN)]],
        msgspec.Meta(max_length=MAX_TOPICS),
    ]


class Subscribed(msgspec.Struct, frozen=True, kw_only=True):
    topics: list[str]


class HubCall(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    method: Short
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    timeout: Annotated[float, msgspec.Meta(gt=0, le=60)] = 5.0


class CrewLogin(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    badge: Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class CrewMember(msgspec.Struct, frozen=True, kw_only=True):
    """The crew member a connection is logged in as: the `by` of every incident change it makes."""

    badge: str
    name: str


EVENTS_SUBMIT: Method[EventSubmit, Submitted] = Method(
    "events.submit", EventSubmit, Submitted, ADMIN_ONLY, "Submit one durable event (the type's data schema is checked)."
)
STATUS_GET: Method[Empty, Status] = Method(
    "status.get", Empty, Status, CREW, "The station's health: outbox, link, faults, devices."
)
NOTIFY_SUBSCRIBE: Method[Subscribe, Subscribed] = Method(
    "notify.subscribe",
    Subscribe,
    Subscribed,
    ANY_ROLE,
    f"Receive notifications of these topics (at most {MAX_TOPICS}; `x.*` for a prefix).",
)
RPC_METHODS: Method[Empty, list[str]] = Method(
    "rpc.methods", Empty, list[str], ANY_ROLE, "The methods this connection may call."
)
HUB_CALL: Method[HubCall, Any] = Method(
    "hub.call", HubCall, Any, ADMIN_ONLY, "Ask central (-32010 when it cannot answer now)."
)
CREW_LOGIN: Method[CrewLogin, CrewMember] = Method(
    "crew.login",
    CrewLogin,
    CrewMember,
    CREW,
    "Log this connection in as a crew member (the badge must be on the station's roster).",
)
CREW_LOGOUT: Method[Empty, Empty] = Method(
    "crew.logout", Empty, Empty, CREW, "Log the crew member out of this connection."
)
