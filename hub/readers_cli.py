"""`hub export`, `hub stations`, `hub dead-letters`: read the hub's database and print JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, Final

__all__ = ["READERS", "add_parsers"]


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


def _stations(args: argparse.Namespace) -> int:
    from hub.store import open_store

    store = open_store(args.db)
    try:
        for row in store.stations():
            print(
                json.dumps(
                    {
                        "station": row.station,
                        "state": row.state,
                        "liveness": row.liveness,
                        "last_heard": row.last_heard,
                        "counter": row.counter,
                        "status_ts": row.status_ts,
                        "events": row.events,
                        "dead_letters": row.dead_letters,
                        "telemetry": row.telemetry,
                    },
                    ensure_ascii=False,
                )
            )
    finally:
        store.close()
    return 0


def _dead_letters(args: argparse.Namespace) -> int:
    from hub.store import open_store

    store = open_store(args.db)
    try:
        for d in store.dead_letters(args.limit):
            print(
                json.dumps(
                    {
                        "received_at": d.received_at,
                        "topic": d.topic,
                        "station": d.station,
                        "size": d.size,
                        "reason": d.reason,
                        "payload": d.payload.decode("utf-8", "backslashreplace"),
                    },
                    ensure_ascii=False,
                )
            )
    finally:
        store.close()
    return 0


def add_parsers(sub: Any) -> None:
    ex = sub.add_parser("export", help="print stored events as JSON lines, in per-station order")
    ex.add_argument("--db", required=True)
    ex.add_argument("--station")
    st = sub.add_parser("stations", help="print each station's state and latest telemetry")
    st.add_argument("--db", required=True)
    dl = sub.add_parser("dead-letters", help="print the latest messages the hub refused, newest first")
    dl.add_argument("--db", required=True)
    dl.add_argument("--limit", type=int, default=100)


READERS: Final[dict[str, Callable[[argparse.Namespace], int]]] = {
    "export": _export,
    "stations": _stations,
    "dead-letters": _dead_letters,
}
