"""Patrol check-in at the kiosk (巡逻打卡): the station's copy of central's roster, matching, the event.

Central pushes the roster as the signed, retained command `patrol.roster` (`edge.wire.patrol.Roster`);
it is kept in DATA_DIR/patrol-roster.json (written atomically, mode 0600) so check-ins work offline and
after a restart. A malformed roster is refused with a log line and the old one stays. The roster holds
hashes, display names and roles only: see `edge.wire.patrol` and docs/security.md ("Patrol roster").

A check-in matches the card on the reader (its ID number is hashed with the roster's salt and dropped)
or a typed code, then writes the durable event `patrol.checkin` and makes a receipt. An unknown card or
code stores nothing. Wrong codes are limited (`MAX_CODE_FAILURES` a minute) so the digit pad cannot be
used to guess codes quickly.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from edge.system.files import read_json, write_atomic
from edge.wire import messages as wire
from edge.wire.api.patrol import PatrolCheckInParams
from edge.wire.errors import INVALID_PARAMS, NOT_FOUND, UNAVAILABLE, ApiError
from edge.wire.patrol import PatrolCheckIn, Roster, RosterMember, code_hash, id_hash
from kiosk.catalogue import ServiceSpec, Text
from kiosk.receipts import ReceiptDoc, ReceiptLine
from kiosk.requests import KioskResult, new_request_id, ticket_for

if TYPE_CHECKING:
    from edge.component.context import ComponentContext

__all__ = ["MAX_CODE_FAILURES", "PatrolDesk", "RosterStore", "patrol_receipt"]

log = logging.getLogger(__name__)

MAX_CODE_FAILURES = 5
_FAILURE_WINDOW_S = 60.0
ROLE_TEXT = {"officer": Text("民警", "Officer"), "volunteer": Text("巡防志愿者", "Volunteer")}
METHOD_TEXT = {"card": Text("刷身份证", "ID card"), "code": Text("打卡码", "Check-in code")}


def _refusal(code: int, zh: str, en: str) -> ApiError:
    return ApiError(code, f"{zh} / {en}", {"zh": zh, "en": en})


class RosterStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.roster: Roster | None = None

    def load(self) -> None:
        self.roster = read_json(self.path, lambda data: msgspec.convert(data, Roster), what="patrol roster")

    def apply(self, args: Any) -> bool:
        """Take a roster from a command's args; False if it is not newer than the one held.
        Raises ValueError when malformed (the message names the field, never a member's data)."""
        try:
            new = msgspec.convert(args, Roster)
        except msgspec.ValidationError as exc:
            raise ValueError(f"malformed patrol roster: {exc}") from None
        if self.roster is not None and new.version <= self.roster.version:
            return False
        write_atomic(self.path, msgspec.json.encode(new))
        self.roster = new
        return True


def patrol_receipt(member: RosterMember, *, method: str, station: str, ticket: str, when: str) -> ReceiptDoc:
    return ReceiptDoc(
        station=station,
        title=Text("巡逻打卡", "Patrol check-in"),
        lines=(
            ReceiptLine(Text("打卡人", "Member"), member.display_name),
            ReceiptLine(Text("身份", "Role"), ROLE_TEXT[member.role].zh),
            ReceiptLine(Text("方式", "Method"), METHOD_TEXT[method].zh),
            ReceiptLine(Text("打卡点", "Point"), station),
            ReceiptLine(Text("编号", "Reference"), ticket),
            ReceiptLine(Text("时间", "Time"), when),
        ),
        note=Text("巡逻打卡已记录，感谢守护社区。", "Check-in recorded. Thank you for keeping watch."),
        qr=f"PK:{ticket}",
    )


class PatrolDesk:
    def __init__(
        self, ctx: ComponentContext, roster: RosterStore, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ctx = ctx
        self.roster = roster
        self.clock = clock
        self._failures: collections.deque[float] = collections.deque()

    def _current(self) -> Roster:
        if self.roster.roster is None:
            raise _refusal(UNAVAILABLE, "本站尚未收到巡逻名册，请联系指挥中心", "This station has no patrol roster yet")
        return self.roster.roster

    def match_card(self, id_number: str | None) -> RosterMember:
        roster = self._current()
        if id_number is None:
            raise _refusal(NOT_FOUND, "请将身份证放在读卡区", "Please put your ID card on the reader")
        try:
            member = roster.by_id(id_hash(roster.salt, id_number))
        except ValueError:
            member = None
        if member is None:
            raise _refusal(
                NOT_FOUND,
                "未找到该证件的巡逻登记，请到指挥中心登记",
                "This card is not on the patrol roster; please register at central",
            )
        return member

    def match_code(self, code: str) -> RosterMember:
        roster = self._current()
        now = self.clock()
        while self._failures and now - self._failures[0] > _FAILURE_WINDOW_S:
            self._failures.popleft()
        if len(self._failures) >= MAX_CODE_FAILURES:
            raise _refusal(UNAVAILABLE, "错误次数过多，请稍后再试", "Too many wrong codes; please try again later")
        try:
            member = roster.by_code(code_hash(roster.salt, code))
        except ValueError:
            member = None
        if member is None:
            self._failures.append(now)
            raise _refusal(NOT_FOUND, "打卡码不正确", "That check-in code is not right")
        return member

    async def check_in(
        self, params: PatrolCheckInParams, service: ServiceSpec, *, card_id: str | None
    ) -> tuple[KioskResult, ReceiptDoc]:
        """Match the member (the card's ID number is only hashed, never kept), write the event."""
        if service.kind != "patrol":
            raise ApiError(INVALID_PARAMS, f"service {service.id!r} is a {service.kind}, not patrol")
        member = self.match_card(card_id) if params.method == "card" else self.match_code(params.code)
        ctx = self.ctx
        point = ctx.station_name or ctx.station
        event = PatrolCheckIn(
            id_hash=member.id_hash,
            display_name=member.display_name,
            role=member.role,
            method=params.method,
            station=ctx.station,
            point=point,
            at=wire.utc_now_iso(),
            roster_version=self._current().version,
        )
        stored = await ctx.emit("patrol.checkin", wire.Priority.INFO, msgspec.to_builtins(event))
        ticket = ticket_for(ctx.station, stored.seq)
        log.info("patrol check-in by %s (%s) as event %d", params.method, member.role, stored.seq)
        result = KioskResult(
            request_id=new_request_id(),
            service=service.id,
            kind="patrol",
            status="checked_in",
            message=Text(f"打卡成功：{member.display_name}", f"Checked in: {member.display_name}"),
            ticket=ticket,
            queued=ctx.uplink_state != "connected",
        )
        when = time.strftime("%Y-%m-%d %H:%M")
        return result, patrol_receipt(member, method=params.method, station=point, ticket=ticket, when=when)
