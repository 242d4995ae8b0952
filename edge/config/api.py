"""The `[api]` section: who may use the local API socket, in which role, and its limits.

A connection's role comes from its peer credentials (SO_PEERCRED), checked in this order: a uid in
`kiosk_users` is the kiosk; a uid in `crew_users` or a primary gid in `crew_groups` is the crew console;
root, the daemon's own uid and `admin_users` are admin tools. Anyone else is refused. The socket stays
mode 0660 (group police-kiosk), so the mapping narrows what the group already may reach.
"""

from __future__ import annotations

import grp
import pwd
import re

from pydantic import Field, field_validator

from edge.config.base import Strict

__all__ = ["ApiSection"]

_BADGE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def _uid(v: int | str) -> int:
    if isinstance(v, int):
        return v
    try:
        return pwd.getpwnam(v).pw_uid
    except KeyError:
        raise ValueError(f"no such user {v!r}") from None


def _gid(v: int | str) -> int:
    if isinstance(v, int):
        return v
    try:
        return grp.getgrnam(v).gr_gid
    except KeyError:
        raise ValueError(f"no such group {v!r}") from None


class ApiSection(Strict):
    kiosk_users: list[int] = Field(default=[], description="Users (uid or name) of the resident touchscreen.")
    crew_users: list[int] = Field(default=[], description="Users (uid or name) of the crew console.")
    crew_groups: list[int] = Field(default=[], description="Primary groups (gid or name) of crew consoles.")
    admin_users: list[int] = Field(default=[], description="Admin users besides root and the daemon's own.")
    crew: dict[str, str] = Field(
        default={}, description="The crew roster for `crew.login`: badge = name. Empty: any badge logs in as itself."
    )
    max_connections: int = Field(default=64, ge=1, le=4096, description="Connections at once.")
    max_in_flight: int = Field(
        default=256, ge=1, le=4096, description="Requests one connection may have running (a batch counts each)."
    )

    @field_validator("kiosk_users", "crew_users", "admin_users", mode="before")
    @classmethod
    def _users(cls, v: object) -> object:
        return (
            [_uid(x) if isinstance(x, int | str) and not isinstance(x, bool) else x for x in v]
            if isinstance(v, list)
            else v
        )

    @field_validator("crew_groups", mode="before")
    @classmethod
    def _groups(cls, v: object) -> object:
        return (
            [_gid(x) if isinstance(x, int | str) and not isinstance(x, bool) else x for x in v]
            if isinstance(v, list)
            else v
        )

    @field_validator("crew")
    @classmethod
    def _roster(cls, v: dict[str, str]) -> dict[str, str]:
        for badge, name in v.items():
            if not _BADGE_RE.match(badge):
                raise ValueError(f"badge {badge!r} must be 1-32 letters, digits, '_' or '-'")
            if not name.strip() or len(name) > 64:
                raise ValueError(f"the name of badge {badge} must be 1-64 characters")
        return v
