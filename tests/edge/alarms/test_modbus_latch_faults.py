"""A press survives late and lost replies, for every latch kind (ModbusIoModule against pymodbus's
RTU server, our simulator, which delays or drops chosen replies after acting on the request).

What each latch kind survives (docs/alarms.md "Latch settings"):

* write_back (latch coils cleared one by one by writing OFF): a late or lost reply of any request;
* clear_coil (one "clear all" coil): the same, but a tap on another input between the read and the
  clear is lost at the module (no driver can see it);
* on_read (the module clears when the latch bits are read): a late reply of any request, a lost reply
  of any other request; a lost reply *to the latch read itself* loses the press (the last test).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from drivers.modbus.module import InputChanged, LatchClear, LatchConfig, LatchTable, LinkLost
from drivers.modbus.sim import SIM_CLEAR_COIL, ModbusIoSimulator
from tests.support.modbus import Recorder, module_for, wait_polls, wait_until

READ_COILS, READ_INPUTS, WRITE_COIL = 0x01, 0x02, 0x05
TAPPED = 2

LATCHES = {
    "write-back": LatchConfig(address=16),
    "clear-coil": LatchConfig(address=16, clear=LatchClear.CLEAR_COIL, clear_coil=SIM_CLEAR_COIL),
    "coils-clear-on-read": LatchConfig(address=16, clear=LatchClear.ON_READ),
    "inputs-clear-on-read": LatchConfig(address=8, table=LatchTable.DISCRETE_INPUTS, clear=LatchClear.ON_READ),
}


def latch_read(latch: LatchConfig) -> tuple[int, int]:
    """(function, address) of the latch read."""
    return (READ_COILS if latch.table is LatchTable.COILS else READ_INPUTS), latch.address


def lost_reply(latch: LatchConfig) -> tuple[int, int]:
    """The reply whose loss each kind must survive: the latch read's own where the module keeps the
    bit (so it is read again), else the level read that follows it in the same poll."""
    if latch.clear is LatchClear.ON_READ:
        return READ_INPUTS, 0
    return latch_read(latch)


@pytest.fixture(autouse=True)
async def _no_leftover_tasks() -> AsyncIterator[None]:
    yield
    for _ in range(3):
        await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert not left, f"tasks left running: {left}"


async def tap_through_fault(sim: ModbusIoSimulator, recorder: Recorder, arm: Callable[[], None]) -> None:
    """Arm the fault and tap an input in the same step (the next request of the faulty kind is the
    one that reads the tap); wait until the fault was applied and the tap reported."""
    await wait_polls(sim, 1)
    arm()
    sim.tap(TAPPED)
    await wait_until(lambda: sim.faults_pending() == 0, "the fault to be applied")
    await wait_until(lambda: len(recorder.edges()) >= 2, "the tap")
    await wait_polls(sim, 3)


@pytest.mark.parametrize("kind", sorted(LATCHES))
async def test_a_tap_survives_a_late_latch_reply(kind: str) -> None:
    latch = LATCHES[kind]
    recorder = Recorder()
    async with ModbusIoSimulator(port="socket://127.0.0.1:0", latch=latch) as sim:
        async with module_for(sim, recorder, timeout=0.05, late_reply_grace=2.0) as module:
            function, address = latch_read(latch)
            # well after the 50 ms timeout:
            await tap_through_fault(sim, recorder, lambda: sim.delay_replies(function, 0.3, address=address))
            assert module.link.late_replies_used >= 1
    assert recorder.edges() == [(TAPPED, True), (TAPPED, False)]
    assert all(e.latched for e in recorder.of(InputChanged))
    assert recorder.of(LinkLost) == []


@pytest.mark.parametrize("kind", sorted(LATCHES))
async def test_a_tap_survives_a_lost_reply(kind: str) -> None:
    latch = LATCHES[kind]
    recorder = Recorder()
    async with ModbusIoSimulator(port="socket://127.0.0.1:0", latch=latch) as sim:
        async with module_for(sim, recorder, timeout=0.05, late_reply_grace=0.1):
            function, address = lost_reply(latch)
            await tap_through_fault(sim, recorder, lambda: sim.drop_replies(function, address=address))
    assert recorder.edges() == [(TAPPED, True), (TAPPED, False)]


@pytest.mark.parametrize("kind", ["write-back", "clear-coil"])
async def test_a_tap_after_a_lost_clear_reply_is_reported(kind: str) -> None:
    """The clear was done but its reply lost, and the input is tapped again before the driver tries
    the clear again: the new bit must not be taken for the old, "not yet cleared" one (at least once:
    it may be reported twice, never swallowed)."""
    latch = LATCHES[kind]
    clear_address = latch.clear_coil if latch.clear_coil is not None else latch.address + TAPPED
    recorder = Recorder()
    async with ModbusIoSimulator(port="socket://127.0.0.1:0", latch=latch) as sim:
        async with module_for(sim, recorder, timeout=0.05, late_reply_grace=0.5):
            await wait_polls(sim, 1)
            sim.drop_replies(WRITE_COIL, address=clear_address)
            sim.tap(TAPPED)
            await wait_until(lambda: sim.faults_pending() == 0, "the clear whose reply is lost")
            sim.tap(TAPPED)  # while the driver still waits for that reply
            await wait_until(lambda: len(recorder.edges()) >= 4, "the second tap")
            await wait_polls(sim, 3)
            assert not sim.latched(TAPPED)
    assert recorder.edges() == [(TAPPED, True), (TAPPED, False)] * 2


async def test_clear_on_read_cannot_survive_a_lost_latch_reply() -> None:
    """The documented limit: the module forgot the press when it answered, and the answer is lost.
    This is why a site must choose write_back (or clear_coil) where the module offers it."""
    latch = LATCHES["coils-clear-on-read"]
    recorder = Recorder()
    async with ModbusIoSimulator(port="socket://127.0.0.1:0", latch=latch) as sim:
        async with module_for(sim, recorder, timeout=0.05, late_reply_grace=0.1):
            await wait_polls(sim, 1)
            sim.drop_replies(READ_COILS, address=latch.address)
            sim.tap(TAPPED)
            await wait_until(lambda: sim.faults_pending() == 0, "the fault to be applied")
            await wait_polls(sim, 5)
            assert not sim.latched(TAPPED)
    assert recorder.edges() == []


async def test_a_late_level_reply_is_not_taken_for_the_next_latch_read() -> None:
    """Inputs-table latch: the latch read and the level read are both function 02 with the same size,
    so a late level reply taken as the next latch reply would invent a press. It is used as what it
    is (the reply to the read that timed out) and nothing else is sent meanwhile."""
    latch = LATCHES["inputs-clear-on-read"]
    recorder = Recorder()
    async with ModbusIoSimulator(port="socket://127.0.0.1:0", latch=latch) as sim:
        async with module_for(sim, recorder, timeout=0.05, late_reply_grace=2.0) as module:
            await wait_polls(sim, 1)
            sim.press(5)
            await wait_until(lambda: recorder.edges() == [(5, True)], "the press")
            sim.delay_replies(READ_INPUTS, 0.3, address=0)
            await wait_until(lambda: sim.faults_pending() == 0, "the fault to be applied")
            await wait_polls(sim, 5)
            assert module.link.late_replies_used >= 1
    assert recorder.edges() == [(5, True)]


async def test_a_tap_between_the_latch_read_and_the_level_read_is_kept() -> None:
    """Inputs-table latch at 8, levels at 0: one 16-bit word. The level read must not clear the latch
    bits (only a read of the latch block does); the simulator once cleared them, which lost a tap
    landing between the two reads of a poll (the flaky "gave up waiting for tap 2")."""
    latch = LATCHES["inputs-clear-on-read"]
    recorder = Recorder()
    async with ModbusIoSimulator(port="socket://127.0.0.1:0", latch=latch) as sim:
        async with module_for(sim, recorder, timeout=0.5):
            await wait_polls(sim, 1)
            sim.delay_replies(READ_INPUTS, 0.1, address=latch.address)  # holds the poll after the latch read
            await wait_until(lambda: sim.faults_pending() == 0, "the latch read")
            sim.tap(TAPPED)  # the latch read is done, the level read is not sent yet
            await wait_until(lambda: len(recorder.edges()) >= 2, "the tap")
            await wait_polls(sim, 3)
    assert recorder.edges() == [(TAPPED, True), (TAPPED, False)]
