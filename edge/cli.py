"""`police-kiosk edge`, `police-kiosk check-config` and `police-kiosk client`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tomllib
from pathlib import Path
from typing import Any

from edge.config.station import ConfigError, EdgeConfig, load_config, parse_config, referenced_file_problems

__all__ = ["command"]


def _edge_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="police-kiosk edge", description="Run the station's edge daemon.")
    p.add_argument("--config", type=Path, help="station configuration file (TOML)")
    p.add_argument("--station", help="station id (overrides station.id)")
    p.add_argument("--uplink", help="broker URL, mqtt://HOST:PORT (overrides uplink.url)")
    p.add_argument("--data-dir", type=Path, help="data directory (overrides paths.data_dir)")
    p.add_argument("--socket", type=Path, help="local API socket (overrides paths.socket)")
    p.add_argument("--sim-rate", type=float, help="simulated info events per second (overrides sim.rate)")
    p.add_argument("--ack-timeout", type=float, help="seconds before an unconfirmed batch is resent")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any setting by its dotted key, e.g. --set uplink.window=16 (repeatable)",
    )
    return p


def _parse_set(item: str) -> tuple[str, Any]:
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError([f"--set {item!r}: expected KEY=VALUE"])
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word is a string
    return key.strip(), value


def config_from_args(args: argparse.Namespace) -> EdgeConfig:
    overrides: dict[str, Any] = dict(_parse_set(item) for item in args.set)
    for attr, key in [
        ("station", "station.id"),
        ("uplink", "uplink.url"),
        ("data_dir", "paths.data_dir"),
        ("socket", "paths.socket"),
        ("sim_rate", "sim.rate"),
        ("ack_timeout", "uplink.ack_timeout"),
        ("log_level", "logging.level"),
    ]:
        value = getattr(args, attr, None)
        if value is not None:
            overrides[key] = str(value) if isinstance(value, Path) else value
    if args.config is not None:
        return load_config(args.config, overrides=overrides)
    data: dict[str, Any] = {}
    from edge.config.station import apply_overrides

    apply_overrides(data, overrides)
    return parse_config(data, source="command line")


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # pymodbus logs every failed request with a frame dump; our Modbus driver logs a lost module once.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


def _run_edge(argv: list[str]) -> int:
    args = _edge_parser().parse_args(argv)
    try:
        config = config_from_args(args)
        missing = referenced_file_problems(config, source=str(args.config or "command line"))
        if missing:
            raise ConfigError(missing)
    except ConfigError as exc:
        print(f"police-kiosk edge: configuration error:\n{exc}", file=sys.stderr)
        return 2
    _setup_logging(config.logging.level)
    from edge.daemon.composition import build_components
    from edge.daemon.core import run_daemon

    return asyncio.run(run_daemon(config, components=build_components(config)))


def _check_config(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="police-kiosk check-config", description="Validate station configuration files.")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument(
        "--no-files",
        dest="files_exist",
        action="store_false",
        help="do not check that referenced files (CA, keys, passwords) exist: for checking a station's "
        "file on another machine",
    )
    args = p.parse_args(argv)
    bad = 0
    for f in args.files:
        try:
            cfg = load_config(f)
            missing = referenced_file_problems(cfg, source=str(f)) if args.files_exist else []
            if missing:
                raise ConfigError(missing)
        except ConfigError as exc:
            bad += 1
            print(str(exc), file=sys.stderr)
        else:
            print(f"{f}: ok (station {cfg.station.id})")
    return 1 if bad else 0


async def _client(socket: Path, method: str, params: dict[str, Any] | None) -> int:
    from edge.api.client import ApiError, EdgeClient

    try:
        async with EdgeClient(socket) as client:
            result = await client.call(method, params)
    except ApiError as exc:
        print(f"police-kiosk client: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def _run_client(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="police-kiosk client", description="Call a local API method.")
    p.add_argument("--socket", type=Path, required=True)
    p.add_argument("method")
    p.add_argument("params", nargs="?", help="JSON object")
    args = p.parse_args(argv)
    params = json.loads(args.params) if args.params else None
    return asyncio.run(_client(args.socket, args.method, params))


def command(name: str, argv: list[str]) -> int:
    if name == "edge":
        return _run_edge(argv)
    if name == "check-config":
        return _check_config(argv)
    if name == "client":
        return _run_client(argv)
    return 2
