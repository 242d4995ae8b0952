"""Who is on the other end of a local API connection: peer credentials, role, logged-in crew member.

The role comes from the connection's peer credentials (SO_PEERCRED, set by the kernel at connect time,
so a client cannot claim another one's), mapped by the `[api]` section (`edge.config.api`). A crew
connection then logs a member in with `crew.login`; the member, not a name in the params, signs the
incident changes the connection makes.
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from edge.wire.api.base import Role
from edge.wire.api.core import CrewMember
from edge.wire.errors import FORBIDDEN, ApiError

__all__ = ["PeerCred", "RoleMap", "peer_credentials"]


@dataclass(frozen=True, slots=True)
class PeerCred:
    pid: int
    uid: int
    gid: int


def peer_credentials(sock: socket.socket | None) -> PeerCred | None:
    """The kernel's record of who connected (None when the transport has no Unix socket)."""
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return PeerCred(pid=pid, uid=uid, gid=gid)


class RoleMap:
    """Peer credentials to a role, and the crew roster `crew.login` checks badges against."""

    def __init__(
        self,
        *,
        kiosk_users: Iterable[int] = (),
        crew_users: Iterable[int] = (),
        crew_groups: Iterable[int] = (),
        admin_users: Iterable[int] = (),
        roster: Mapping[str, str] | None = None,
        own_uid: int | None = None,
    ) -> None:
        self.kiosk_users = frozenset(kiosk_users)
        self.crew_users = frozenset(crew_users)
        self.crew_groups = frozenset(crew_groups)
        self.admin_users = frozenset(admin_users) | {0, os.getuid() if own_uid is None else own_uid}
        self.roster = dict(roster or {})

    def role_of(self, peer: PeerCred | None) -> Role | None:
        """The connection's role; None: this user has no business on the API (the connection is refused)."""
        if peer is None:
            return None
        if peer.uid in self.kiosk_users:
            return Role.KIOSK
        if peer.uid in self.crew_users or peer.gid in self.crew_groups:
            return Role.CREW
        if peer.uid in self.admin_users:
            return Role.ADMIN
        return None

    def login(self, badge: str) -> CrewMember:
        """The crew member with this badge; refused when the station has a roster and the badge is not on it."""
        if not self.roster:
            return CrewMember(badge=badge, name=badge)
        name = self.roster.get(badge)
        if name is None:
            raise ApiError(FORBIDDEN, f"badge {badge} is not on this station's crew roster")
        return CrewMember(badge=badge, name=name)
