"""The `[api]` section: who may use the local API socket, in which role, and its limits.

A connection's role comes from its peer credentials (SO_PEERCRED), checked in this order: a uid in
`kiosk_users` is the kiosk; a uid in `crew_users` or a primary gid in `crew_groups` is the crew console;
root, the daemon's own uid and `admin_users` are admin tools. Anyone else is refused. The socket stays
mode 0660 (group police-kiosk), so the mapping narrows what the group already may reach. Names are
resolved on the station: `check-config` (without `--no-files`) and start-up report unknown ones.
"""

from __future__ import annotations

import grp
import pwd
import re
from typing import Annotated

from pydantic import Field, field_validator

from edge.config.base import Strict

__all__ = ["ApiSection"]

_BADGE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_NAME_RE = r"^[a-z_][a-z0-9_.-]{0,31}$"  # a POSIX user or group name


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


Account = Annotated[int, Field(ge=0)] | Annotated[str, Field(pattern=_NAME_RE)]


class ApiSection(Strict):
    kiosk_users: list[Account] = Field(default=[], description="Users (name or uid) of the resident touchscreen.")
    crew_users: list[Account] = Field(default=[], description="Users (name or uid) of the crew console.")
    crew_groups: list[Account] = Field(default=[], description="Primary groups (name or gid) of crew consoles.")
    admin_users: list[Account] = Field(default=[], description="Admin users besides root and the daemon's own.")
    crew: dict[str, str] = Field(
        default={}, description="The crew roster for `crew.login`: badge = name. Empty: any badge logs in as itself."
    )
    max_connections: int = Field(default=64, ge=1, le=4096, description="Connections at once.")
    max_in_flight: int = Field(
        default=2048, ge=1, le=8192, description="Requests one connection may have running (a batch counts each)."
    )

    def ids(self) -> dict[str, list[int]]:
        """Names resolved to uids and gids (on the station: `check-config` and start-up report unknown ones)."""
        return {
            "kiosk_users": [_uid(v) for v in self.kiosk_users],
            "crew_users": [_uid(v) for v in self.crew_users],
            "crew_groups": [_gid(v) for v in self.crew_groups],
            "admin_users": [_uid(v) for v in self.admin_users],
        }

    def account_problems(self, source: str) -> list[str]:
        problems = []
        for key in ("kiosk_users", "crew_users", "admin_users", "crew_groups"):
            resolve = _gid if key == "crew_groups" else _uid
            for i, v in enumerate(getattr(self, key)):
                try:
                    resolve(v)
                except ValueError as exc:
                    problems.append(f"{source}: api.{key}[{i}] = {v!r}: {exc}")
        return problems

    @field_validator("crew")
    @classmethod
    def _roster(cls, v: dict[str, str]) -> dict[str, str]:
        for badge, name in v.items():
            if not _BADGE_RE.match(badge):
                raise ValueError(f"badge {badge!r} must be 1-32 letters, digits, '_' or '-'")
            if not name.strip() or len(name) > 64:
                raise ValueError(f"the name of badge {badge} must be 1-64 characters")
        return v
