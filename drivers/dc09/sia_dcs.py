"""SIA DCS data blocks, as carried in the ``[...]`` of a DC-09 ``SIA-DCS`` frame.

The data is split by ``|`` into elements::

    #AAA|Nri0/PA01            account, then a new-event block
    #1234|NRR|Atest           account, event block, ASCII text block
    #0123|Nti20:50:26RP99     time modifier directly followed by the event

* ``#acct`` (the leading ``#`` is sometimes missing) is the first element; it may be absent.
* An event block starts with ``N`` (new event). Inside it, ``/`` separates fields. A *modifier* is
  two lower-case letters and a value: ``ri`` area/partition, ``id`` user, ``pi`` peripheral,
  ``ti`` time (``hh:mm`` or ``hh:mm:ss``), ``da`` date; modifiers apply to every event after them in
  the block. An *event* is a two-letter upper-case code and an optional number (zone, user or
  point): ``PA01``, ``RP0000``, ``ZY0``, ``RR``; it may be followed by ``^text^``.
* ``A...`` is an ASCII text element.

Panic and hold-up codes are recognised for the station: PA panic alarm, PH/PR panic restore, HA
hold-up alarm, HH/HR hold-up restore (shared :class:`drivers.dc09.contact_id.PanicKind`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drivers.dc09.contact_id import PanicKind

__all__ = [
    "SIA_PANIC_CODES",
    "SiaDcsData",
    "SiaDcsError",
    "SiaEvent",
    "build_sia_dcs",
    "classify_sia_code",
    "parse_sia_dcs",
]


class SiaDcsError(ValueError):
    """SIA DCS data that does not parse."""


# code → (family, is_restore)
SIA_PANIC_CODES: dict[str, tuple[PanicKind, bool]] = {
    "PA": (PanicKind.PANIC, False),
    "PH": (PanicKind.PANIC, True),
    "PR": (PanicKind.PANIC, True),
    "HA": (PanicKind.HOLDUP, False),
    "HH": (PanicKind.HOLDUP, True),
    "HR": (PanicKind.HOLDUP, True),
}

_ACCOUNT_RE = re.compile(r"#?([0-9A-Fa-f]{3,16})")
_TOKEN_RE = re.compile(
    r"(?P<sep>/)"
    r"|(?P<mod>[a-z]{2})(?P<val>\d{2}:\d{2}(?::\d{2})?|\d{2}-\d{2}-\d{2,4}|\d*)"
    r"|(?P<code>[A-Z]{2})(?P<addr>\d*)(?:\^(?P<text>[^^]*)\^)?"
    r"|(?P<space> +)"
)
_MODIFIER_FIELDS = {"ri": "area", "id": "user", "ti": "time", "pi": "peripheral", "da": "date"}
_SAFE_RE = re.compile(r"[^|\[\]^\r\n]*")


def classify_sia_code(code: str) -> tuple[PanicKind, bool] | None:
    """``(family, is_restore)`` for the panic and hold-up codes, None for any other code."""
    return SIA_PANIC_CODES.get(code)


@dataclass(frozen=True, slots=True)
class SiaEvent:
    """One event code of a SIA DCS block with the modifiers in force for it."""

    code: str  # two upper-case letters, e.g. "PA"
    zone: str = ""  # the number after the code, as sent (e.g. "01"), "" when none
    area: str | None = None  # ri
    user: str | None = None  # id
    time: str | None = None  # ti, "hh:mm[:ss]"
    peripheral: str | None = None  # pi
    date: str | None = None  # da
    text: str | None = None  # ^text^ after the code
    new: bool = True  # the block started with N

    @property
    def panic(self) -> PanicKind | None:
        """PANIC for PA/PH/PR, HOLDUP for HA/HH/HR, else None (restores too: see is_restore)."""
        cls = classify_sia_code(self.code)
        return None if cls is None else cls[0]

    @property
    def is_restore(self) -> bool:
        """True for the panic and hold-up restore codes (PH, PR, HH, HR)."""
        cls = classify_sia_code(self.code)
        return cls is not None and cls[1]

    @property
    def is_panic_alarm(self) -> bool:
        """A panic or hold-up alarm (not its restore): what should raise an incident."""
        return self.panic is not None and not self.is_restore


@dataclass(frozen=True, slots=True)
class SiaDcsData:
    account: str | None
    events: tuple[SiaEvent, ...]
    text: str | None = None  # the |A... element, if any

    @property
    def panic_events(self) -> tuple[SiaEvent, ...]:
        return tuple(ev for ev in self.events if ev.panic is not None)


def _parse_block(block: str) -> list[SiaEvent]:
    new = block.startswith("N")
    body = block[1:] if new else block
    mods: dict[str, str] = {}
    events: list[SiaEvent] = []
    pos = 0
    while pos < len(body):
        m = _TOKEN_RE.match(body, pos)
        if m is None or m.end() == pos:
            raise SiaDcsError(f"unexpected character at offset {pos + int(new)} of an event block")
        pos = m.end()
        if m["mod"] is not None:
            mods[_MODIFIER_FIELDS.get(m["mod"], m["mod"])] = m["val"]
        elif m["code"] is not None:
            events.append(
                SiaEvent(
                    code=m["code"],
                    zone=m["addr"],
                    area=mods.get("area"),
                    user=mods.get("user"),
                    time=mods.get("time"),
                    peripheral=mods.get("peripheral"),
                    date=mods.get("date"),
                    text=m["text"],
                    new=new,
                )
            )
    return events


def parse_sia_dcs(data: str) -> SiaDcsData:
    """Parse the data of a ``SIA-DCS`` frame (the text between ``[`` and ``]``)."""
    elements = data.split("|")
    account: str | None = None
    if len(elements) > 1 or data.startswith("#"):
        first = elements[0]
        acct = _ACCOUNT_RE.fullmatch(first)
        if acct is not None:
            account = acct.group(1)
            elements = elements[1:]
        elif first.startswith("#"):
            raise SiaDcsError("account is not 3-16 hex characters")
    events: list[SiaEvent] = []
    text: str | None = None
    for element in elements:
        if not element:
            continue
        if element.startswith("A") and events:
            text = element[1:]
        else:
            events.extend(_parse_block(element))
    return SiaDcsData(account, tuple(events), text)


def _check(name: str, value: str | None, pattern: str) -> None:
    if value is not None and not re.fullmatch(pattern, value):
        raise SiaDcsError(f"{name} {value!r} does not match {pattern}")


def build_sia_dcs(
    *,
    account: str | None,
    code: str,
    zone: str = "",
    area: str | None = None,
    user: str | None = None,
    time: str | None = None,
    text: str | None = None,
) -> str:
    """Build a one-event SIA DCS data block, e.g. ``#AAA|Nri0/PA01`` (modifiers ti, id, ri)."""
    _check("account", account, r"[0-9A-Fa-f]{3,16}")
    _check("code", code, r"[A-Z]{2}")
    _check("zone", zone, r"\d*")
    _check("area", area, r"\d+")
    _check("user", user, r"\d+")
    _check("time", time, r"\d{2}:\d{2}(:\d{2})?")
    if text is not None and (not _SAFE_RE.fullmatch(text) or not text.isascii()):
        raise SiaDcsError("text must be ASCII without | [ ] ^ CR LF")
    fields = [f"ti{time}"] if time is not None else []
    fields += [f"id{user}"] if user is not None else []
    fields += [f"ri{area}"] if area is not None else []
    block = "N" + "/".join([*fields, code + zone])
    out = (f"#{account}|" if account is not None else "") + block
    return out + (f"|A{text}" if text is not None else "")
