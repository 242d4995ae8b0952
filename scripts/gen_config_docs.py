"""Regenerate the key reference in docs/configuration.md from the pydantic models of the configuration.

    .venv/bin/python scripts/gen_config_docs.py           # rewrite docs/configuration.md
    .venv/bin/python scripts/gen_config_docs.py --check   # exit 1 if the file would change

Only the text between `<!-- config:begin -->` and `<!-- config:end -->` is generated; the rest of the
page is written by hand. tests/test_docs.py runs `--check`, so a key added to the models without a
regenerated page fails the tests.

The generator walks `edge.config.station.EdgeConfig` and every table below it (sub-tables and arrays of tables,
whichever module defines them). A key's meaning is its pydantic `Field(description=...)`; keys that
have none yet take theirs from `MEANINGS` below (once a field carries its own description, its entry
there is no longer used and may be deleted). A key with neither is listed on stderr and shows as
"no description yet" on the page.
"""

from __future__ import annotations

import argparse
import os
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel, IPvAnyNetwork
from pydantic.fields import FieldInfo

from edge.config.station import EdgeConfig

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "configuration.md"
BEGIN, END = "<!-- config:begin -->", "<!-- config:end -->"

#: What each top-level table is for (the section models carry no docstrings).
SECTIONS: dict[str, str] = {
    "station": "Who this station is. The only table that must be present.",
    "paths": "Where the daemon keeps its state and its local API socket.",
    "uplink": "The MQTT connection to central (docs/mqtt-api.md) and the delivery window of the outbox relay.",
    "outbox": "Bounds of the durable outbox, which holds every accepted event until the hub confirms it.",
    "sim": "The simulated event source (demo, tests, benchmarks).",
    "logging": "The daemon's log on stderr (the journal, under systemd).",
    "alarms": "The alarms component: school panels on SIA DC-09, Modbus panic buttons, siren policy, response targets.",
    "kiosk": "The kiosk services behind the resident touchscreen.",
    "vision": "The camera and number-plate component.",
}

#: Meanings of the keys whose model field has no `description` yet (dotted paths as in the tables).
MEANINGS: dict[str, str] = {
    "uplink.username": "Broker user name. Unset: connect without credentials.",
    "uplink.password": "Broker password, in this file. Prefer `password_file` on a real station.",
    "uplink.password_file": (
        "File holding the broker password (surrounding whitespace stripped), read at start-up; wins over "
        "`password`. `check-config` and the daemon's start-up both check that it can be read."
    ),
    "uplink.ca_file": (
        "CA certificate(s) (PEM) to verify the broker with `mqtts://`. Unset: the system's CA store. "
        "Read at start-up; a missing file stops the daemon (exit 1)."
    ),
    "uplink.cert_file": "Client certificate (PEM) for mutual TLS with `mqtts://`.",
    "uplink.key_file": "Private key (PEM) of `cert_file`.",
    "uplink.keepalive": (
        "MQTT keepalive, seconds. The broker declares the station gone, and publishes its last will, after "
        "1.5 times this much silence."
    ),
    "uplink.session_expiry": (
        "Seconds the broker keeps the station's persistent session (its subscriptions and the QoS 1 acks and "
        "commands queued for it) while the station is disconnected."
    ),
    "uplink.reconnect_min": (
        "Reconnect backoff, seconds: each wait is random (full jitter) up to a ceiling that starts here and "
        "doubles per failed attempt; never shorter than half this."
    ),
    "uplink.reconnect_max": "Reconnect backoff: the largest ceiling, seconds.",
    "uplink.telemetry_interval": "Seconds between health reports on `police/v1/{station}/telemetry`.",
    "outbox.max_events": (
        "Events the outbox may hold. Info events are refused from 90 % of it, warnings from 100 %; "
        "alarms are never refused for space."
    ),
    "outbox.max_bytes": "Bytes of encoded events the outbox may hold; refused like `max_events`.",
    "logging.level": "Log level.",
}

_BINARY_UNITS = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
_SCALARS = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    Path: "path",
    IPvAnyNetwork: "string (CIDR)",
}


@dataclass
class Kind:
    """What a field holds, as a reader of the TOML file sees it."""

    name: str
    nullable: bool = False
    model: type[BaseModel] | None = None  # a sub-table, or the element of an array of tables
    array: bool = False
    bounds: list[Any] = field(default_factory=list)


def _kind(annotation: Any) -> Kind:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extras = typing.get_args(annotation)
        kind = _kind(inner)
        for extra in extras:
            kind.bounds += _bounds(extra.metadata if isinstance(extra, FieldInfo) else [extra])
        return kind
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            kinds = [_kind(a) for a in rest]
            return Kind(" or ".join(k.name for k in kinds), nullable=len(rest) < len(args))
        kind = _kind(rest[0])
        kind.nullable = len(rest) < len(args)
        return kind
    if origin is typing.Literal:
        return Kind("string: " + ", ".join(f"`{v}`" for v in typing.get_args(annotation)))
    if origin is list:
        (item,) = typing.get_args(annotation)
        inner = _kind(item)
        if inner.model is not None:
            return Kind("array of tables", model=inner.model, array=True)
        return Kind(f"array of {inner.name}", bounds=inner.bounds)
    if origin is dict:
        _, value = typing.get_args(annotation)
        return Kind(f"table of {_kind(value).name}")
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return Kind("table", model=annotation)
    if isinstance(annotation, type) and annotation in _SCALARS:
        return Kind(_SCALARS[annotation])
    raise SystemExit(f"gen_config_docs: no name for the type {annotation!r}; teach _kind about it")


def _bounds(metadata: list[Any]) -> list[Any]:
    """Bounds as (operator, value) pairs, or as text for lengths."""
    parts: list[Any] = []
    for m in metadata:
        if isinstance(m, annotated_types.Ge):
            parts.append((">=", m.ge))
        elif isinstance(m, annotated_types.Gt):
            parts.append((">", m.gt))
        elif isinstance(m, annotated_types.Le):
            parts.append(("<=", m.le))
        elif isinstance(m, annotated_types.Lt):
            parts.append(("<", m.lt))
        elif isinstance(m, annotated_types.MinLen):
            parts.append(f"length >= {m.min_length}")
        elif isinstance(m, annotated_types.MaxLen):
            parts.append(f"length <= {m.max_length}")
    return parts


def _human(value: Any, *, in_bytes: bool) -> str:
    """`1 GiB` for 1073741824: byte counts read better in binary units."""
    if in_bytes and isinstance(value, int) and not isinstance(value, bool) and value >= 1024:
        for size, unit in _BINARY_UNITS:
            if value % size == 0:
                return f"{value // size} {unit}"
    return ""


def _bounds_text(bounds: list[Any], *, in_bytes: bool) -> str:
    out = []
    for b in bounds:
        if isinstance(b, tuple):
            op, value = b
            human = _human(value, in_bytes=in_bytes)
            out.append(f"{op} {value} ({human})" if human else f"{op} {value}")
        else:
            out.append(str(b))
    return ", ".join(out)


def _default(info: FieldInfo, *, in_bytes: bool) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "the table's defaults"
    if isinstance(value, list):
        return "`[]`" if not value else f"`{value!r}`"
    if isinstance(value, str | Path):
        return f'`"{value}"`'
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    human = _human(value, in_bytes=in_bytes)
    return f"`{value}` ({human})" if human else f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


@dataclass
class Table:
    header: str  # `[alarms.dc09]` or `[[alarms.schools]]`
    path: str  # dotted path of its keys: alarms.dc09, alarms.schools
    intro: str
    model: type[BaseModel]


def _tables() -> list[Table]:
    """Every table of the file, depth first, in model order."""
    out: list[Table] = []

    def walk(model: type[BaseModel], path: str, header: str, intro: str) -> None:
        out.append(Table(header, path, intro, model))
        for key, info in model.model_fields.items():
            kind = _kind(info.annotation)
            if kind.model is not None:
                sub = f"{path}.{key}"
                walk(kind.model, sub, f"[[{sub}]]" if kind.array else f"[{sub}]", info.description or "")

    for section, info in EdgeConfig.model_fields.items():
        kind = _kind(info.annotation)
        if kind.model is None or kind.array:
            raise SystemExit(f"gen_config_docs: top-level key {section!r} is not a table")
        intro = SECTIONS.get(section) or info.description or (kind.model.__doc__ or "").strip()
        if info.is_required():
            intro += " **Required.**"
        walk(kind.model, section, f"[{section}]", intro)
    return out


def config_keys() -> list[str]:
    """Dotted paths of every key of the file (tables included), e.g. `uplink.window`, `alarms.schools.name`."""
    return [f"{t.path}.{key}" for t in _tables() for key in t.model.model_fields]


def render() -> str:
    lines: list[str] = []
    missing = []
    for table in _tables():
        level = "###" if "." not in table.path else "####"
        lines += ["", f"{level} `{table.header}`", ""]
        if table.intro:
            lines += [table.intro, ""]
        lines += ["| key | type | default | bounds | meaning |", "|---|---|---|---|---|"]
        for key, info in table.model.model_fields.items():
            dotted = f"{table.path}.{key}"
            kind = _kind(info.annotation)
            bounds = kind.bounds + _bounds(info.metadata)
            type_name = kind.name
            if kind.model is not None:
                sub = f"[[{dotted}]]" if kind.array else f"[{dotted}]"
                type_name = f"{kind.name} `{sub}`"
            in_bytes = key.endswith("bytes")
            default = _default(info, in_bytes=in_bytes)
            if kind.nullable and default == "unset":
                type_name += ", optional"
            elif kind.nullable:
                # TOML has no null: such a key can be left out (its default applies), never unset.
                type_name += " (cannot be unset: TOML has no null)"
            meaning = info.description or MEANINGS.get(dotted)
            if not meaning and kind.model is not None:
                meaning = " ".join((kind.model.__doc__ or "").split()) or f"The table `{sub}`, below."
            if not meaning:
                missing.append(dotted)
                meaning = "*(no description yet)*"
            lines.append(
                f"| `{key}` | {_cell(type_name)} | {default} | {_cell(_bounds_text(bounds, in_bytes=in_bytes))} "
                f"| {_cell(meaning)} |"
            )
    if missing:
        print(
            "gen_config_docs: keys without a description (give each a Field description):\n  " + "\n  ".join(missing),
            file=sys.stderr,
        )
    return "\n".join(lines).lstrip("\n")


def replace_region(text: str, body: str) -> str:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"gen_config_docs: {DOC} lacks the markers {BEGIN} ... {END}")
    return text[: start + len(BEGIN)] + "\n" + body + "\n" + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the key reference in docs/configuration.md.")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if the page is out of date")
    args = parser.parse_args(argv)
    old = DOC.read_text(encoding="utf-8")
    new = replace_region(old, render())
    if new == old:
        return 0
    if args.check:
        print(f"{DOC.relative_to(ROOT)} is out of date: run scripts/gen_config_docs.py", file=sys.stderr)
        return 1
    tmp = DOC.with_suffix(".md.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, DOC)
    print(f"rewrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
