"""`police-kiosk hub`: run the central hub; `hub export` and `hub stations` read its database."""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from edge.system.sdnotify import Notifier

if TYPE_CHECKING:
    from hub.rpc import RpcRegistry

__all__ = ["command"]


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from hub.mqtt import HubMqtt, Inbound
    from hub.service import HubService, LivenessSettings
    from hub.store import SchemaTooNewError, open_store

    try:
        store = open_store(args.db)
    except SchemaTooNewError as exc:
        print(f"police-kiosk hub: refusing to start: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - any driver error: say which database and exit non-zero
        print(f"police-kiosk hub: cannot open database {args.db!r}: {exc}", file=sys.stderr)
        return 1
    inbox: queue.Queue[Inbound | None] = queue.Queue()
    client_id = args.client_id or f"hub-{socket.gethostname()}-{args.group}"
    try:
        mqtt = HubMqtt(args.broker, client_id=client_id, group=args.group, inbox=inbox,
                       username=args.username, password=os.environ.get("PK_HUB_PASSWORD"), ca_file=args.ca_file)
    except ValueError as exc:
        print(f"police-kiosk hub: {exc}", file=sys.stderr)
        return 2
    from hub.rpc import RpcRegistry

    rpc = RpcRegistry()
    for register in _plugins():
        register(rpc)
    kiosk_key = None
    if args.command_key_file:
        try:
            kiosk_key = open(args.command_key_file, "rb").read().strip()  # noqa: SIM115 - read once at start
        except OSError as exc:
            print(f"police-kiosk hub: cannot read --command-key-file {args.command_key_file}: {exc}", file=sys.stderr)
            return 2
    if not 0 < args.silent_after < args.offline_after or not 0 < args.check_interval <= args.silent_after:
        print("police-kiosk hub: need 0 < --check-interval <= --silent-after < --offline-after", file=sys.stderr)
        return 2
    liveness = LivenessSettings(silent_after=args.silent_after, offline_after=args.offline_after,
                                check_interval=args.check_interval)
    service = HubService(store, mqtt, rpc=rpc, store_factory=lambda: open_store(args.db), kiosk_key=kiosk_key,
                         liveness=liveness)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    service.on_failure = stop.set
    notifier = Notifier()
    if notifier.watchdog_interval is not None:  # fed from the ingest loop: a wedged loop gets restarted
        service.on_tick = _every(notifier.watchdog_interval, notifier.watchdog)
    service.start()
    logging.getLogger("hub").info("hub running: broker %s, database %s, group %s", args.broker, args.db, args.group)
    notifier.ready(f"hub: broker {args.broker}, group {args.group}")
    stop.wait()
    notifier.stopping()
    service.stop()
    store.close()
    if service.failed is not None:
        return 1
    c = service.counters
    logging.getLogger("hub").info("hub stopped: %d events stored, %d duplicates, %d malformed",
                                  c.events_stored, c.duplicates, c.malformed)
    return 0


def _every(interval: float, fn: Callable[[], None]) -> Callable[[], None]:
    import time

    last = [0.0]

    def tick() -> None:
        now = time.monotonic()
        if now - last[0] >= interval:
            last[0] = now
            fn()
    return tick


def _plugins() -> list[Callable[[RpcRegistry], None]]:
    """The hub's request handlers beyond `hub.ping` (the kiosk's reference services register here)."""
    from hub import kiosk_services

    return [kiosk_services.register]


def _export(args: argparse.Namespace) -> int:
    from hub.store import open_store

    store = open_store(args.db)
    try:
        out = sys.stdout.buffer
        for body in store.export(args.station):
            out.write(body + b"\n")
        out.flush()
    finally:
        store.close()
    return 0


def _command(args: argparse.Namespace) -> int:
    """Sign a command with the key shared with the stations and publish it to one station or to all."""
    from edge.wire import messages as wire
    from hub.mqtt import publish_once

    try:
        key = open(args.key_file, "rb").read().strip()  # noqa: SIM115 - read once
        raw = open(args.args[1:], "rb").read() if args.args.startswith("@") else args.args.encode()  # noqa: SIM115
        cmd_args = json.loads(raw)
    except (OSError, ValueError) as exc:
        print(f"police-kiosk hub command: {exc}", file=sys.stderr)
        return 2
    if not isinstance(cmd_args, dict):
        print("police-kiosk hub command: ARGS must be a JSON object", file=sys.stderr)
        return 2
    import time

    expires = wire.utc_now_iso(time.time() + args.expires) if args.expires else ""
    cmd = wire.sign_command(wire.Command(id=wire.new_event_id(), name=args.name, args=cmd_args,
                                         issued_at=wire.utc_now_iso(), expires_at=expires), key)
    topic = wire.topic(args.station, "cmd", args.name)
    try:
        publish_once(args.broker, topic, wire.encode(cmd), retain=args.retain, ca_file=args.ca_file,
                     username=args.username, password=os.environ.get("PK_HUB_PASSWORD"))
    except (OSError, TimeoutError, RuntimeError, ValueError) as exc:
        print(f"police-kiosk hub command: {exc}", file=sys.stderr)
        return 1
    print(f"published {args.name} ({cmd.id}) to {topic}{' (retained)' if args.retain else ''}")
    return 0


def _stations(args: argparse.Namespace) -> int:
    from hub.store import open_store

    store = open_store(args.db)
    try:
        for row in store.stations():
            print(json.dumps({"station": row.station, "state": row.state, "liveness": row.liveness,
                              "last_heard": row.last_heard, "counter": row.counter,
                              "status_ts": row.status_ts, "events": row.events, "dead_letters": row.dead_letters,
                              "telemetry": row.telemetry}, ensure_ascii=False))
    finally:
        store.close()
    return 0


def _dead_letters(args: argparse.Namespace) -> int:
    from hub.store import open_store

    store = open_store(args.db)
    try:
        for d in store.dead_letters(args.limit):
            print(json.dumps({"received_at": d.received_at, "topic": d.topic, "station": d.station, "size": d.size,
                              "reason": d.reason, "payload": d.payload.decode("utf-8", "backslashreplace")},
                             ensure_ascii=False))
    finally:
        store.close()
    return 0


def command(name: str, argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="police-kiosk hub", description="The central hub.")
    sub = p.add_subparsers(dest="action")
    run = sub.add_parser("run", help="run the hub (the default)")
    for parser in (p, run):
        parser.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://HOST:PORT")
        parser.add_argument("--db", default="sqlite:////var/lib/police-kiosk-hub/hub.db",
                            help="sqlite:////ABS/PATH, sqlite:///REL/PATH or postgresql://...")
        parser.add_argument("--group", default="hub", help="shared-subscription group of cooperating hubs")
        parser.add_argument("--client-id", help="MQTT client id (default hub-HOSTNAME-GROUP); unique per process")
        parser.add_argument("--username", help="broker user (the password comes from $PK_HUB_PASSWORD)")
        parser.add_argument("--ca-file", help="CA certificate(s) to verify an mqtts:// broker (default: system CAs)")
        parser.add_argument("--command-key-file", help="HMAC key shared with stations, to sign commands to them")
        parser.add_argument("--silent-after", type=float, default=4.0,
                            help="seconds without a message before a station shows as silent (default 4)")
        parser.add_argument("--offline-after", type=float, default=60.0,
                            help="seconds without a message before a silent station shows as offline (default 60)")
        parser.add_argument("--check-interval", type=float, default=0.5,
                            help="how often the hub checks for silent stations, in seconds (default 0.5)")
        parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    ex = sub.add_parser("export", help="print stored events as JSON lines, in per-station order")
    ex.add_argument("--db", required=True)
    ex.add_argument("--station")
    st = sub.add_parser("stations", help="print each station's state and latest telemetry")
    st.add_argument("--db", required=True)
    dl = sub.add_parser("dead-letters", help="print the latest messages the hub refused, newest first")
    dl.add_argument("--db", required=True)
    dl.add_argument("--limit", type=int, default=100)
    cm = sub.add_parser("command", help="sign and publish a command to a station or to all (watch list, notices)")
    cm.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    cm.add_argument("--key-file", required=True, help="the HMAC key shared with the stations")
    cm.add_argument("--ca-file", help="CA certificate(s) to verify an mqtts:// broker")
    cm.add_argument("--username", help="broker user (the password comes from $PK_HUB_PASSWORD)")
    cm.add_argument("--station", default="all", help="station id, or `all` for a broadcast")
    cm.add_argument("--retain", action="store_true", help="keep it on the broker for stations that connect later")
    cm.add_argument("--expires", type=float, default=0.0, help="seconds until stations refuse it (0: never)")
    cm.add_argument("name", help="command name, e.g. vision.watchlist or kiosk.notices")
    cm.add_argument("args", help="JSON object, or @FILE holding one")
    args = p.parse_args(argv)
    if args.action == "command":
        return _command(args)
    readers = {"export": _export, "stations": _stations, "dead-letters": _dead_letters}
    if args.action in readers:
        from hub.store import SchemaTooNewError, StoreUnavailableError

        try:
            return readers[args.action](args)
        except (SchemaTooNewError, StoreUnavailableError) as exc:
            print(f"police-kiosk hub {args.action}: {exc}", file=sys.stderr)
            return 1
    return _run(args)
