"""Component tests: ModbusIoModule against pymodbus's real RTU server (our simulator) over a pty
pair and over socket://127.0.0.1, and against a scripted device that sends faults on purpose.

No test asserts a duration: waits are "until N more polls were served" with a generous give-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from drivers.modbus.module import (
    InputChanged,
    LatchClear,
    LatchConfig,
    LatchTable,
    LinkLost,
    LinkRestored,
    ModbusIoConfigError,
    ModbusIoEvent,
    ModbusIoModule,
    OutputWriteError,
    PulsePattern,
    with_crc,
)
from drivers.modbus.sim import SIM_CLEAR_COIL, SIM_LATCH, ModbusIoSimulator, run_simulator
from tests.support.modbus import Recorder, module_for, wait_polls, wait_until

READ_8_INPUTS = bytes.fromhex("01 02 00 00 00 08 79 CC")
COIL_0_ON = bytes.fromhex("01 05 00 00 FF 00 8C 3A")


@pytest.fixture(autouse=True)
async def _no_leftover_tasks() -> AsyncIterator[None]:
    yield
    for _ in range(3):
        await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert not left, f"tasks left running: {left}"


@pytest.fixture(params=["pty", "socket"])
def transport(request: pytest.FixtureRequest) -> str:
    return "pty" if request.param == "pty" else "socket://127.0.0.1:0"


async def test_press_is_reported_exactly_once(transport: str) -> None:
    recorder = Recorder()
    async with ModbusIoSimulator(port=transport, latch=None) as sim, module_for(sim, recorder) as module:
        await wait_polls(sim, 2)
        sim.press(0)
        await wait_until(lambda: recorder.edges() != [], "the press")
        await wait_polls(sim, 5)
        assert recorder.edges() == [(0, True)]
        assert module.pressed(0)
        sim.release(0)
        await wait_until(lambda: len(recorder.edges()) == 2, "the release")
        await wait_polls(sim, 5)
        assert recorder.edges() == [(0, True), (0, False)]
        assert recorder.of(LinkLost) == []
        assert module.available


async def test_tap_shorter_than_the_poll_is_reported_by_a_latching_module(transport: str) -> None:
    recorder = Recorder()
    async with ModbusIoSimulator(port=transport) as sim, module_for(sim, recorder, poll_interval=0.1):
        await wait_polls(sim, 1)
        sim.tap(3)  # press and release with no poll in between
        await wait_until(lambda: len(recorder.edges()) == 2, "the tap")
        await wait_polls(sim, 3)
        taps = recorder.of(InputChanged)
        assert [(e.index, e.pressed, e.latched) for e in taps] == [(3, True, True), (3, False, True)]
        assert not sim.latched(3)  # the driver cleared the latch bit over the wire


async def test_tap_is_invisible_to_a_non_latching_module() -> None:
    """The documented limit: without a latch, the poll must be shorter than the press."""
    recorder = Recorder()
    async with ModbusIoSimulator(port="socket://127.0.0.1:0", latch=None) as sim, module_for(sim, recorder):
        await wait_polls(sim, 1)
        sim.tap(3)
        await wait_polls(sim, 3)
        assert recorder.events == []


@pytest.mark.parametrize(
    "latch",
    [
        LatchConfig(address=16, clear=LatchClear.CLEAR_COIL, clear_coil=SIM_CLEAR_COIL),
        LatchConfig(address=16, clear=LatchClear.ON_READ),
        LatchConfig(address=8, table=LatchTable.DISCRETE_INPUTS, clear=LatchClear.ON_READ),
    ],
    ids=["clear-coil", "coils-clear-on-read", "inputs-clear-on-read"],
)
async def test_latch_variants_report_every_tap(latch: LatchConfig) -> None:
    recorder = Recorder()
    async with ModbusIoSimulator(port="socket://127.0.0.1:0", latch=latch) as sim, module_for(sim, recorder):
        for round_ in range(1, 3):
            await wait_polls(sim, 1)
            sim.tap(round_)
            wanted = 2 * round_
            await wait_until(lambda: len(recorder.edges()) >= wanted, f"tap {round_}")  # noqa: B023
        await wait_polls(sim, 3)
        assert recorder.edges() == [(1, True), (1, False), (2, True), (2, False)]


async def test_outputs_and_patterns_reach_the_module(transport: str) -> None:
    recorder = Recorder()
    async with ModbusIoSimulator(port=transport) as sim, module_for(sim, recorder) as module:
        await wait_polls(sim, 1)
        await module.set_output(5, True)
        assert sim.coil(5)
        await module.set_output(5, False)
        assert not sim.coil(5)
        module.start_pattern(1, PulsePattern(on=0.03, off=0.03, cycles=2))
        await wait_until(lambda: not module.pattern_running(1), "the pattern to finish")
        # The pattern keeps its phase on the clock: a slow write (a loaded host) may skip a whole cycle,
        # so the writes alternate from on and end off, two cycles at most.
        pattern_writes = [on for index, on in sim.coil_writes if index == 1]
        assert pattern_writes in ([True, False], [True, False, True, False])
        module.start_pattern(2, PulsePattern(on=10, off=10))
        await wait_until(lambda: sim.coil(2), "the strobe to switch on")
        await module.stop_pattern(2)
        assert not sim.coil(2)
        assert not module.pattern_running(2)
        with pytest.raises(ModbusIoConfigError, match="output index"):
            await module.set_output(8, True)


async def test_link_lost_once_and_restored_once(transport: str) -> None:
    recorder = Recorder()
    async with ModbusIoSimulator(port=transport) as sim, module_for(sim, recorder) as module:
        await wait_polls(sim, 2)
        await sim.stop()  # the module is unplugged
        await wait_until(lambda: recorder.of(LinkLost) != [], "LinkLost")
        await wait_until(lambda: module.consecutive_failures >= 8, "more failed polls")
        assert not module.available
        with pytest.raises(OutputWriteError):
            await module.set_output(4, True)  # remembered, written again when the link returns
        sim.tap(2)  # a press during the outage is latched by the module
        await sim.start()
        await wait_until(lambda: recorder.of(LinkRestored) != [], "LinkRestored")
        await wait_polls(sim, 5)
        assert len(recorder.of(LinkLost)) == 1
        assert len(recorder.of(LinkRestored)) == 1
        kinds = [type(e).__name__ for e in recorder.events]
        assert kinds == ["LinkLost", "LinkRestored", "InputChanged", "InputChanged"]
        assert recorder.edges() == [(2, True), (2, False)]
        assert sim.coil(4)
        assert module.available


class ScriptedDevice:
    """A TCP peer speaking RTU that answers input polls from a script (None: stay silent)."""

    def __init__(self, poll_replies: list[bytes | None], *, coil_reply: bytes | None = None) -> None:
        self.poll_replies = poll_replies
        self.coil_reply = coil_reply
        self.requests: list[bytes] = []
        self.after_script = with_crc(bytes.fromhex("01 02 01 01"))  # input 0 pressed
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"socket://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                request = await reader.readexactly(8)
                self.requests.append(request)
                if request[1] == 0x05:
                    writer.write(self.coil_reply or request)
                    continue
                reply = self.poll_replies.pop(0) if self.poll_replies else self.after_script
                for byte in reply or b"":  # one byte at a time: the reply arrives split
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(0.001)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def test_faults_on_the_wire_are_failed_polls_not_crashes() -> None:
    pressed = with_crc(bytes.fromhex("01 02 01 01"))
    bad_crc = pressed[:-1] + bytes([pressed[-1] ^ 0xFF])
    exception = with_crc(bytes.fromhex("01 82 02"))  # illegal data address
    device = ScriptedDevice([bad_crc, exception, b"\x00\xff\x55" + pressed, None, None, exception, pressed])
    recorder = Recorder()
    async with device as port:
        module = ModbusIoModule(port=port, on_event=recorder, poll_interval=0.02, timeout=0.1, failure_threshold=3)
        async with module:
            await wait_until(lambda: recorder.of(LinkRestored) != [], "LinkRestored")
            assert device.requests[0] == READ_8_INPUTS  # golden frame on the wire
            await module.set_output(0, True)
            assert device.requests[-1] == COIL_0_ON  # golden frame on the wire
            device.coil_reply = with_crc(bytes.fromhex("01 85 04"))
            with pytest.raises(OutputWriteError, match="exception code 4"):
                await module.set_output(0, True)
    assert recorder.events[0] == InputChanged(1, 0, True, recorder.events[0].at)  # noise was skipped
    lost, restored = recorder.of(LinkLost), recorder.of(LinkRestored)
    assert len(lost) == 1
    assert len(restored) == 1
    assert lost[0].failures == 3
    assert "exception reply 2" in lost[0].reason
    assert recorder.edges() == [(0, True)]


async def test_run_simulator_serves_until_cancelled() -> None:
    ready: asyncio.Future[ModbusIoSimulator] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_simulator(port="socket://127.0.0.1:0", on_ready=ready.set_result))
    sim = await ready
    recorder = Recorder()
    async with module_for(sim, recorder, latch=SIM_LATCH):
        assert sim.command("press 1") == "ok: press 1"
        await wait_until(lambda: recorder.edges() == [(1, True)], "the console press")
        assert sim.command("status") == "inputs 01000000 latched 00000000 coils 00000000"
        assert sim.command("press 9").startswith("error")
        assert sim.command("hello").startswith("commands:")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not sim.running


async def test_a_bug_in_a_poll_or_in_the_consumer_does_not_stop_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()

    def fragile_consumer(event: ModbusIoEvent) -> None:
        recorder(event)
        raise RuntimeError("consumer bug")

    async with ModbusIoSimulator(port="socket://127.0.0.1:0", latch=None) as sim:
        async with module_for(sim, fragile_consumer) as module:
            await wait_polls(sim, 1)

            async def broken_read(*_args: object) -> list[bool]:
                raise ZeroDivisionError

            with monkeypatch.context() as patch:
                patch.setattr(module, "_read_bits", broken_read)
                await wait_until(lambda: recorder.of(LinkLost) != [], "LinkLost from the bug")
            await wait_until(lambda: recorder.of(LinkRestored) != [], "LinkRestored")
            sim.press(6)
            await wait_until(lambda: recorder.edges() == [(6, True)], "the press after both bugs")
    assert recorder.of(LinkLost)[0].reason == "unexpected error while polling"
