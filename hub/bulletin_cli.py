"""`police-kiosk hub bulletin --week 2026-W49 [--push]`, and the hub's weekly bulletin schedule.

`hub bulletin` prints each area's bulletin of a week as JSON lines; with `--push` it also queues it for
the area's kiosks (`hub.outbound`): the running hub, which holds the signing key, signs and sends it.
`hub run --bulletin-at "mon 08:00" --bulletin-tz Asia/Shanghai` sends last week's bulletins of every
area at that local time each week (`off`: never); while it runs, its zone is also the one the console
and this command use for weeks (kept in `console_meta`; otherwise Asia/Shanghai, or `--tz`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from hub.bulletin_desk import Schedule

__all__ = ["add_parsers", "add_run_options", "run", "start_schedule"]

log = logging.getLogger(__name__)
CHECK_S = 60.0  # how often the running hub looks whether the weekly moment has passed


def _zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown time zone {text!r}") from None
    return text


def _moment(text: str) -> str:
    from hub.bulletin_desk import Schedule

    if text != "off":
        try:
            Schedule.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bulletin-at",
        type=_moment,
        default="mon 08:00",
        help="when last week's bulletins go to the kiosks, local time (default 'mon 08:00'; 'off': never)",
    )
    parser.add_argument("--bulletin-tz", type=_zone, default="Asia/Shanghai", help="the stations' time zone")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    b = sub.add_parser("bulletin", help="the weekly incident bulletin per area: print it, or --push it to kiosks")
    b.add_argument("--db", required=True, help="the hub's database URL")
    b.add_argument("--week", help="ISO week, e.g. 2026-W49 (default: last week)")
    b.add_argument("--area", action="append", help="only this area (a district, or a station id); repeatable")
    b.add_argument("--tz", type=_zone, help="time zone of the weeks (default: the running hub's --bulletin-tz)")
    b.add_argument("--push", action="store_true", help="queue it for the area's kiosks; the hub signs and sends it")


def run(args: argparse.Namespace) -> int:
    import msgspec

    from hub.bulletin import Week
    from hub.bulletin_desk import desk_for
    from hub.web.console import prepare_database
    from hub.web.db import Db

    try:
        prepare_database(args.db)
        db = Db(args.db)
    except Exception as exc:  # noqa: BLE001 - any driver error: say which database and exit non-zero
        print(f"police-kiosk hub bulletin: cannot open database {args.db!r}: {exc}", file=sys.stderr)
        return 1
    try:
        desk = desk_for(db, args.tz)
        week = args.week or str(Week.of(time.time(), desk.tz).shifted(-1))
        Week.parse(week)
        areas = desk.areas()
        chosen = args.area or sorted(areas)
        unknown = [a for a in chosen if a not in areas]
        if unknown:
            print(f"police-kiosk hub bulletin: no stations in area(s) {', '.join(unknown)}", file=sys.stderr)
            return 2
        for area in chosen:
            print(json.dumps(msgspec.to_builtins(desk.build(week, area, areas[area])), ensure_ascii=False))
            if args.push:
                sent = desk.push(week, area, by="cli")
                print(
                    f"queued for {len(sent.stations)} station(s) of {area}: {', '.join(sent.stations)}", file=sys.stderr
                )
    except ValueError as exc:
        print(f"police-kiosk hub bulletin: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0


def start_schedule(args: argparse.Namespace, stop: threading.Event) -> threading.Thread | None:
    """The weekly sending, in a thread of the running hub until `stop` is set (None when off)."""
    if args.bulletin_at == "off":
        return None
    from hub.bulletin_desk import Schedule

    schedule = Schedule.parse(args.bulletin_at, args.bulletin_tz)
    thread = threading.Thread(target=_schedule_loop, args=(args.db, schedule, stop), name="bulletin", daemon=True)
    thread.start()
    return thread


def _schedule_loop(db_url: str, schedule: Schedule, stop: threading.Event) -> None:
    from hub.bulletin_desk import desk_for
    from hub.web.console import prepare_database
    from hub.web.db import Db

    db: Db | None = None
    failing = False
    while True:
        try:
            if db is None:
                prepare_database(db_url)
                db = Db(db_url)
                db.run(
                    "INSERT INTO console_meta VALUES ('bulletin_tz', ?) ON CONFLICT (name) DO UPDATE "
                    "SET value=excluded.value",
                    (schedule.tz,),
                )
            week = desk_for(db, schedule.tz).run_schedule(schedule)
            if week is not None:
                log.info("weekly bulletins of %s queued for every area", week)
            failing = False
        except Exception:  # a database hiccup must not end the schedule: say so once, try again
            if not failing:
                log.warning("weekly bulletin: sending failed; retrying", exc_info=True)
            failing = True
            if db is not None:
                db.close()
                db = None
        if stop.wait(CHECK_S):
            break
    if db is not None:
        db.close()
