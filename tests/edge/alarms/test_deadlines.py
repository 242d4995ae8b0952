"""Escalation deadlines run on a monotonic clock: a wall-clock step (NTP, a hand-set clock) neither
fires them early nor holds them back, and a restart keeps the time left (less the time the box was off).

The engine is tested with fake clocks; the component with an injected wall clock that steps while the
loop timer runs on the real monotonic clock.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from edge.alarms.component import AlarmComponent
from edge.alarms.incidents import Budget, IncidentBook, Source, Targets
from edge.config.alarms import AlarmsSection
from tests.support.context import FakeContext

T0 = 1_800_000_000.0  # wall clock (epoch seconds)
M0 = 5_000.0  # monotonic clock (seconds since boot)
HOUR = 3600.0
GATE = Source(kind="dc09", site="阳光小学", account="1234", zone=1)


def book() -> IncidentBook:
    return IncidentBook(targets=Targets(respond_s=60, arrive_s=180, resolve_s=300))


def targets_of(changes: list[Any]) -> list[str]:
    return [c.target for c in changes]


# ---- the engine, with fake clocks -------------------------------------------------------------------
@pytest.mark.parametrize("step", [+HOUR, -HOUR, +30 * 24 * HOUR])
def test_a_wall_clock_step_does_not_move_the_deadlines(step: float) -> None:
    b = book()
    b.raise_alarm(kind="panic", source=GATE, now=T0, mono=M0)
    wall = T0 + 1 + step  # one second later, after the step
    assert b.due(wall, mono=M0 + 1) == []
    assert b.seconds_to_next_due(now=wall, mono=M0 + 1) == pytest.approx(59)
    assert b.due(wall + 58, mono=M0 + 59) == []
    escalated = b.due(wall + 59, mono=M0 + 60)
    assert targets_of(escalated) == ["respond"]
    assert escalated[0].at == wall + 59  # stamped with the wall clock, decided on the monotonic one
    assert escalated[0].detail.endswith("(0 s late)")
    assert targets_of(b.due(wall + 119, mono=M0 + 180)) == ["arrive"]


def test_an_incident_raised_without_mono_is_anchored_by_the_next_call() -> None:
    b = book()
    b.raise_alarm(kind="panic", source=GATE, now=T0)  # e.g. the local API: no monotonic reading
    b.anchor(now=T0, mono=M0)
    assert b.due(T0 + HOUR, mono=M0 + 30) == []
    assert targets_of(b.due(T0 - HOUR, mono=M0 + 60)) == ["respond"]


def test_budgets_carry_the_time_left_over_a_restart() -> None:
    b = book()
    inc = b.raise_alarm(kind="panic", source=GATE, now=T0, mono=M0).incident
    saved = b.budgets(now=T0 + 10, mono=M0 + 10)
    assert saved == {inc.id: Budget(at=T0 + 10, respond=50, arrive=170, resolve=290)}
    # the box is off for 30 s; after the reboot the monotonic clock starts again near 0
    resumed = IncidentBook(targets=b.targets, incidents=[inc])
    resumed.anchor(now=T0 + 40, mono=2.0, budgets=saved)
    assert resumed.seconds_to_next_due(now=T0 + 40, mono=2.0) == pytest.approx(20)
    assert resumed.due(T0 + 59, mono=21.0) == []
    assert targets_of(resumed.due(T0 + 60, mono=22.0)) == ["respond"]


def test_a_box_off_longer_than_a_target_escalates_it_at_once_on_start() -> None:
    b = book()
    inc = b.raise_alarm(kind="panic", source=GATE, now=T0, mono=M0).incident
    saved = b.budgets(now=T0 + 10, mono=M0 + 10)
    resumed = IncidentBook(targets=b.targets, incidents=[inc])
    resumed.anchor(now=T0 + 110, mono=1.0, budgets=saved)  # off for 100 s: respond (50 s left) passed
    escalated = resumed.due(T0 + 110, mono=1.0)
    assert targets_of(escalated) == ["respond"]
    assert escalated[0].detail.endswith("(50 s late)")
    assert resumed.seconds_to_next_due(now=T0 + 110, mono=1.0) == pytest.approx(70)  # arrive: 170 - 100


def test_a_wall_clock_that_went_back_while_off_counts_as_no_time_off() -> None:
    b = book()
    inc = b.raise_alarm(kind="panic", source=GATE, now=T0, mono=M0).incident
    saved = b.budgets(now=T0 + 10, mono=M0 + 10)
    resumed = IncidentBook(targets=b.targets, incidents=[inc])
    resumed.anchor(now=T0 - HOUR, mono=1.0, budgets=saved)
    assert resumed.seconds_to_next_due(now=T0 - HOUR, mono=1.0) == pytest.approx(50)


def test_without_a_saved_budget_the_wall_clock_deadlines_are_used() -> None:
    """A snapshot written before budgets existed: the time left is the wall-clock deadline less now."""
    b = book()
    inc = b.raise_alarm(kind="panic", source=GATE, now=T0).incident
    resumed = IncidentBook(targets=b.targets, incidents=[inc])
    resumed.anchor(now=T0 + 20, mono=1.0, budgets={})
    assert resumed.seconds_to_next_due(now=T0 + 20, mono=1.0) == pytest.approx(40)


def test_met_and_closed_targets_have_no_budget_or_timer() -> None:
    b = book()
    inc = b.raise_alarm(kind="panic", source=GATE, now=T0, mono=M0).incident
    b.dispatch(inc.id, now=T0 + 5)
    assert b.seconds_to_next_due(now=T0 + 5, mono=M0 + 5) == pytest.approx(175)
    b.close(inc.id, outcome="test", now=T0 + 6)
    assert b.seconds_to_next_due(now=T0 + 6, mono=M0 + 6) is None
    assert b.budgets(now=T0 + 6, mono=M0 + 6) == {}


# ---- the component, with a wall clock that steps -------------------------------------------------------
class SteppingWallClock:
    """time.time() plus an offset the test changes (an NTP step)."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def __call__(self) -> float:
        return time.time() + self.offset


def component(wall: SteppingWallClock, targets: dict[str, float], monotonic: Any = time.monotonic) -> AlarmComponent:
    config = AlarmsSection.model_validate({"enabled": True, "dc09": None, "targets": targets})
    return AlarmComponent(config, clock=wall, monotonic=monotonic)


def escalations(daemon: FakeContext) -> list[str]:
    return [p["target"] for t, p in daemon.published if t == "incidents" and p.get("change") == "escalated"]


async def settle(predicate: Any, what: str) -> None:
    for _ in range(1000):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.mark.parametrize("step", [+HOUR, -HOUR])
async def test_the_component_escalates_on_time_whatever_the_wall_clock_does(tmp_path: Path, step: float) -> None:
    """Forward: the old wall-clock timer fired every target at once. Back: it held them for an hour."""
    wall = SteppingWallClock()
    daemon = FakeContext(tmp_path)
    comp = component(wall, {"respond_s": 0.3, "arrive_s": 600, "resolve_s": 900})
    await comp.start(daemon)
    try:
        await daemon.call("incidents.raise", {"site": "站前广场"})
        wall.offset += step
        await settle(lambda: escalations(daemon), "the respond escalation")
        await asyncio.sleep(0.05)  # one more loop turn for anything escalated with it
        assert escalations(daemon) == ["respond"]
    finally:
        await comp.stop()


async def test_the_component_resumes_the_time_left_after_a_restart(tmp_path: Path) -> None:
    wall = SteppingWallClock()
    daemon = FakeContext(tmp_path)
    comp = component(wall, {"respond_s": 60, "arrive_s": 600, "resolve_s": 900})
    await comp.start(daemon)
    inc = await daemon.call("incidents.raise", {"site": "站前广场"})
    await comp.stop()
    # The box is off for 120 s (respond was due after 60) and its monotonic clock restarts near 0.
    wall.offset += 120
    daemon2 = FakeContext(tmp_path)
    boot = time.monotonic()
    comp2 = component(
        wall, {"respond_s": 60, "arrive_s": 600, "resolve_s": 900}, monotonic=lambda: time.monotonic() - boot
    )
    await comp2.start(daemon2)
    try:
        await settle(lambda: escalations(daemon2), "the escalation missed while off")
        assert escalations(daemon2) == ["respond"]
        assert comp2.book.get(inc["id"]).missed == ["respond"]
        left = comp2.book.seconds_to_next_due(now=wall(), mono=comp2.mono())
        assert left is not None
        assert 400 < left < 480  # arrive: 600 s less the 120 s off (and this test's own run time)
    finally:
        await comp2.stop()


async def test_a_restart_after_the_wall_clock_went_back_keeps_the_full_time_left(tmp_path: Path) -> None:
    wall = SteppingWallClock()
    daemon = FakeContext(tmp_path)
    comp = component(wall, {"respond_s": 60, "arrive_s": 600, "resolve_s": 900})
    await comp.start(daemon)
    await daemon.call("incidents.raise", {"site": "站前广场"})
    await comp.stop()
    wall.offset -= HOUR  # the RTC lost an hour while the box was off
    daemon2 = FakeContext(tmp_path)
    comp2 = component(wall, {"respond_s": 60, "arrive_s": 600, "resolve_s": 900})
    await comp2.start(daemon2)
    try:
        left = comp2.book.seconds_to_next_due(now=wall(), mono=comp2.mono())
        assert left is not None
        assert 30 < left <= 60
        assert escalations(daemon2) == []
    finally:
        await comp2.stop()
