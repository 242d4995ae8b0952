"""Ademco Contact ID: the 16-digit message, its DC-09 ``ADM-CID`` form, and the panic family.

Sixteen-digit form (DTMF over a phone line, and some IP gateways)::

    ACCT(4) MT(2) Q(1) XYZ(3) GG(2) CCC(3) S(1)      e.g. 1234 18 1 120 01 001 0

* ``ACCT`` account (digits, B-F allowed); ``MT`` message type, 18 (or the older 98);
* ``Q`` event qualifier: 1 new event / opening, 3 restore / closing, 6 previously reported, still
  present (status);
* ``XYZ`` event code (120 panic, 602 periodic test ...); ``GG`` group or partition; ``CCC`` zone or
  user number;
* ``S`` checksum: every digit counts at face value except 0, which counts as 10 (hex B-F count 11-15);
  the sum including S must be a multiple of 15, S = F where the remainder would be 0.

In SIA DC-09 the ``ADM-CID`` data block carries the same fields without MT and checksum:
``#ACCT|QXYZ GG CCC`` (e.g. ``#1002|1602 00 001``: new event 602 periodic test, group 00, zone 001);
the ``#ACCT|`` part is optional.

Panic family: 120 panic, 121 duress, 122 silent panic, 123 audible panic, 124 duress - access
granted, 125 duress - egress granted. :func:`is_panic` tells them apart from everything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum

__all__ = [
    "EVENT_NAMES",
    "PANIC_CODES",
    "ContactIdError",
    "ContactIdEvent",
    "EventQualifier",
    "PanicKind",
    "build_adm_cid_data",
    "build_contact_id",
    "checksum_digit",
    "is_panic",
    "panic_kind",
    "parse_adm_cid_data",
    "parse_contact_id",
]


class ContactIdError(ValueError):
    """A Contact ID message or ADM-CID data block that does not parse, or a bad checksum."""


class EventQualifier(IntEnum):
    NEW = 1  # new event or opening
    RESTORE = 3  # restore or closing
    STATUS = 6  # previously reported condition still present


class PanicKind(StrEnum):
    """The alarm families the station treats as a call for help (shared with :mod:`drivers.dc09.sia_dcs`)."""

    PANIC = "panic"
    DURESS = "duress"
    HOLDUP = "holdup"


PANIC_CODES: dict[int, str] = {
    120: "panic",
    121: "duress",
    122: "silent panic",
    123: "audible panic",
    124: "duress - access granted",
    125: "duress - egress granted",
}
_PANIC_KIND = {
    120: PanicKind.PANIC,
    121: PanicKind.DURESS,
    122: PanicKind.PANIC,
    123: PanicKind.PANIC,
    124: PanicKind.DURESS,
    125: PanicKind.DURESS,
}
# A short table for display; the panic family above is what the station acts on.
EVENT_NAMES: dict[int, str] = {
    **PANIC_CODES,
    100: "medical",
    110: "fire",
    130: "burglary",
    131: "perimeter burglary",
    132: "interior burglary",
    137: "tamper",
    150: "24-hour non-burglary",
    301: "AC power loss",
    302: "low battery",
    305: "system reset",
    344: "RF jamming",
    350: "communication trouble",
    380: "sensor trouble",
    383: "sensor tamper",
    401: "open/close by user",
    406: "cancel",
    407: "remote arm/disarm",
    570: "zone bypass",
    602: "periodic test",
    623: "event log 90% full",
    627: "program mode entry",
}

_DIGIT_VALUE = {**{str(d): d for d in range(1, 10)}, "0": 10, "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15}
_VALUE_DIGIT = {v: k for k, v in _DIGIT_VALUE.items() if k != "A"}
_MESSAGE_RE = re.compile(
    r"(?P<acct>[0-9B-F]{4})(?P<mt>18|98)(?P<q>[0-9])(?P<code>\d{3})(?P<group>\d{2})(?P<zone>\d{3})(?P<s>[0-9B-F])",
    re.ASCII,  # `\d` is 0-9 only: a Unicode digit such as '𝟙' is refused with our error, never a KeyError
)
_ADM_RE = re.compile(
    r"(?:#(?P<acct>[0-9A-Fa-f]{3,16})\|)?(?P<q>[0-9])(?P<code>\d{3}) (?P<group>\d{2}) (?P<zone>\d{3})",
    re.ASCII,
)


def is_panic(code: int) -> bool:
    """True for the Contact ID panic family (120-125)."""
    return code in PANIC_CODES


def panic_kind(code: int) -> PanicKind | None:
    return _PANIC_KIND.get(code)


@dataclass(frozen=True, slots=True)
class ContactIdEvent:
    """One Contact ID event, from either form."""

    account: str | None  # None when an ADM-CID block has no "#acct|"
    qualifier: EventQualifier
    code: int  # 0-999
    group: int  # 0-99 (partition)
    zone: int  # 0-999 (zone or user)
    message_type: str | None = None  # "18"/"98" in the 16-digit form, None in ADM-CID

    @property
    def is_new(self) -> bool:
        return self.qualifier is EventQualifier.NEW

    @property
    def is_restore(self) -> bool:
        return self.qualifier is EventQualifier.RESTORE

    @property
    def is_panic(self) -> bool:
        return is_panic(self.code)

    @property
    def panic(self) -> PanicKind | None:
        """The panic family of the code (restores too: check :attr:`is_restore`)."""
        return panic_kind(self.code)

    @property
    def description(self) -> str:
        return EVENT_NAMES.get(self.code, f"event {self.code:03d}")


def checksum_digit(digits: str) -> str:
    """The checksum character S for the 15 characters before it."""
    try:
        total = sum(_DIGIT_VALUE[ch] for ch in digits.upper())
    except KeyError as exc:
        raise ContactIdError(f"not a Contact ID digit: {exc.args[0]!r}") from None
    return _VALUE_DIGIT[15 - total % 15]


def _qualifier(text: str) -> EventQualifier:
    try:
        return EventQualifier(int(text))
    except ValueError:
        raise ContactIdError(f"event qualifier {text} is not 1, 3 or 6") from None


def parse_contact_id(message: str) -> ContactIdEvent:
    """Parse the 16-digit form (spaces allowed, e.g. ``1234 18 1 120 01 001 0``) and check S."""
    compact = message.replace(" ", "").upper()
    m = _MESSAGE_RE.fullmatch(compact)
    if m is None:
        raise ContactIdError("not ACCT(4) MT(18|98) Q XYZ GG CCC S")
    if sum(_DIGIT_VALUE[ch] for ch in compact) % 15:
        raise ContactIdError("Contact ID checksum does not add up to a multiple of 15")
    return ContactIdEvent(
        account=m["acct"],
        qualifier=_qualifier(m["q"]),
        code=int(m["code"]),
        group=int(m["group"]),
        zone=int(m["zone"]),
        message_type=m["mt"],
    )


def _fields(qualifier: EventQualifier | int, code: int, group: int, zone: int) -> tuple[str, str, str]:
    q = _qualifier(str(int(qualifier)))
    if not (0 <= code <= 999 and 0 <= group <= 99 and 0 <= zone <= 999):
        raise ContactIdError("code, group and zone must fit 3, 2 and 3 digits")
    return f"{int(q)}{code:03d}", f"{group:02d}", f"{zone:03d}"


def build_contact_id(
    *,
    account: str,
    qualifier: EventQualifier | int,
    code: int,
    group: int = 0,
    zone: int = 0,
    message_type: str = "18",
) -> str:
    """Build the 16-digit form with its checksum, e.g. ``1234181120010010``."""
    if not re.fullmatch(r"[0-9B-F]{4}", account.upper()) or message_type not in ("18", "98"):
        raise ContactIdError("account must be 4 digits (0-9, B-F) and message type 18 or 98")
    qxyz, gg, ccc = _fields(qualifier, code, group, zone)
    body = f"{account.upper()}{message_type}{qxyz}{gg}{ccc}"
    return body + checksum_digit(body)


def parse_adm_cid_data(data: str) -> ContactIdEvent:
    """Parse the DC-09 ``ADM-CID`` data block, e.g. ``#1002|1602 00 001`` or ``1602 00 001``."""
    m = _ADM_RE.fullmatch(data.strip())
    if m is None:
        raise ContactIdError("ADM-CID data is not [#acct|]QXYZ GG CCC")
    return ContactIdEvent(
        account=m["acct"],
        qualifier=_qualifier(m["q"]),
        code=int(m["code"]),
        group=int(m["group"]),
        zone=int(m["zone"]),
    )


def build_adm_cid_data(
    *, account: str | None, qualifier: EventQualifier | int, code: int, group: int = 0, zone: int = 0
) -> str:
    """Build an ``ADM-CID`` data block, e.g. ``#1002|1602 00 001``."""
    if account is not None and not re.fullmatch(r"[0-9A-Fa-f]{3,16}", account):
        raise ContactIdError("account must be 3-16 hex characters")
    qxyz, gg, ccc = _fields(qualifier, code, group, zone)
    return (f"#{account}|" if account is not None else "") + f"{qxyz} {gg} {ccc}"
