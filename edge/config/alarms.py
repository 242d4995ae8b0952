"""The `[alarms]` section of the station configuration: schools on SIA DC-09, Modbus buttons, sirens, 1-3-5.

[alarms]
enabled = true

[alarms.dc09]
host = "192.168.50.1"       # the station's address on the school panels' network
port_tcp = 12000
port_udp = 12000

[alarms.targets]            # the city's "1-3-5": respond, arrive, resolve (seconds from the alarm)
respond_s = 60
arrive_s = 180
resolve_s = 300

[[alarms.schools]]
account = "1234"
name = "阳光小学"
name_en = "Sunshine Primary School"
key = "000102030405060708090a0b0c0d0e0f"   # AES-128/192/256 as hex; omit for cleartext panels
sources = ["192.168.50.0/24"]              # where its frames may come from (empty: anywhere)
link_test_interval_s = 90
points = [{ zone = 1, name = "正门一键报警", name_en = "Main gate button" }]

[[alarms.modbus]]
name = "gate-io"
port = "/dev/ttyUSB0"
siren_coil = 0
strobe_coil = 1
buttons = [{ input = 0, site = "阳光小学", site_en = "Sunshine Primary School",
             point = "东门一键报警", point_en = "East gate button" }]
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Annotated, Literal

from pydantic import Field, IPvAnyNetwork, PrivateAttr, field_validator, model_validator

from edge.config.base import Strict

__all__ = [
    "AlarmsSection",
    "Dc09Section",
    "ModbusButton",
    "ModbusModuleSection",
    "SchoolPoint",
    "SchoolSection",
    "SirenSection",
    "TargetsSection",
]

_ACCOUNT_RE = re.compile(r"^[0-9A-Fa-f]{3,16}$")
_HEX_RE = re.compile(r"^[0-9A-Fa-f]*$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")

Port = Annotated[int, Field(ge=0, le=65535)]
Seconds = Annotated[float, Field(gt=0, le=24 * 3600)]
PanicKindName = Literal["panic", "duress", "holdup"]


class SchoolPoint(Strict):
    zone: int = Field(ge=0, le=999, description="Zone (Contact ID) or zone number (SIA DCS) of the button.")
    name: str = Field(default="", max_length=64, description="Button name shown to the crew, e.g. 正门一键报警.")
    name_en: str = Field(default="", max_length=64, description="The same in English.")


class SchoolSection(Strict):
    account: str = Field(description="DC-09 account of the school's panel: 3-16 hex characters, unique.")
    name: str = Field(max_length=64, description="School name shown to the crew, e.g. 阳光小学.")
    name_en: str = Field(default="", max_length=64, description="The same in English.")
    key: str | None = Field(
        default=None, description="AES key as hex (32, 48 or 64 characters) for encrypted panels; none: cleartext."
    )
    link_test_interval_s: Seconds | None = Field(
        default=None, description="Longest silence before the link counts as lost; default alarms.dc09's."
    )
    allow_cleartext: bool = Field(
        default=False,
        description="A legacy panel that has a key but sends cleartext frames: accept them. false: cleartext "
        "frames from an account with a key are refused (DUH) when alarms.dc09.require_encryption is on.",
    )
    sources: list[IPvAnyNetwork] = Field(
        default_factory=list,
        max_length=64,
        description="Addresses (CIDRs, e.g. 192.168.50.0/24 or 192.168.50.7) the panel's frames may come from; "
        "frames from elsewhere are refused (DUH) and counted. Empty: any address.",
    )
    time_check: bool = Field(
        default=True,
        description="Refuse (NAK) frames whose timestamp is outside the window. false: a panel with a wrong "
        "clock still gets its alarms delivered (they are marked with the clock error).",
    )
    points: list[SchoolPoint] = Field(default_factory=list, description="Names of the buttons by zone.")

    @field_validator("account")
    @classmethod
    def _account(cls, v: str) -> str:
        if not _ACCOUNT_RE.match(v):
            raise ValueError("must be 3-16 hex characters (0-9, A-F)")
        return v.upper()

    @field_validator("key")
    @classmethod
    def _key(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not _HEX_RE.match(v) or len(v) not in (32, 48, 64):
            raise ValueError("must be 32, 48 or 64 hex characters (an AES-128/192/256 key)")
        return v.lower()

    @model_validator(mode="after")
    def _zones_unique(self) -> SchoolSection:
        zones = [p.zone for p in self.points]
        dup = sorted({z for z in zones if zones.count(z) > 1})
        if dup:
            raise ValueError(f"points: zone {dup[0]} is named twice")
        return self

    def point(self, zone: int | None) -> SchoolPoint | None:
        return next((p for p in self.points if p.zone == zone), None)

    def source_allowed(self, host: str) -> bool:
        """Whether a frame from this address may come from the school's panel (no ``sources``: any)."""
        if not self.sources:
            return True
        try:
            address: IPv4Address | IPv6Address = ip_address(host.partition("%")[0])
        except ValueError:
            return False
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(_contains(net, address) for net in self.sources)


def _contains(net: IPv4Network | IPv6Network, address: IPv4Address | IPv6Address) -> bool:
    return address.version == net.version and address in net


class Dc09Section(Strict):
    host: str = Field(
        default="127.0.0.1",
        description="Address the receiver listens on: the station's address on the school panels' network "
        "(never 0.0.0.0 on a station whose other interfaces face the street or the internet).",
    )
    port_tcp: Port | None = Field(default=12000, description="TCP port (0 picks a free one; none: no TCP).")
    port_udp: Port | None = Field(default=12000, description="UDP port (0 picks a free one; none: no UDP).")
    max_age_s: Annotated[float, Field(ge=0, le=3600)] = Field(
        default=40.0, description="Oldest accepted frame timestamp, seconds behind the receiver's clock."
    )
    max_ahead_s: Annotated[float, Field(ge=0, le=3600)] = Field(
        default=20.0, description="Newest accepted frame timestamp, seconds ahead of the receiver's clock."
    )
    default_link_test_interval_s: Seconds | None = Field(
        default=None, description="Link-test interval of schools that set none (none: those are not supervised)."
    )
    supervise_unknown: bool = Field(
        default=False, description="Also supervise accounts not listed in alarms.schools, from their first frame."
    )
    require_encryption: bool = Field(
        default=True,
        description="Refuse (DUH) cleartext frames from accounts that have a key (a school with "
        "allow_cleartext = true excepted). false: accept them from every account (not recommended).",
    )
    idle_timeout_s: Seconds = Field(default=300.0, description="Close a TCP connection after this much silence.")
    max_connections: int = Field(default=1024, ge=1, le=65535, description="Open TCP connections at most.")
    max_connections_per_host: int = Field(
        default=8, ge=1, le=65535, description="Open TCP connections from one source address at most."
    )
    first_frame_timeout_s: Seconds = Field(
        default=10.0, description="Close a TCP connection that has sent no accepted frame this long after it opened."
    )
    udp_rate_per_host: float = Field(
        default=5.0,
        gt=0,
        le=10_000,
        description="UDP datagrams per second from one source address, on average; more are dropped unread "
        "(a panel sends a few a minute). Bursts up to udp_burst_per_host pass.",
    )
    udp_burst_per_host: int = Field(
        default=20, ge=1, le=100_000, description="UDP datagrams from one source address allowed in a burst."
    )
    alarm_limit: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description="Alarm messages (panic, duress, hold-up) from one account raised per alarm_limit_window_s; "
        "more are acknowledged, counted and shown as a fault, but open no incident.",
    )
    alarm_limit_window_s: Seconds = Field(default=60.0, description="The window of alarm_limit, seconds.")

    @model_validator(mode="after")
    def _some_port(self) -> Dc09Section:
        if self.port_tcp is None and self.port_udp is None:
            raise ValueError("set port_tcp or port_udp (or both)")
        return self


class ModbusButton(Strict):
    input: int = Field(ge=0, le=1967, description="Discrete input index (from 0) the button is wired to.")
    kind: PanicKindName = Field(default="panic", description="What a press means: panic, duress or holdup.")
    site: str = Field(max_length=64, description="Where the button is (school or station), e.g. 阳光小学.")
    site_en: str = Field(default="", max_length=64, description="The same in English.")
    point: str = Field(default="", max_length=64, description="Which button, e.g. 东门一键报警.")
    point_en: str = Field(default="", max_length=64, description="The same in English.")
    restore_on_release: bool = Field(
        default=False, description="A locking button: its release (reset with the key) restores the alarm."
    )
    normally_closed: bool = Field(default=False, description="Wired normally closed (open circuit = pressed).")


class ModbusModuleSection(Strict):
    name: str = Field(description="Short unique name of the module (faults and device table): letters, digits, _.-")
    port: str = Field(description="Serial device, pty path, or socket://HOST:PORT (RTU over TCP).")
    unit: int = Field(default=1, ge=1, le=247, description="Modbus unit (slave) address.")
    baudrate: int = Field(default=9600, ge=1200, le=921600, description="Serial speed (8N1).")
    poll_interval_s: Annotated[float, Field(ge=0.005, le=5)] = Field(
        default=0.05, description="Input poll period; a press is seen at most this much later."
    )
    timeout_s: Annotated[float, Field(gt=0, le=10)] = Field(default=0.25, description="Reply timeout.")
    input_count: int = Field(default=8, ge=1, le=1968, description="Discrete inputs read per poll.")
    coil_count: int = Field(default=8, ge=0, le=1968, description="Coils (relay outputs) on the module.")
    latch_address: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Latching module: address of the first latch bit (one per input). None: non-latching.",
    )
    latch_table: Literal["coils", "discrete_inputs"] = Field(
        default="coils", description="Where the module keeps its latch bits (function 01 or 02)."
    )
    latch_clear: Literal["write_back", "clear_coil", "on_read"] = Field(
        default="write_back",
        description="How latch bits are cleared: write_back (write OFF to each latch coil read set: no "
        "press lost whatever replies are late or lost; choose it when the module offers it), clear_coil "
        "(write ON to latch_clear_coil: a tap on another input between read and clear is lost) or "
        "on_read (the module clears on read: a press whose read reply is lost on the line is lost).",
    )
    latch_clear_coil: int | None = Field(
        default=None, ge=0, le=65535, description="The module's 'clear all latches' coil (latch_clear = clear_coil)."
    )
    failure_threshold: int = Field(default=3, ge=1, le=100, description="Failed polls in a row = link lost.")
    siren_coil: int | None = Field(default=None, ge=0, le=1967, description="Coil index of the siren relay.")
    strobe_coil: int | None = Field(default=None, ge=0, le=1967, description="Coil index of the strobe relay.")
    buttons: list[ModbusButton] = Field(default_factory=list, description="Panic buttons on this module's inputs.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME_RE.match(v):
            raise ValueError("must be 1-32 letters, digits, '_', '.', '-'")
        return v

    @model_validator(mode="after")
    def _indices(self) -> ModbusModuleSection:
        inputs = [b.input for b in self.buttons]
        for i in inputs:
            if i >= self.input_count:
                raise ValueError(f"buttons: input {i} is beyond input_count {self.input_count}")
            if inputs.count(i) > 1:
                raise ValueError(f"buttons: input {i} is used twice")
        for label, coil in (("siren_coil", self.siren_coil), ("strobe_coil", self.strobe_coil)):
            if coil is not None and coil >= self.coil_count:
                raise ValueError(f"{label} {coil} is beyond coil_count {self.coil_count}")
        if self.siren_coil is not None and self.siren_coil == self.strobe_coil:
            raise ValueError("siren_coil and strobe_coil must be different coils")
        if self.latch_address is not None:
            if self.latch_clear == "write_back" and self.latch_table != "coils":
                raise ValueError("latch_clear = write_back needs latch_table = coils")
            if self.latch_clear == "clear_coil" and self.latch_clear_coil is None:
                raise ValueError("latch_clear_coil is required when latch_clear = clear_coil")
        return self


SirenMode = Literal["raised", "open", "off"]
SirenPattern = Literal["steady", "bursts"]
StrobePattern = Literal["steady", "pulse"]


class SirenSection(Strict):
    siren: SirenMode = Field(
        default="raised",
        description="When the siren relays are on: raised (while any incident is not yet acknowledged), "
        "open (until every incident is closed) or off (manual only).",
    )
    strobe: SirenMode = Field(default="open", description="When the strobe relays are on (same choices).")
    siren_pattern: SirenPattern = Field(
        default="steady",
        description="How an 'on' siren relay is driven: steady, or bursts (2 s on, 1 s off, ten times, then "
        "off until the next alarm or escalation). Choose steady for a siren with its own pattern generator.",
    )
    strobe_pattern: StrobePattern = Field(
        default="steady",
        description="How an 'on' strobe relay is driven: steady, or pulse (a 0.1 s flash every second) for a "
        "lamp without its own flasher.",
    )
    manual: bool = Field(default=True, description="Allow the crew to switch siren and strobe by hand (alarms.siren).")


class TargetsSection(Strict):
    respond_s: Seconds = Field(default=60.0, description="Acknowledge and dispatch within this many seconds.")
    arrive_s: Seconds = Field(default=180.0, description="On scene within this many seconds of the alarm.")
    resolve_s: Seconds = Field(default=300.0, description="Resolved (closed) within this many seconds of the alarm.")

    @model_validator(mode="after")
    def _ordered(self) -> TargetsSection:
        if not self.respond_s <= self.arrive_s <= self.resolve_s:
            raise ValueError("targets must satisfy respond_s <= arrive_s <= resolve_s")
        return self


class AlarmsSection(Strict):
    enabled: bool = Field(default=False, description="Run the alarms component.")
    dc09: Dc09Section | None = Field(
        default_factory=Dc09Section, description="The SIA DC-09 receiver for school panels (none: no receiver)."
    )
    schools: list[SchoolSection] = Field(default_factory=list, description="Known school panels, by account.")
    modbus: list[ModbusModuleSection] = Field(default_factory=list, description="Modbus RTU I/O modules.")
    targets: TargetsSection = Field(default_factory=TargetsSection, description="The 1-3-5 response targets.")
    siren: SirenSection = Field(default_factory=SirenSection, description="Siren and strobe policy.")
    keep_closed: int = Field(default=200, ge=0, le=10_000, description="Closed incidents kept for the console.")
    rejected_report_s: Seconds = Field(
        default=60.0, description="At most one alarm.rejected_frame counter event per account this often."
    )

    @model_validator(mode="after")
    def _unique(self) -> AlarmsSection:
        seen: set[str] = set()
        for school in self.schools:
            if school.account in seen:
                raise ValueError(f"schools: account {school.account} is listed twice")
            seen.add(school.account)
        names = [m.name for m in self.modbus]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"modbus: module name {name!r} is used twice")
        return self

    _by_account: dict[str, SchoolSection] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object) -> None:
        self._by_account.update((s.account, s) for s in self.schools)

    def school(self, account: str) -> SchoolSection | None:
        """The school with this DC-09 account (any case), or None."""
        return self._by_account.get(account.upper())
