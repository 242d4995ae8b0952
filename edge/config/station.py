"""The station configuration: one TOML file, validated strictly.

Unknown keys are errors from day one. Every error names the file, the key path, the bad value and,
where the file shows it, the line: ``station.toml:12: uplink.keepalive = -3: must be >= 5``.
`police-kiosk check-config FILE` prints them all and exits non-zero.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from edge.wire.commands import MAX_KEY_FILE_BYTES, CommandKeyError, load_public_key
from edge.wire.messages import STATION_ID_RE

__all__ = ["CommandsSection", "ConfigError", "EdgeConfig", "load_config", "parse_config", "referenced_file_problems"]


from edge.config.api import ApiSection
from edge.config.base import Strict as _Strict
from edge.config.sections import AlarmsSection, KioskSection, OrdersSection, VisionSection


class StationSection(_Strict):
    id: str = Field(description="Station id; appears in MQTT topics. Letters, digits, `_.-`, at most 64.")
    name: str = Field(default="", description="Human-readable name shown on screens and at central.")
    district: str = Field(default="", max_length=64, description="District at central (rights, filters, map).")
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = Field(default=None, description="For central's map.")
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = Field(default=None, description="For central's map.")

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not STATION_ID_RE.match(v):
            raise ValueError("must be 1-64 characters of letters, digits, '_', '.', '-' (no '/', '+', '#')")
        return v


class PathsSection(_Strict):
    data_dir: Path = Field(default=Path("/var/lib/police-kiosk"), description="Outbox, state and counters.")
    socket: Path | None = Field(default=None, description="Local API socket; default DATA_DIR/edge.sock.")


class UplinkSection(_Strict):
    url: str = Field(default="mqtt://127.0.0.1:1883", description="mqtt://HOST:PORT, or mqtts:// for TLS.")
    username: str | None = None
    password: str | None = Field(default=None, description="Prefer password_file on a real station.")
    password_file: Path | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive: Annotated[int, Field(ge=5, le=3600)] = 30
    session_expiry: Annotated[int, Field(ge=0, le=365 * 24 * 3600)] = 7 * 24 * 3600
    reconnect_min: Annotated[float, Field(gt=0, le=60)] = 0.5
    reconnect_max: Annotated[float, Field(gt=0, le=3600)] = 30.0
    window: Annotated[int, Field(ge=1, le=256, description="Event batches in flight, unconfirmed.")] = 8
    batch_max: Annotated[int, Field(ge=1, le=10_000, description="Events per MQTT message at most.")] = 256
    ack_timeout: Annotated[
        float, Field(ge=0.5, le=600, description="Seconds before an unconfirmed batch is resent.")
    ] = 10.0
    telemetry_interval: Annotated[float, Field(ge=1, le=3600)] = 30.0
    heartbeat_interval: Annotated[
        float,
        Field(
            ge=0,
            le=3600,
            description=(
                "Seconds between heartbeats (QoS 0, ~70 bytes): central shows the station as silent after its "
                "`--silent-after` (4 s) without one. 1.5 s is 1,333 messages/s at 2,000 stations. 0 = off."
            ),
        ),
    ] = 1.5

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^(mqtts?|tcp|ssl)://[^/:]+(:\d{1,5})?/?$", v):
            raise ValueError("must look like mqtt://HOST:PORT or mqtts://HOST:PORT")
        return v


class CommandsSection(_Strict):
    """Central's signed commands: the public key that verifies them and the bounds of their validity."""

    public_key_file: Path | None = Field(
        default=None,
        description=(
            "Central's Ed25519 public key (PEM) that signs commands (watch lists, notices, results); "
            "unset: every command is refused. `police-kiosk hub keygen` makes the pair."
        ),
    )
    max_lifetime: Annotated[
        float,
        Field(
            ge=60,
            le=90 * 24 * 3600,
            description=(
                "Longest validity (seconds from issue to expiry) a command may claim; longer ones are refused."
            ),
        ),
    ] = 31 * 24 * 3600.0
    clock_skew: Annotated[
        float,
        Field(ge=0, le=3600, description=("Seconds a command's issue time may lie ahead of the station's clock.")),
    ] = 300.0


class OutboxSection(_Strict):
    max_events: Annotated[int, Field(ge=100, le=100_000_000)] = 1_000_000
    max_bytes: Annotated[int, Field(ge=1 << 20)] = 1 << 30
    reserve_bytes: Annotated[int, Field(ge=0, le=1 << 30, description="Disk kept back for alarms.")] = 4 << 20
    disk_low_bytes: Annotated[
        int, Field(ge=0, le=1 << 40, description="Under this much free disk, only alarms are accepted.")
    ] = 32 << 20


class SimSection(_Strict):
    rate: Annotated[float, Field(ge=0, le=10_000, description="Simulated info events per second (0 = off).")] = 0.0
    test_events: bool = Field(
        False,
        description="Accept the test tools' event types `demo.tick` and `test.probe` "
        "(demo, tests, benchmarks; never on a real station).",
    )


class LoggingSection(_Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class EdgeConfig(_Strict):
    station: StationSection
    paths: PathsSection = PathsSection()
    api: ApiSection = ApiSection()
    uplink: UplinkSection = UplinkSection()
    outbox: OutboxSection = OutboxSection()
    commands: CommandsSection = CommandsSection()
    sim: SimSection = SimSection()
    logging: LoggingSection = LoggingSection()
    alarms: AlarmsSection = AlarmsSection()
    kiosk: KioskSection = KioskSection()
    orders: OrdersSection = OrdersSection()
    vision: VisionSection = VisionSection()

    @property
    def socket_path(self) -> Path:
        return self.paths.socket or (self.paths.data_dir / "edge.sock")


class ConfigError(Exception):
    """Every problem found in one file; `str()` lists them, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _key_lines(text: str) -> dict[str, int]:
    """Map dotted key paths to their line numbers (tables, sub-tables and plain `key = value` lines)."""
    lines: dict[str, int] = {}
    table = ""
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        m = re.match(r"^\[\[?\s*([^\]]+?)\s*\]\]?", line)
        if m:
            table = m.group(1).replace('"', "").replace(" ", "")
            lines.setdefault(table, n)
            continue
        m = re.match(r"^([A-Za-z0-9_\-\"'.]+)\s*=", line)
        if m:
            key = m.group(1).strip("\"'")
            lines.setdefault(f"{table}.{key}" if table else key, n)
    return lines


def _format(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def parse_config(data: dict[str, Any], *, source: str = "<config>", text: str = "") -> EdgeConfig:
    try:
        return EdgeConfig.model_validate(data)
    except ValidationError as exc:
        where = _key_lines(text)
        problems = []
        for err in exc.errors():
            path = _format(err["loc"])
            line = where.get(path) or where.get(path.rsplit(".", 1)[0]) if path else None
            prefix = f"{source}:{line}" if line else source
            if err["type"] == "extra_forbidden":
                problems.append(f"{prefix}: {path}: unknown key (value {err['input']!r})")
            elif err["type"] == "missing":
                problems.append(f"{prefix}: {path}: required key is missing")
            else:
                problems.append(f"{prefix}: {path} = {err['input']!r}: {err['msg']}")
        raise ConfigError(problems) from None


def load_config(path: Path | str, *, overrides: dict[str, Any] | None = None) -> EdgeConfig:
    """Read and validate FILE; `overrides` (dotted keys) win over the file (command-line settings)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{p}: cannot read: {exc.strerror}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{p}: not valid TOML: {exc}"]) from None
    apply_overrides(data, overrides or {})
    return parse_config(data, source=str(p), text=text)


def referenced_file_problems(config: EdgeConfig, *, source: str = "<config>") -> list[str]:
    """Files the configuration points at (`*_file` keys: CA, certificates, keys, passwords, catalogues)
    that cannot be read, and a command public key that is not one: `check-config` reports them and the
    daemon refuses to start on them."""
    problems: list[str] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, BaseModel):
            for name in type(node).model_fields:
                value = getattr(node, name)
                key = f"{path}.{name}" if path else name
                if name.endswith("_file") and isinstance(value, Path):
                    try:
                        with value.open("rb"):
                            pass
                    except OSError as exc:
                        problems.append(f"{source}: {key} = '{value}': cannot read: {exc.strerror or exc}")
                else:
                    walk(value, key)
        elif isinstance(node, list | tuple):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")

    walk(config, "")
    key = config.commands.public_key_file
    if key is not None and not problems:
        try:
            load_public_key(key.read_bytes()[: MAX_KEY_FILE_BYTES + 1])
        except OSError as exc:
            problems.append(f"{source}: commands.public_key_file = '{key}': cannot read: {exc.strerror or exc}")
        except CommandKeyError as exc:
            problems.append(f"{source}: commands.public_key_file = '{key}': {exc}")
    return problems + config.api.account_problems(source)


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Set every dotted key of `overrides` in `data`; ConfigError when one key is the table of another
    (`station.id.x` beside `station.id`, which `--station` sets): one of them would silently win."""
    for dotted, value in overrides.items():
        for other in overrides:
            if other.startswith(dotted + "."):
                raise ConfigError([f"--set {other}: {dotted} is a value ({value!r}), not a table"])
    for dotted, value in overrides.items():
        set_dotted(data, dotted, value)


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `a.b.c` in nested tables; ConfigError when a part is empty or a value stands where a table
    must (`station.id.x` when `station.id` is a string)."""
    node = data
    *parents, last = dotted.split(".")
    if not all(p.strip() for p in [*parents, last]):
        raise ConfigError([f"--set {dotted}: empty part in the dotted key"])
    walked: list[str] = []
    for part in parents:
        walked.append(part)
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError([f"--set {dotted}: {'.'.join(walked)} is a value ({child!r}), not a table"])
        node = child
    node[last] = value
