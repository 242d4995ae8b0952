"""The siren and strobe patterns the policy names drive the relays (ModbusBank against pymodbus's RTU
server, our simulator); steady stays one coil write; a new alarm starts a finished pattern again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from drivers.modbus.module import PulsePattern
from drivers.modbus.sim import ModbusIoSimulator
from edge.alarms.incidents import IncidentBook, Source, Targets
from edge.alarms.outputs import PATTERNS, ModbusBank, OutputState, SirenPolicy
from edge.config.alarms import AlarmsSection, ModbusModuleSection, SirenSection
from tests.support.modbus import wait_until

SIREN, STROBE = 0, 1


@pytest.fixture
async def sim() -> AsyncIterator[ModbusIoSimulator]:
    async with ModbusIoSimulator(port="socket://127.0.0.1:0") as simulator:
        yield simulator


@pytest.fixture
async def bank(sim: ModbusIoSimulator) -> AsyncIterator[ModbusBank]:
    assert sim.client_port is not None
    module = ModbusModuleSection(
        name="gate-io",
        port=sim.client_port,
        siren_coil=SIREN,
        strobe_coil=STROBE,
        latch_address=16,
        poll_interval_s=0.02,
        timeout_s=0.2,
    )
    outputs = ModbusBank([module], on_event=lambda _cfg, _event: None)
    await outputs.start()
    try:
        yield outputs
    finally:
        await outputs.stop()


def writes(sim: ModbusIoSimulator, coil: int) -> list[bool]:
    return [on for index, on in sim.coil_writes if index == coil]


def test_the_policy_names_the_configured_patterns() -> None:
    book = IncidentBook(targets=Targets())
    book.raise_alarm(kind="panic", source=Source(kind="manual", site="站前广场"), now=0.0)
    policy = SirenPolicy(SirenSection(siren_pattern="bursts", strobe_pattern="pulse"))
    assert policy.wanted(book) == OutputState(siren=True, strobe=True, siren_pattern="bursts", strobe_pattern="pulse")
    policy.manual = False
    assert policy.wanted(book) == OutputState(siren_pattern="bursts", strobe_pattern="pulse")
    assert SirenPolicy(SirenSection()).wanted(book) == OutputState(siren=True, strobe=True)  # steady by default


def test_config_refuses_unknown_patterns_and_inconsistent_latch_settings() -> None:
    with pytest.raises(ValueError, match="siren_pattern"):
        AlarmsSection.model_validate({"siren": {"siren_pattern": "wail"}})
    with pytest.raises(ValueError, match="write_back needs latch_table = coils"):
        ModbusModuleSection(name="m", port="/dev/null", latch_address=8, latch_table="discrete_inputs")
    with pytest.raises(ValueError, match="latch_clear_coil is required"):
        ModbusModuleSection(name="m", port="/dev/null", latch_address=16, latch_clear="clear_coil")


async def test_pulse_and_burst_patterns_drive_the_relays(sim: ModbusIoSimulator, bank: ModbusBank) -> None:
    bank.want(OutputState(siren=True, strobe=True, siren_pattern="bursts", strobe_pattern="pulse"))
    await wait_until(lambda: writes(sim, STROBE)[:4] == [True, False, True, False], "two strobe flashes")
    await wait_until(lambda: writes(sim, SIREN)[:3] == [True, False, True], "a siren burst and the next")
    module = bank.modules["gate-io"]
    assert module.pattern_running(SIREN)
    assert module.pattern_running(STROBE)
    bank.want(OutputState(siren_pattern="bursts", strobe_pattern="pulse"))  # every incident acknowledged
    await wait_until(
        lambda: not module.pattern_running(SIREN) and not module.pattern_running(STROBE), "the patterns to stop"
    )
    await wait_until(lambda: not sim.coil(SIREN) and not sim.coil(STROBE), "both relays off")


async def test_steady_is_one_write_and_no_pattern(sim: ModbusIoSimulator, bank: ModbusBank) -> None:
    bank.want(OutputState(siren=True, strobe=True))
    await wait_until(lambda: sim.coil(SIREN) and sim.coil(STROBE), "both relays on")
    await asyncio.sleep(0.3)
    assert writes(sim, SIREN) == [True]
    assert writes(sim, STROBE) == [True]
    assert not bank.modules["gate-io"].pattern_running(SIREN)


async def test_a_new_alarm_starts_a_finished_pattern_again(
    sim: ModbusIoSimulator, bank: ModbusBank, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(PATTERNS, "bursts", PulsePattern(on=0.05, off=0.05, cycles=2))
    state = OutputState(siren=True, siren_pattern="bursts")
    bank.want(state)
    module = bank.modules["gate-io"]
    await wait_until(lambda: len(writes(sim, SIREN)) == 4 and not module.pattern_running(SIREN), "two bursts")
    bank.want(state)  # nothing new: the finished pattern stays finished
    await asyncio.sleep(0.2)
    assert len(writes(sim, SIREN)) == 4
    bank.want(state, retrigger=True)  # a new alarm or an escalation
    await wait_until(lambda: len(writes(sim, SIREN)) == 8 and not module.pattern_running(SIREN), "two more bursts")
