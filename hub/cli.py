"""`police-kiosk hub`: run the central hub; `hub export` and `hub stations` read its database."""

from __future__ import annotations

import argparse
import logging
import os
import queue
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from edge.system.sdnotify import Notifier
from hub import bulletin_cli, readers_cli

if TYPE_CHECKING:
    from hub.rpc import RpcRegistry
    from hub.store import Store
    from hub.web.server import ConsoleServer

__all__ = ["command"]


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from hub.mqtt import HubMqtt, Inbound
    from hub.service import HubService, LivenessSettings
    from hub.store import SchemaTooNewError, open_store

    try:
        store = _open_database(args.db)
    except SchemaTooNewError as exc:
        print(f"police-kiosk hub: refusing to start: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - any driver error: say which database and exit non-zero
        print(f"police-kiosk hub: cannot open database {args.db!r}: {exc}", file=sys.stderr)
        return 1
    inbox: queue.Queue[Inbound | None] = queue.Queue()
    client_id = args.client_id or f"hub-{socket.gethostname()}-{args.group}"
    try:
        mqtt = HubMqtt(
            args.broker,
            client_id=client_id,
            group=args.group,
            inbox=inbox,
            username=args.username,
            password=os.environ.get("PK_HUB_PASSWORD"),
            ca_file=args.ca_file,
            cert_file=args.cert_file,
            key_file=args.cert_key_file,
        )
    except ValueError as exc:
        print(f"police-kiosk hub: {exc}", file=sys.stderr)
        return 2
    from hub.rpc import RpcRegistry

    rpc = RpcRegistry()
    for register in _plugins():
        register(rpc)
    from hub import signing_cli

    signer = None
    if args.signing_key_file:
        try:
            signer = signing_cli.signer(args.signing_key_file)
        except ValueError as exc:
            print(f"police-kiosk hub: --signing-key-file {args.signing_key_file}: {exc}", file=sys.stderr)
            return 2
    if not 0 < args.silent_after < args.offline_after or not 0 < args.check_interval <= args.silent_after:
        print("police-kiosk hub: need 0 < --check-interval <= --silent-after < --offline-after", file=sys.stderr)
        return 2
    liveness = LivenessSettings(
        silent_after=args.silent_after, offline_after=args.offline_after, check_interval=args.check_interval
    )
    from hub.telemetry_history import HistorySettings

    if min(args.telemetry_raw_days, args.telemetry_keep_days, args.telemetry_history_every) < 0:
        print(
            "police-kiosk hub: --telemetry-raw-days, --telemetry-keep-days and --telemetry-history-every must be >= 0",
            file=sys.stderr,
        )
        return 2
    history = HistorySettings(
        raw_days=args.telemetry_raw_days,
        keep_days=args.telemetry_keep_days,
        raw_every_s=args.telemetry_history_every,
    )
    service = HubService(
        store,
        mqtt,
        rpc=rpc,
        store_factory=lambda: open_store(args.db),
        signer=signer,
        liveness=liveness,
        history=history,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    service.on_failure = stop.set
    console = _console(args) if args.http else None  # bound before ingest starts: a busy port stops the hub
    if console is False:
        store.close()
        return 2
    notifier = Notifier()
    if notifier.watchdog_interval is not None:  # fed from the ingest loop: a wedged loop gets restarted
        service.on_tick = _every(notifier.watchdog_interval, notifier.watchdog)
    from hub.retention import RetentionJob, RetentionSettings
    from hub.web.db import Db

    retention = RetentionJob(
        lambda: Db(args.db),
        RetentionSettings(personal_days=args.personal_days, dead_letter_days=args.dead_letter_days),
    )
    outbound = None
    if signer is not None:  # the console's queued commands (work orders, bulletins, rosters): hub/outbound.py
        from hub.outbound import OutboundPublisher

        outbound = OutboundPublisher(lambda: Db(args.db), signer, mqtt)
    service.start()
    retention.start()
    if outbound is not None:
        outbound.start()
    bulletin_cli.start_schedule(args, stop)
    logging.getLogger("hub").info("hub running: broker %s, database %s, group %s", args.broker, args.db, args.group)
    notifier.ready(f"hub: broker {args.broker}, group {args.group}")
    stop.wait()
    notifier.stopping()
    retention.stop()
    if outbound is not None:
        outbound.stop()
    if console:
        console.stop()
    service.stop()
    store.close()
    if service.failed is not None:
        return 1
    c = service.counters
    logging.getLogger("hub").info(
        "hub stopped: %d events stored, %d duplicates, %d malformed", c.events_stored, c.duplicates, c.malformed
    )
    return 0


def _open_database(url: str) -> Store:
    """The hub's store, every part of its database migrated first (hub/parts.py): a part newer than this
    hub stops start-up as a newer core does, whether or not the console runs."""
    from hub.parts import migrate_parts
    from hub.store import open_store

    store = open_store(url)
    try:
        migrate_parts(url)
    except BaseException:
        store.close()
        raise
    return store


def _console(args: argparse.Namespace) -> ConsoleServer | Literal[False]:
    """The command console (`--http`), served from a thread of this process (hub/web/server.py)."""
    from hub.web.console import ConsoleSettings
    from hub.web.server import ConsoleServer, parse_http

    try:
        host, port = parse_http(args.http)
        if not (args.order_triage_hours > 0 and args.order_open_hours > 0):
            raise ValueError("--order-triage-hours and --order-open-hours must be more than 0")
        settings = ConsoleSettings(
            db_url=args.db,
            silent_s=args.console_silent_after,
            order_triage_s=args.order_triage_hours * 3600,
            order_open_s=args.order_open_hours * 3600,
        )
        server = ConsoleServer(settings, host=host, port=port)
    except (OSError, ValueError) as exc:
        print(f"police-kiosk hub: --http {args.http}: {exc}", file=sys.stderr)
        return False
    server.start()
    return server


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
    from hub import kiosk_services, order_services

    return [kiosk_services.register, order_services.register]


def _retention_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--personal-days",
        type=_positive,
        default=180.0,
        help="days before what residents typed is purged from stored reports and requests (default 180)",
    )
    parser.add_argument(
        "--dead-letter-days", type=_positive, default=30.0, help="days refused messages are kept (default 30)"
    )


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text!r}")
    return value


def _purge(args: argparse.Namespace) -> int:
    from hub.retention import RetentionSettings, purge
    from hub.store import open_store
    from hub.web.db import Db

    open_store(args.db).close()
    db = Db(args.db)
    try:
        r = purge(
            db,
            RetentionSettings(personal_days=args.personal_days, dead_letter_days=args.dead_letter_days),
            dry_run=args.dry_run,
        )
    finally:
        db.close()
    verb = "would purge" if args.dry_run else "purged"
    print(
        f"{verb}: personal data of {r.events_scrubbed} events and {r.conflicts_scrubbed} conflicting copies, "
        f"{r.bookings_scrubbed} bookings, {r.dead_letters_deleted} dead letters"
    )
    return 0


def command(name: str, argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="police-kiosk hub", description="The central hub.")
    sub = p.add_subparsers(dest="action")
    run = sub.add_parser("run", help="run the hub (the default)")
    for parser in (p, run):
        parser.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://HOST:PORT")
        parser.add_argument(
            "--db",
            default="sqlite:////var/lib/police-kiosk-hub/hub.db",
            help="sqlite:////ABS/PATH, sqlite:///REL/PATH or postgresql://...",
        )
        parser.add_argument("--group", default="hub", help="shared-subscription group of cooperating hubs")
        parser.add_argument("--client-id", help="MQTT client id (default hub-HOSTNAME-GROUP); unique per process")
        parser.add_argument("--username", help="broker user (the password comes from $PK_HUB_PASSWORD)")
        parser.add_argument("--ca-file", help="CA certificate(s) to verify an mqtts:// broker (default: system CAs)")
        parser.add_argument("--cert-file", help="client certificate (PEM) the hub presents to the broker")
        parser.add_argument("--cert-key-file", help="private key (PEM) of --cert-file")
        parser.add_argument("--signing-key-file", help="central's Ed25519 private key (PEM) that signs commands")
        parser.add_argument("--http", metavar="HOST:PORT", help="serve the command console (off unless given)")
        for flag, hours, what in (("triage", 1.0, "still new (untriaged)"), ("open", 72.0, "not resolved or referred")):
            parser.add_argument(
                f"--order-{flag}-hours",
                type=float,
                default=hours,
                help=f"a work order {what} after this many hours is overdue on the console (default {hours:g})",
            )
        parser.add_argument(
            "--silent-after",
            type=float,
            default=4.0,
            help="seconds without a message before a station shows as silent (default 4)",
        )
        parser.add_argument(
            "--offline-after",
            type=float,
            default=60.0,
            help="seconds without a message before a silent station shows as offline (default 60)",
        )
        parser.add_argument(
            "--check-interval",
            type=float,
            default=0.5,
            help="how often the hub checks for silent stations, in seconds (default 0.5)",
        )
        parser.add_argument(
            "--console-silent-after",
            type=float,
            default=90.0,
            help="seconds without a report or status before the console shows a station as silent (default 90)",
        )
        parser.add_argument(
            "--telemetry-raw-days",
            type=float,
            default=3.0,
            help="days every station report is kept as a raw row, for the console's charts of hours; "
            "0: none (default 3)",
        )
        parser.add_argument(
            "--telemetry-keep-days",
            type=float,
            default=365.0,
            help="days the per-minute telemetry aggregates are kept, for the charts of days to months; "
            "0: none (default 365)",
        )
        parser.add_argument(
            "--telemetry-history-every",
            type=float,
            default=0.0,
            help="at most one raw row per station this often, in seconds; 0: every report (default 0)",
        )
        _retention_args(parser)
        parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
        bulletin_cli.add_run_options(parser)
    readers_cli.add_parsers(sub)
    pg = sub.add_parser("purge", help="purge personal data and dead letters past their retention (docs/privacy.md)")
    pg.add_argument("--db", required=True)
    pg.add_argument("--dry-run", action="store_true", help="count what would be purged, change nothing")
    _retention_args(pg)
    from hub import signing_cli

    signing_cli.add_parsers(sub)
    from hub.web import cli as web_cli

    web_cli.add_parsers(sub)
    bulletin_cli.add_parsers(sub)
    args = p.parse_args(argv)
    if args.action == "bulletin":
        return bulletin_cli.run(args)
    if args.action in ("user", "token"):
        return web_cli.run(args)
    if args.action in signing_cli.ACTIONS:
        return signing_cli.run(args)
    readers = {**readers_cli.READERS, "purge": _purge}
    if args.action in readers:
        from hub.store import SchemaTooNewError, StoreUnavailableError

        try:
            return readers[args.action](args)
        except (SchemaTooNewError, StoreUnavailableError) as exc:
            print(f"police-kiosk hub {args.action}: {exc}", file=sys.stderr)
            return 1
    return _run(args)
