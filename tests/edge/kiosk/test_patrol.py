"""Patrol check-in at the kiosk: the roster hash, the roster command (a malformed one is refused with a log
line, never a crash), check-in by code and by the card on a simulated reader (a pty), unknown members."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import logging
from pathlib import Path
from typing import Any

import msgspec
import pytest

from drivers.idcard.sim import IdCardReaderSimulator
from edge.config.kiosk import KioskSection
from edge.kiosk.component import KioskComponent
from edge.kiosk.patrol import MAX_CODE_FAILURES
from edge.wire.errors import NOT_FOUND, UNAVAILABLE, ApiError
from edge.wire.patrol import PatrolCheckIn, code_hash, id_hash, normalize_id
from tests.support.commands import signed
from tests.support.context import FakeContext
from tests.support.station import ID_NUMBER, sample_card

SALT = "5a" * 16
CODE = "20261203"


def roster(version: int = 1, **member: Any) -> dict[str, Any]:
    m = {"id_hash": id_hash(SALT, ID_NUMBER), "display_name": "老张", "role": "volunteer"}
    m["code_hash"] = code_hash(SALT, CODE)
    m.update(member)
    return {"version": version, "issued_at": "2026-12-01T00:00:00Z", "salt": SALT, "members": [m]}


def test_the_id_hash_is_hmac_sha256_of_the_normalized_number() -> None:
    expected = hmac.new(bytes.fromhex(SALT), ID_NUMBER.encode(), hashlib.sha256).hexdigest()
    assert id_hash(SALT, ID_NUMBER) == expected
    assert id_hash(SALT, ID_NUMBER.lower()) == expected  # a lower-case x
    assert id_hash(SALT, " １１０１０５１９４９１２３１００２Ｘ ") == expected  # full-width, spaces
    assert id_hash("00" * 16, ID_NUMBER) != expected  # another salt, another hash
    assert code_hash(SALT, CODE) == hmac.new(bytes.fromhex(SALT), b"code:" + CODE.encode(), "sha256").hexdigest()
    for bad in ("", "12345", "1101-0519-4912", "; drop"):
        with pytest.raises(ValueError) as err:
            normalize_id(bad)
        assert bad not in str(err.value) or not bad


async def _kiosk(tmp: Path, **section: Any) -> tuple[KioskComponent, Notes]:
    ctx = Notes(tmp, station="ST-P1", station_name="福田口岸警务站")
    comp = KioskComponent(KioskSection.model_validate({"enabled": True, **section}))
    await comp.start(ctx)
    return comp, ctx


async def _roster(ctx: FakeContext, args: Any) -> None:
    await ctx.commands["patrol.roster"](signed(None, "patrol.roster", args))


async def test_roster_command_malformed_refused_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    comp, ctx = await _kiosk(tmp_path)
    try:
        with pytest.raises(ApiError) as err:  # no roster yet
            await ctx.call("kiosk.patrol.checkin", {"method": "code", "code": CODE})
        assert err.value.code == UNAVAILABLE
        await _roster(ctx, roster(version=2))
        caplog.set_level(logging.WARNING)
        for bad in (
            {"version": 3, "salt": SALT, "members": []},  # no issued_at
            {**roster(version=3), "salt": "not hex"},
            {**roster(version=3), "members": [{"id_hash": "1101051949", "display_name": "x", "role": "volunteer"}]},
            {**roster(version=3), "members": "everyone"},
            {**roster(version=3), "extra": 1},
        ):
            await _roster(ctx, bad)
        refusals = [r for r in caplog.records if "refused command patrol.roster" in r.getMessage()]
        assert len(refusals) == 5
        await _roster(ctx, roster(version=1, display_name="旧名册"))  # older than the one held: ignored
        got = await ctx.call("kiosk.patrol.checkin", {"method": "code", "code": CODE})
        assert got["message"]["zh"] == "打卡成功：老张"  # version 2 still holds
        assert ID_NUMBER not in caplog.text
    finally:
        await comp.stop()
    comp2, ctx2 = await _kiosk(tmp_path)  # the roster survives a restart
    try:
        got = await ctx2.call("kiosk.patrol.checkin", {"method": "code", "code": CODE})
        assert got["status"] == "checked_in"
        raw = (tmp_path / "patrol-roster.json").read_bytes()
        assert ID_NUMBER.encode() not in raw and b"version" in raw
        assert (tmp_path / "patrol-roster.json").stat().st_mode & 0o077 == 0
    finally:
        await comp2.stop()


async def test_check_in_by_code_writes_the_event_and_a_receipt(tmp_path: Path) -> None:
    comp, ctx = await _kiosk(tmp_path)
    try:
        await _roster(ctx, roster())
        got = await ctx.call("kiosk.patrol.checkin", {"method": "code", "code": f" {CODE} "})
        assert (got["kind"], got["status"], got["ticket"]) == ("patrol", "checked_in", "ST-P1-000001")
        assert got["receipt_id"]
        [(etype, data)] = ctx.events
        assert etype == "patrol.checkin"
        event = msgspec.convert(data, PatrolCheckIn)
        assert (event.display_name, event.role, event.method, event.station) == ("老张", "volunteer", "code", "ST-P1")
        assert event.point == "福田口岸警务站" and event.id_hash == id_hash(SALT, ID_NUMBER)
        assert ID_NUMBER not in msgspec.json.encode(data).decode()
        doc = comp._receipts[got["receipt_id"]]
        assert [line.value for line in doc.lines][:4] == ["老张", "巡防志愿者", "打卡码", "福田口岸警务站"]
    finally:
        await comp.stop()


async def test_wrong_codes_store_nothing_and_are_limited(tmp_path: Path) -> None:
    comp, ctx = await _kiosk(tmp_path)
    try:
        await _roster(ctx, roster())
        for code in ["99999999"] * MAX_CODE_FAILURES:
            with pytest.raises(ApiError) as err:
                await ctx.call("kiosk.patrol.checkin", {"method": "code", "code": code})
            assert err.value.code == NOT_FOUND
            assert err.value.data == {"zh": "打卡码不正确", "en": "That check-in code is not right"}
        with pytest.raises(ApiError) as err:  # even the right code waits now
            await ctx.call("kiosk.patrol.checkin", {"method": "code", "code": CODE})
        assert err.value.code == UNAVAILABLE
        assert ctx.events == []
    finally:
        await comp.stop()


class Notes(FakeContext):
    """Wakes a waiting test on every notification the kiosk publishes."""

    def __init__(self, data_dir: Path, **kw: Any) -> None:
        super().__init__(data_dir, **kw)
        self.note = asyncio.Event()

    def publish(self, topic: str, params: dict[str, Any]) -> None:
        super().publish(topic, params)
        self.note.set()

    def of(self, topic: str) -> list[dict[str, Any]]:
        return [p for t, p in self.published if t == topic]

    async def until(self, topic: str, count: int = 1) -> None:
        async with asyncio.timeout(10):
            while len(self.of(topic)) < count:
                self.note.clear()
                await self.note.wait()


async def test_check_in_by_the_card_on_the_reader(tmp_path: Path) -> None:
    async with IdCardReaderSimulator() as reader:
        comp, ctx = await _kiosk(tmp_path, id_reader={"port": reader.port, "poll_interval": 0.3})
        try:
            await _roster(ctx, roster(role="officer", display_name="巡警小李"))
            reader.place_card(sample_card())
            await ctx.until("kiosk.card")
            got = await ctx.call("kiosk.patrol.checkin", {"method": "card"})
            assert got["message"]["en"] == "Checked in: 巡警小李"
            assert ctx.events[0][1]["method"] == "card" and ctx.events[0][1]["role"] == "officer"
            with pytest.raises(ApiError) as err:  # the card is taken once: a second check-in needs a new tap
                await ctx.call("kiosk.patrol.checkin", {"method": "card"})
            assert err.value.code == NOT_FOUND and err.value.data["en"] == "Please put your ID card on the reader"
            reader.remove_card()
            await ctx.until("kiosk.card_removed")
            # someone not on the roster: told so, nothing stored
            stranger = dataclasses.replace(sample_card(), id_number="110105194912310037")
            reader.place_card(stranger)
            await ctx.until("kiosk.card", 2)
            with pytest.raises(ApiError) as err:
                await ctx.call("kiosk.patrol.checkin", {"method": "card"})
            assert err.value.code == NOT_FOUND and "not on the patrol roster" in err.value.data["en"]
            assert len(ctx.events) == 1
        finally:
            await comp.stop()
