"""Helpers for the Modbus driver tests: an event recorder, waits on served polls, a driver for a simulator.

No helper asserts a duration: waits are "until N more polls were served" with a generous give-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from drivers.modbus.module import InputChanged, ModbusIoEvent, ModbusIoModule
from drivers.modbus.sim import ModbusIoSimulator

E = TypeVar("E")


class Recorder:
    def __init__(self) -> None:
        self.events: list[ModbusIoEvent] = []

    def __call__(self, event: ModbusIoEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    def edges(self) -> list[tuple[int, bool]]:
        return [(e.index, e.pressed) for e in self.of(InputChanged)]


async def wait_until(predicate: Callable[[], bool], what: str, give_up: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.005)


async def wait_polls(sim: ModbusIoSimulator, count: int) -> None:
    target = sim.polls_served + count
    await wait_until(lambda: sim.polls_served >= target, f"{count} more polls")


def module_for(
    sim: ModbusIoSimulator, recorder: Callable[[ModbusIoEvent], object], **settings: object
) -> ModbusIoModule:
    assert sim.client_port is not None
    options: dict[str, object] = {
        "latch": sim.latch,
        "poll_interval": 0.02,
        "timeout": 0.1,
        "failure_threshold": 3,
        "reconnect_max": 0.2,
        **settings,
    }
    return ModbusIoModule(port=sim.client_port, on_event=recorder, **options)  # type: ignore[arg-type]
