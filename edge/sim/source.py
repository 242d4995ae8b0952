"""Simulators for the demo, the tests and the benchmarks.

`SimulatedSource` is a daemon component that emits `demo.tick` info events at a steady rate.
`police-kiosk sim events --socket PATH --count N [--rate R] [--priority P]` submits events through the
local API client like any other tool.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from typing import TYPE_CHECKING

from edge.api.client import ApiError, EdgeClient
from edge.spine.records import OutboxFullError
from edge.wire.messages import Priority

if TYPE_CHECKING:
    from edge.component.context import ComponentContext

__all__ = ["SimulatedSource", "command"]

log = logging.getLogger(__name__)


class SimulatedSource:
    name = "sim"
    critical = False

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._task: asyncio.Task[None] | None = None
        self.emitted = 0

    async def start(self, ctx: ComponentContext) -> None:
        self._task = asyncio.create_task(self._run(ctx), name="sim-source")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, ctx: ComponentContext) -> None:
        period = 1.0 / self.rate
        nxt = time.monotonic()
        while True:
            nxt += period
            try:
                await ctx.emit("demo.tick", Priority.INFO, {"n": self.emitted + 1, "note": "simulated"})
                self.emitted += 1
            except OutboxFullError:
                pass
            await asyncio.sleep(max(0.0, nxt - time.monotonic()))


async def _sim_events(args: argparse.Namespace) -> int:
    async with EdgeClient(args.socket) as client:
        sent = 0
        period = 1.0 / args.rate if args.rate > 0 else 0.0
        start = time.monotonic()
        while sent < args.count:
            n = min(args.batch, args.count - sent)
            results = await client.submit_many([("demo.tick", args.priority, {"n": sent + i + 1}) for i in range(n)])
            for r in results:
                if isinstance(r, ApiError):
                    print(f"refused: {r.message}", file=sys.stderr)
                else:
                    print(f"{r.seq} {r.id}")
            sent += n
            if period:
                await asyncio.sleep(max(0.0, start + sent * period - time.monotonic()))
    return 0


def command(name: str, argv: list[str]) -> int:
    if argv and argv[0] in {"school", "modbus"}:
        from edge.sim import school as sim_school

        return sim_school.command(name, argv)
    parser = argparse.ArgumentParser(prog="police-kiosk sim", description="Simulators: events, school, modbus.")
    sub = parser.add_subparsers(dest="what", required=True)
    ev = sub.add_parser("events", help="submit demo events through the daemon's local API")
    ev.add_argument("--socket", required=True, help="the daemon's API socket")
    ev.add_argument("--count", type=int, default=10)
    ev.add_argument("--rate", type=float, default=0.0, help="events per second (0 = as fast as possible)")
    ev.add_argument("--batch", type=int, default=1)
    ev.add_argument("--priority", choices=[p.name.lower() for p in Priority], default="info")
    args = parser.parse_args(argv)
    if args.what == "events":
        return asyncio.run(_sim_events(args))
    return 2
