"""Payloads of the simulators and the test tools: `demo.tick` and `test.probe`.

Not part of the product's contract: a daemon accepts them only when its configuration says so
(`[sim] test_events = true`, or a simulated source with `[sim] rate > 0`). Importing this module
registers them.
"""

from __future__ import annotations

import msgspec

from edge.wire import payloads

__all__ = ["DemoTick", "LoadTest"]


class DemoTick(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A simulated event source's heartbeat (demo, tests, benchmarks)."""

    n: int
    note: str = ""
    pad: str = ""  # filler to give benchmark events a realistic size


class LoadTest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Synthetic alarm-priority probe used by fault tests and benchmarks (never a real alarm)."""

    n: int
    sent_ns: int = 0
    pad: str = ""


payloads.register("demo.tick", DemoTick)
payloads.register("test.probe", LoadTest)
