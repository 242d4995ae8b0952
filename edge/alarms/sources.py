"""What an alarm input means for the station: DC-09 messages and Modbus inputs become alarm signals.

Sans-IO: a decoded DC-09 message (Contact ID or SIA DCS data) or a Modbus input edge goes in, typed
:class:`AlarmSignal` values (raise or restore, with the school and button names from the config) come
out. Only the panic family raises incidents: Contact ID 120-125, SIA DCS PA/HA (and their restores).
An account that is not configured still raises: an unknown school's panic is never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from drivers.dc09.codec import Dc09Message, Dc09Token
from drivers.dc09.contact_id import ContactIdError, parse_adm_cid_data
from drivers.dc09.sia_dcs import SiaDcsError, parse_sia_dcs
from edge.alarms.incidents import Kind, Source
from edge.config.alarms import AlarmsSection, ModbusButton, ModbusModuleSection

__all__ = ["AlarmSignal", "SignalError", "dc09_signals", "modbus_signal", "school_source"]


class SignalError(ValueError):
    """The message's data does not parse (the panel sent something we cannot read)."""


@dataclass(frozen=True, slots=True)
class AlarmSignal:
    action: Literal["raise", "restore"]
    kind: Kind
    source: Source
    detail: str = ""


def school_source(config: AlarmsSection, account: str, zone: int | None) -> Source:
    """The source of an alarm from a school panel, named from the config (or by its account)."""
    school = config.school(account)
    if school is None:
        return Source(
            kind="dc09",
            site=f"未登记账号 {account.upper()}",
            site_en=f"Unlisted account {account.upper()}",
            point=_zone_name(zone),
            point_en=_zone_name_en(zone),
            account=account.upper(),
            zone=zone,
        )
    point = school.point(zone)
    return Source(
        kind="dc09",
        site=school.name,
        site_en=school.name_en or school.name,
        point=point.name if point and point.name else _zone_name(zone),
        point_en=point.name_en if point and point.name_en else _zone_name_en(zone),
        account=school.account,
        zone=zone,
    )


def _zone_name(zone: int | None) -> str:
    return "一键报警" if zone is None else f"防区 {zone}"


def _zone_name_en(zone: int | None) -> str:
    return "Panic button" if zone is None else f"Zone {zone}"


def dc09_signals(config: AlarmsSection, message: Dc09Message) -> list[AlarmSignal]:
    """The alarm signals in one accepted DC-09 message (none for link tests and non-panic events)."""
    if message.token is Dc09Token.NULL:
        return []
    account = message.account
    clock = f" (sequence {message.sequence:04d})"
    if message.token is Dc09Token.ADM_CID:
        try:
            ev = parse_adm_cid_data(message.data)
        except ContactIdError as exc:
            raise SignalError(f"ADM-CID data from account {account}: {exc}") from None
        if ev.panic is None:
            return []
        action: Literal["raise", "restore"] = "restore" if ev.is_restore else "raise"
        detail = f"Contact ID {ev.code} {ev.description}, group {ev.group:02d}, zone {ev.zone:03d}{clock}"
        return [AlarmSignal(action, ev.panic.value, school_source(config, account, ev.zone), detail)]
    try:
        data = parse_sia_dcs(message.data)
    except SiaDcsError as exc:
        raise SignalError(f"SIA DCS data from account {account}: {exc}") from None
    out: list[AlarmSignal] = []
    for sia in data.panic_events:
        assert sia.panic is not None
        zone = int(sia.zone) if sia.zone.isdigit() else None
        action = "restore" if sia.is_restore else "raise"
        area = f", area {sia.area}" if sia.area else ""
        detail = f"SIA {sia.code}{sia.zone}{area}{clock}"
        out.append(AlarmSignal(action, sia.panic.value, school_source(config, account, zone), detail))
    return out


def modbus_signal(module: ModbusModuleSection, index: int, pressed: bool) -> AlarmSignal | None:
    """A button press raises; a release restores only for locking buttons; unmapped inputs: None."""
    button: ModbusButton | None = next((b for b in module.buttons if b.input == index), None)
    if button is None:
        return None
    source = Source(
        kind="modbus",
        site=button.site,
        site_en=button.site_en or button.site,
        point=button.point or f"输入 {index}",
        point_en=button.point_en or f"Input {index}",
        account=module.name,
        zone=index,
    )
    if pressed:
        return AlarmSignal("raise", button.kind, source, f"Modbus unit {module.unit} input {index} pressed")
    if button.restore_on_release:
        return AlarmSignal("restore", button.kind, source, f"Modbus unit {module.unit} input {index} reset")
    return None
