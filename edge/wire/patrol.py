"""Patrol check-in (巡逻打卡): the roster central pushes to stations and the check-in event stations send.

Central registers patrol members (officers and volunteers) and pushes the roster to every station as
the signed command `patrol.roster` (retained, so a station that was off gets the latest when it comes
back). A station never receives an ID number: each member is
``id_hash = HMAC-SHA256(salt, normalized ID number)`` in hex, and, when central issued one, the
hash of the member's check-in code the same way (``code_hash``, over ``"code:" + code``). The salt
travels in the roster so that a station can match a card it reads, offline. `docs/security.md`
("Patrol roster") says what that protects and what it does not.

A check-in is the durable event `patrol.checkin` (`PatrolCheckIn`): the member's hash, the display name
the member chose, the role, how they checked in, the station, the time. No ID number, no real name.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from typing import Annotated, Literal

import msgspec

__all__ = [
    "ROSTER_COMMAND",
    "CheckInMethod",
    "PatrolCheckIn",
    "PatrolRole",
    "Roster",
    "RosterMember",
    "code_hash",
    "id_hash",
    "normalize_code",
    "normalize_id",
]

ROSTER_COMMAND = "patrol.roster"
PatrolRole = Literal["officer", "volunteer"]
CheckInMethod = Literal["card", "code"]

_HEX64 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$|^[0-9A-Z]{6,20}$")
_CODE_RE = re.compile(r"^[0-9]{6,12}$")


def normalize_id(raw: str) -> str:
    """An ID number as the hash takes it: full-width folded, spaces dropped, ``x`` upper-cased.
    Raises ValueError (without the value) if it is not an ID number's shape."""
    value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw)).upper()
    if not _ID_RE.match(value):
        raise ValueError("not an ID number")
    return value


def normalize_code(raw: str) -> str:
    value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw))
    if not _CODE_RE.match(value):
        raise ValueError("a check-in code is 6 to 12 digits")
    return value


def _hmac(salt: str, text: str) -> str:
    return hmac.new(bytes.fromhex(salt), text.encode("ascii"), hashlib.sha256).hexdigest()


def id_hash(salt: str, id_number: str) -> str:
    """HMAC-SHA256(salt, normalized ID number), hex. `salt` is hex (the roster's)."""
    return _hmac(salt, normalize_id(id_number))


def code_hash(salt: str, code: str) -> str:
    return _hmac(salt, "code:" + normalize_code(code))


class RosterMember(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id_hash: _HEX64
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    role: PatrolRole
    code_hash: Annotated[str, msgspec.Meta(pattern="^([0-9a-f]{64})?$")] = ""


class Roster(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The args of `patrol.roster`: the whole roster (it replaces the one a station holds)."""

    version: Annotated[int, msgspec.Meta(ge=1)]  # grows with every change at central; older ones are ignored
    issued_at: str
    salt: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{32,128}$")]
    members: Annotated[tuple[RosterMember, ...], msgspec.Meta(max_length=2000)] = ()

    def by_id(self, hashed: str) -> RosterMember | None:
        return next((m for m in self.members if hmac.compare_digest(m.id_hash, hashed)), None)

    def by_code(self, hashed: str) -> RosterMember | None:
        return next((m for m in self.members if m.code_hash and hmac.compare_digest(m.code_hash, hashed)), None)


class PatrolCheckIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A patrol member checked in at a station's kiosk (event `patrol.checkin`)."""

    id_hash: _HEX64
    display_name: Annotated[str, msgspec.Meta(max_length=32)]
    role: PatrolRole
    method: CheckInMethod
    station: Annotated[str, msgspec.Meta(max_length=64)]
    point: Annotated[str, msgspec.Meta(max_length=64)] = ""  # the check-in point's name (the station's name)
    at: str  # ISO 8601 UTC, when the member checked in
    roster_version: int = 0
