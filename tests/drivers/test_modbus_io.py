"""Unit tests of the sans-IO Modbus I/O logic: CRC golden vectors, reply resync, input edges,
debounce, latches, link state and pulse patterns, all with a fake clock (plain floats).

Component tests against the real pymodbus server are in tests/edge/alarms/test_modbus_component.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU
from pymodbus.pdu.bit_message import ReadDiscreteInputsRequest, WriteSingleCoilRequest

from drivers.modbus.logic import rtu_reply_size
from drivers.modbus.module import (
    InputChanged,
    InputTracker,
    LatchClear,
    LatchConfig,
    LatchTable,
    LinkLost,
    LinkMonitor,
    LinkRestored,
    ModbusIoConfigError,
    ModbusIoError,
    PulsePattern,
    crc16_modbus,
    crc_ok,
    find_reply,
    with_crc,
)

READ_8_INPUTS = bytes.fromhex("01 02 00 00 00 08 79 CC")
COIL_0_ON = bytes.fromhex("01 05 00 00 FF 00 8C 3A")


# --------------------------------------------------------------------------- CRC golden vectors


@pytest.mark.parametrize("frame", [READ_8_INPUTS, COIL_0_ON])
def test_crc_golden_frames(frame: bytes) -> None:
    assert with_crc(frame[:-2]) == frame
    assert crc_ok(frame)
    assert crc16_modbus(frame[:-2]) == int.from_bytes(frame[-2:], "little")


def test_crc_rejects_a_flipped_bit() -> None:
    assert not crc_ok(READ_8_INPUTS[:3] + bytes([READ_8_INPUTS[3] ^ 0x10]) + READ_8_INPUTS[4:])
    assert not crc_ok(b"\x01\x02")


def test_pymodbus_builds_the_golden_frames() -> None:
    """The library we drive puts exactly the protocols.md bytes on the wire."""
    framer = FramerRTU(DecodePDU(False))
    assert framer.buildFrame(ReadDiscreteInputsRequest(address=0, count=8, dev_id=1)) == READ_8_INPUTS
    assert framer.buildFrame(WriteSingleCoilRequest(address=0, bits=[True], dev_id=1)) == COIL_0_ON


@given(st.binary(min_size=2, max_size=64))
def test_crc_agrees_with_pymodbus_and_detects_single_bit_errors(data: bytes) -> None:
    swapped = FramerRTU.compute_CRC(data)  # pymodbus returns it byte-swapped (wire order)
    assert crc16_modbus(data) == ((swapped >> 8) | ((swapped & 0xFF) << 8))
    frame = with_crc(data)
    assert crc_ok(frame)
    for bit in range(len(frame) * 8):
        corrupted = bytearray(frame)
        corrupted[bit // 8] ^= 1 << (bit % 8)
        assert not crc_ok(bytes(corrupted))


# --------------------------------------------------------------------------- reply resync


def replies() -> st.SearchStrategy[bytes]:
    bits = st.binary(min_size=1, max_size=4).map(lambda d: with_crc(bytes([1, 2, len(d)]) + d))
    coils = st.binary(min_size=1, max_size=4).map(lambda d: with_crc(bytes([1, 1, len(d)]) + d))
    echo = st.sampled_from([COIL_0_ON, with_crc(bytes.fromhex("01 05 00 03 00 00"))])
    error = st.sampled_from([0x81, 0x82, 0x85]).flatmap(
        lambda fc: st.integers(1, 11).map(lambda code: with_crc(bytes([1, fc, code])))
    )
    return st.one_of(bits, coils, echo, error)


#: Noise that cannot start a frame for unit 1 (so the only valid frame is the one we put in).
noise = st.binary(max_size=12).map(lambda b: bytes(x for x in b if x != 1))


@given(noise, replies(), st.data())
def test_find_reply_skips_noise_and_waits_for_split_frames(prefix: bytes, reply: bytes, data: st.DataObject) -> None:
    stream = prefix + reply
    cut = data.draw(st.integers(0, len(stream) - 1), label="bytes received so far")
    assert find_reply(stream[:cut], unit=1) is None  # incomplete: wait for more
    assert find_reply(stream, unit=1) == reply
    assert find_reply(stream + b"\x00\x01\x02", unit=1) == reply  # merged with trailing bytes
    assert find_reply(stream, unit=2) is None  # another unit's reply is not ours


@given(noise, replies(), st.data())
def test_find_reply_never_returns_a_corrupted_frame(prefix: bytes, reply: bytes, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(reply) - 1))
    flip = data.draw(st.integers(1, 255))
    corrupted = bytearray(reply)
    corrupted[index] ^= flip
    found = find_reply(prefix + bytes(corrupted), unit=1)
    assert found is None or (crc_ok(found) and found != bytes(corrupted))


def test_reply_sizes() -> None:
    assert rtu_reply_size(bytes.fromhex("01 02 01")) == 6
    assert rtu_reply_size(bytes.fromhex("01 82")) == 5
    assert rtu_reply_size(bytes.fromhex("01 05")) == 8
    assert rtu_reply_size(bytes.fromhex("01 02")) is None
    assert rtu_reply_size(bytes.fromhex("01 2b 00")) is None


# --------------------------------------------------------------------------- edges and debounce


def edges(events: list[InputChanged]) -> list[tuple[int, bool]]:
    return [(e.index, e.pressed) for e in events]


def levels(*pressed: int, count: int = 8) -> list[bool]:
    return [i in pressed for i in range(count)]


def test_press_and_release_are_reported_once() -> None:
    tracker = InputTracker(unit=3, count=8)
    assert tracker.update(levels=levels(), now=0.0) == []
    assert tracker.update(levels=levels(2), now=0.05) == [InputChanged(3, 2, True, 0.05)]
    assert tracker.update(levels=levels(2), now=0.10) == []
    assert tracker.update(levels=levels(), now=0.15) == [InputChanged(3, 2, False, 0.15)]
    assert tracker.update(levels=levels(), now=0.20) == []
    assert not tracker.pressed(2)


def test_input_pressed_at_start_is_reported() -> None:
    tracker = InputTracker(unit=1, count=8)
    assert edges(tracker.update(levels=levels(0, 7), now=0.0)) == [(0, True), (7, True)]


def test_debounce_ignores_blips_and_dates_the_press_when_first_seen() -> None:
    tracker = InputTracker(unit=1, count=8, debounce=0.1)
    assert tracker.update(levels=levels(1), now=0.00) == []
    assert tracker.update(levels=levels(), now=0.05) == []  # a 50 ms blip: never reported
    assert tracker.update(levels=levels(1), now=0.10) == []
    assert tracker.update(levels=levels(1), now=0.15) == []
    assert tracker.update(levels=levels(1), now=0.20) == [InputChanged(1, 1, True, 0.10)]
    assert tracker.update(levels=levels(), now=0.25) == []
    assert tracker.update(levels=levels(), now=0.35) == [InputChanged(1, 1, False, 0.25)]


def test_normally_closed_inputs_are_inverted() -> None:
    tracker = InputTracker(unit=1, count=8, normally_closed=frozenset({4}))
    assert tracker.update(levels=levels(4), now=0.0) == []  # closed loop: not pressed
    assert edges(tracker.update(levels=levels(), now=0.1)) == [(4, True)]  # loop opened


def test_short_snapshot_is_a_typed_error() -> None:
    tracker = InputTracker(unit=1, count=8)
    with pytest.raises(ModbusIoError):
        tracker.update(levels=[False] * 4, now=0.0)
    with pytest.raises(ModbusIoError):
        tracker.update(levels=levels(), latched=[False], now=0.0)


def test_bad_settings_name_the_setting() -> None:
    with pytest.raises(ModbusIoConfigError, match="debounce"):
        InputTracker(unit=1, count=8, debounce=-1)
    with pytest.raises(ModbusIoConfigError, match="normally_closed"):
        InputTracker(unit=1, count=8, normally_closed=frozenset({8}))
    with pytest.raises(ModbusIoConfigError, match="write_back"):
        LatchConfig(address=0, table=LatchTable.DISCRETE_INPUTS)
    with pytest.raises(ModbusIoConfigError, match="clear_coil"):
        LatchConfig(address=0, clear=LatchClear.CLEAR_COIL)
    with pytest.raises(ModbusIoConfigError, match="failure_threshold"):
        LinkMonitor(unit=1, failure_threshold=0)


# --------------------------------------------------------------------------- latches


def test_tap_between_polls_is_reported_from_the_latch() -> None:
    tracker = InputTracker(unit=1, count=8)
    tracker.update(levels=levels(), latched=levels(), now=0.0)
    events = tracker.update(levels=levels(), latched=levels(5), now=0.05)
    assert events == [InputChanged(1, 5, True, 0.05, latched=True), InputChanged(1, 5, False, 0.05, latched=True)]
    assert tracker.latches_to_clear() == (5,)


def test_latched_press_still_held_is_one_press() -> None:
    tracker = InputTracker(unit=1, count=8)
    assert edges(tracker.update(levels=levels(0), latched=levels(0), now=0.0)) == [(0, True)]
    tracker.latches_cleared(tracker.latches_to_clear())
    assert tracker.update(levels=levels(0), latched=levels(), now=0.05) == []
    assert edges(tracker.update(levels=levels(), latched=levels(), now=0.10)) == [(0, False)]


def test_uncleared_latch_is_not_reported_again() -> None:
    """A failed clear leaves the bit set; it must not turn into a second press."""
    tracker = InputTracker(unit=1, count=8)
    assert len(tracker.update(levels=levels(), latched=levels(2), now=0.0)) == 2
    assert tracker.update(levels=levels(), latched=levels(2), now=0.05) == []  # clear failed
    tracker.latches_cleared([2])
    assert tracker.latches_to_clear() == ()
    assert edges(tracker.update(levels=levels(), latched=levels(2), now=0.10)) == [(2, True), (2, False)]


def test_press_between_latch_read_and_level_read_is_reported_once() -> None:
    tracker = InputTracker(unit=1, count=8)
    # Latch read (bit 0 clear), then the press, then the level read: seen by the level first.
    assert edges(tracker.update(levels=levels(0), latched=levels(), now=0.0)) == [(0, True)]
    # The next poll's latch bit is that same press.
    assert tracker.update(levels=levels(0), latched=levels(0), now=0.05) == []
    tracker.latches_cleared(tracker.latches_to_clear())
    assert edges(tracker.update(levels=levels(), latched=levels(), now=0.10)) == [(0, False)]


def test_release_and_press_again_between_polls() -> None:
    tracker = InputTracker(unit=1, count=8)
    tracker.update(levels=levels(6), latched=levels(6), now=0.0)
    tracker.latches_cleared([6])
    assert edges(tracker.update(levels=levels(6), latched=levels(6), now=0.05)) == [(6, False), (6, True)]


def test_latch_press_skips_debounce() -> None:
    tracker = InputTracker(unit=1, count=8, debounce=1.0)
    assert edges(tracker.update(levels=levels(3), latched=levels(3), now=0.0)) == [(3, True)]


# A latching module and a polling driver, modelled with bytes-free steps. Operations on one
# input happen before a poll's latch read or between its latch read and its level read.
op = st.sampled_from(["press", "release"])
polls = st.lists(st.tuples(st.lists(op, max_size=4), st.lists(op, max_size=2)), min_size=1, max_size=25)


def run_model(schedule: list[tuple[list[str], list[str]]], *, atomic: bool) -> tuple[list[InputChanged], int, int]:
    """Returns the events, the press edges that happened, and the latch windows holding a press."""
    tracker = InputTracker(unit=1, count=1)
    level = latch = False
    press_edges = windows = 0
    window_has_press = False
    events: list[InputChanged] = []

    def apply(name: str) -> None:
        nonlocal level, latch, press_edges, window_has_press
        if name == "press" and not level:
            latch = True
            press_edges += 1
            window_has_press = True
        level = name == "press"

    now = 0.0
    for before, between in [*schedule, ([], []), ([], [])]:
        for name in before:
            apply(name)
        latch_read = latch
        windows += window_has_press
        window_has_press = False
        for name in [] if atomic else between:
            apply(name)
        events += tracker.update(levels=[level], latched=[latch_read], now=now)
        if tracker.latches_to_clear():  # WRITE_BACK: clear what was consumed
            latch = False
            tracker.latches_cleared([0])
        now += 0.05
    return events, press_edges, windows


@settings(max_examples=300)
@given(polls, st.booleans())
def test_latching_model_reports_alternating_edges_and_no_phantom_press(
    schedule: list[tuple[list[str], list[str]]], atomic: bool
) -> None:
    events, press_edges, windows = run_model(schedule, atomic=atomic)
    assert [e.pressed for e in events] == [i % 2 == 0 for i in range(len(events))]  # alternate
    presses = sum(e.pressed for e in events)
    assert presses <= press_edges
    assert (presses > 0) == (press_edges > 0)
    if atomic:  # every latch window with a press edge gives exactly one press
        assert presses == windows


# --------------------------------------------------------------------------- link state


def test_link_lost_once_after_threshold_and_restored_once() -> None:
    link = LinkMonitor(unit=4, failure_threshold=3)
    assert link.record_failure(1.0, "timeout") is None
    assert link.record_failure(1.1, "timeout") is None
    assert link.record_failure(1.2, "crc") == LinkLost(4, 1.2, "crc", 3)
    assert not link.available
    assert [link.record_failure(1.3 + i / 10, "timeout") for i in range(5)] == [None] * 5
    restored = link.record_success(2.0)
    assert restored == LinkRestored(4, 2.0, restored.down_for if restored else -1)
    assert restored.down_for == pytest.approx(0.8)
    assert link.lost_at is None
    assert link.record_success(2.1) is None


def test_failures_below_threshold_are_not_reported() -> None:
    link = LinkMonitor(unit=1, failure_threshold=3)
    for step in range(10):
        assert link.record_failure(step, "timeout") is None
        assert link.record_failure(step + 0.5, "timeout") is None
        assert link.record_success(step + 0.9) is None


# --------------------------------------------------------------------------- pulse patterns


def test_pulse_pattern_timeline() -> None:
    pattern = PulsePattern(on=0.1, off=0.4, cycles=2)
    assert [pattern.state_at(t) for t in (0.0, 0.05, 0.1, 0.3, 0.5, 0.55, 0.7, 1.0, 5.0)] == [
        True,
        True,
        False,
        False,
        True,
        True,
        False,
        False,
        False,
    ]
    changes, t = [], 0.0
    while (following := pattern.next_change(t)) is not None:
        changes.append(pytest.approx(following))
        t = following
    assert changes == [0.1, 0.5, 0.6, 1.0]


def test_endless_pattern_and_bad_patterns() -> None:
    pattern = PulsePattern(on=1.0, off=1.0)
    assert pattern.next_change(1_000_000.5) == pytest.approx(1_000_001.0)
    assert pattern.state_at(1_000_000.5)
    with pytest.raises(ModbusIoConfigError):
        PulsePattern(on=0, off=1)
    with pytest.raises(ModbusIoConfigError):
        PulsePattern(on=1, off=1, cycles=0)
