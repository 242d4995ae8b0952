"""`police-kiosk hub command | rotate-key | keygen`: central's signing tools (Ed25519, edge/wire/commands.py)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge.wire.commands import CommandSigner

from edge.wire.commands import MAX_KEY_FILE_BYTES

__all__ = ["ACTIONS", "add_parsers", "run", "signer"]

ACTIONS = ("command", "rotate-key", "keygen")


def add_parsers(sub: Any) -> None:
    cm = sub.add_parser("command", help="sign and publish a command to a station or to all (watch list, notices)")
    rk = sub.add_parser("rotate-key", help="tell stations to trust a new public key (signed by the current key)")
    for parser in (cm, rk):
        parser.add_argument("--broker", default="mqtt://127.0.0.1:1883")
        parser.add_argument("--key-file", required=True, help="central's Ed25519 private key (PEM) that signs")
        parser.add_argument("--ca-file", help="CA certificate(s) to verify an mqtts:// broker")
        parser.add_argument("--cert-file", help="client certificate (PEM) presented to the broker")
        parser.add_argument("--cert-key-file", help="private key (PEM) of --cert-file")
        parser.add_argument("--username", help="broker user (the password comes from $PK_HUB_PASSWORD)")
        parser.add_argument("--station", default="all", help="station id(s) separated by commas, or `all`")
        parser.add_argument(
            "--retain", action="store_true", help="keep it on the broker for stations that connect later"
        )
        parser.add_argument(
            "--expires",
            type=float,
            default=7 * 24 * 3600.0,
            help="seconds until stations refuse it (mandatory; default 7 days, at most 31)",
        )
    cm.add_argument("name", help="command name, e.g. vision.watchlist or kiosk.notices")
    cm.add_argument("args", help="JSON object, or @FILE holding one")
    rk.add_argument("new_public_key", help="the new public key (PEM) stations are to trust")
    kg = sub.add_parser("keygen", help="make central's Ed25519 command key pair")
    kg.add_argument("--private", required=True, help="file for the private key (kept at central, mode 0600)")
    kg.add_argument("--public", required=True, help="file for the public key (to every station)")


def run(args: argparse.Namespace) -> int:
    return {"command": _command, "rotate-key": _rotate_key, "keygen": _keygen}[args.action](args)


def signer(path: str) -> CommandSigner:
    """Central's command signer from its private key file; ValueError says what is wrong."""
    from edge.wire.commands import CommandSigner, load_private_key

    try:
        data = open(path, "rb").read(MAX_KEY_FILE_BYTES + 1)  # noqa: SIM115 - read once
    except OSError as exc:
        raise ValueError(f"cannot read: {exc.strerror or exc}") from None
    return CommandSigner(load_private_key(data))


def _targets(text: str) -> list[str]:
    from edge.wire import messages as wire

    targets = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in targets if t != "all" and not wire.STATION_ID_RE.match(t)]
    if not targets or bad:
        raise ValueError(f"--station must be `all` or station ids separated by commas, got {text!r}")
    return targets


def _publish_command(args: argparse.Namespace, name: str, cmd_args: dict[str, object]) -> int:
    """Sign a command with central's private key and publish it to one station, several or all."""
    from edge.wire import messages as wire
    from edge.wire.commands import MAX_LIFETIME_S
    from hub.mqtt import publish_once

    try:
        central = signer(args.key_file)
        targets = _targets(args.station)
        if not 0 < args.expires <= MAX_LIFETIME_S:
            raise ValueError(f"--expires must be more than 0 and at most {MAX_LIFETIME_S:.0f} seconds")
    except ValueError as exc:
        print(f"police-kiosk hub {args.action}: {exc}", file=sys.stderr)
        return 2
    cmd = central.command(name, cmd_args, targets=targets, lifetime=args.expires)
    # one topic per target: `all` is the broadcast topic, the others each station's own
    topics = [wire.topic(t, "cmd", name) for t in targets]
    try:
        for topic in topics:
            publish_once(
                args.broker,
                topic,
                wire.encode(cmd),
                retain=args.retain,
                ca_file=args.ca_file,
                cert_file=args.cert_file,
                key_file=args.cert_key_file,
                username=args.username,
                password=os.environ.get("PK_HUB_PASSWORD"),
            )
    except (OSError, TimeoutError, RuntimeError, ValueError) as exc:
        print(f"police-kiosk hub {args.action}: {exc}", file=sys.stderr)
        return 1
    print(
        f"published {name} ({cmd.id}, counter {cmd.counter}, key {cmd.key_id}) to {', '.join(topics)}"
        f"{' (retained)' if args.retain else ''}"
    )
    return 0


def _command(args: argparse.Namespace) -> int:
    try:
        raw = open(args.args[1:], "rb").read() if args.args.startswith("@") else args.args.encode()  # noqa: SIM115
        cmd_args = json.loads(raw)
    except (OSError, ValueError) as exc:
        print(f"police-kiosk hub command: {exc}", file=sys.stderr)
        return 2
    if not isinstance(cmd_args, dict):
        print("police-kiosk hub command: ARGS must be a JSON object", file=sys.stderr)
        return 2
    return _publish_command(args, args.name, cmd_args)


def _rotate_key(args: argparse.Namespace) -> int:
    """Tell stations to trust a new public key, signed by the key they trust now."""
    from edge.wire.commands import ROTATE_KEY, CommandKeyError, load_public_key, public_key_pem

    try:
        new = load_public_key(open(args.new_public_key, "rb").read(MAX_KEY_FILE_BYTES + 1))  # noqa: SIM115
    except (OSError, CommandKeyError) as exc:
        print(f"police-kiosk hub rotate-key: {args.new_public_key}: {exc}", file=sys.stderr)
        return 2
    return _publish_command(args, ROTATE_KEY, {"public_key": public_key_pem(new).decode()})


def _keygen(args: argparse.Namespace) -> int:
    """Write a new Ed25519 key pair: the private key (0600) stays at central, the public one goes to stations."""
    from edge.wire.commands import generate_key_pair

    private, public = generate_key_pair()
    try:
        fd = os.open(args.private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        print(f"police-kiosk hub keygen: {args.private}: {exc.strerror or exc} (never overwritten)", file=sys.stderr)
        return 2
    with os.fdopen(fd, "wb") as f:
        f.write(private)
    try:
        with open(args.public, "xb") as f:
            f.write(public)
    except OSError as exc:
        os.unlink(args.private)
        print(f"police-kiosk hub keygen: {args.public}: {exc.strerror or exc} (never overwritten)", file=sys.stderr)
        return 2
    print(f"wrote {args.private} (keep it at central) and {args.public} (commands.public_key_file on stations)")
    return 0
