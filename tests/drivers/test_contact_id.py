"""Contact ID (16-digit and ADM-CID forms) and SIA DCS data blocks: vectors and properties."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.dc09.contact_id import (
    PANIC_CODES,
    ContactIdError,
    ContactIdEvent,
    EventQualifier,
    PanicKind,
    build_adm_cid_data,
    build_contact_id,
    checksum_digit,
    is_panic,
    parse_adm_cid_data,
    parse_contact_id,
)
from drivers.dc09.sia_dcs import SiaDcsError, SiaEvent, build_sia_dcs, classify_sia_code, parse_sia_dcs

# --- Contact ID golden vectors (protocols.md) -----------------------------------------------------


def test_golden_panic_new() -> None:
    ev = parse_contact_id("1234181120010010")
    assert ev == ContactIdEvent("1234", EventQualifier.NEW, 120, 1, 1, "18")
    assert ev.is_new
    assert ev.is_panic
    assert ev.panic is PanicKind.PANIC
    assert ev.description == "panic"


def test_golden_panic_restore() -> None:
    ev = parse_contact_id("1234183120010018")
    assert ev.qualifier is EventQualifier.RESTORE
    assert ev.is_restore
    assert (ev.code, ev.group, ev.zone) == (120, 1, 1)


@pytest.mark.parametrize("message", ["1234181120010010", "1234183120010018"])
def test_golden_vectors_build_byte_for_byte(message: str) -> None:
    ev = parse_contact_id(message)
    built = build_contact_id(account="1234", qualifier=ev.qualifier, code=ev.code, group=ev.group, zone=ev.zone)
    assert built == message


def test_checksum_rule_zero_counts_ten_and_f_for_remainder_zero() -> None:
    # 1+2+3+4 +1+8 +1 +1+3+10 +10+1 +10+10+10 = 75, a multiple of 15 already: S = F (15).
    assert checksum_digit("123418113001000") == "F"
    assert parse_contact_id("123418113001000F").code == 130
    # S = 10 is sent as the digit 0 (golden vector above).
    assert checksum_digit("123418112001001") == "0"
    # hex digits B-F count 11-15
    assert checksum_digit("B") == "4"


def test_spaces_are_allowed_in_the_16_digit_form() -> None:
    assert parse_contact_id("1234 18 1 120 01 001 0").code == 120


@pytest.mark.parametrize(
    "message",
    [
        "1234181120010011",  # wrong checksum
        "123418112001001",  # 15 digits
        "1234171120010010",  # message type 17
        "1234182120010019",  # qualifier 2
        "12341811200100100",  # 17 digits
        "ABCD181120010010",  # A is not an account digit
        "",
    ],
)
def test_bad_contact_id_messages_raise(message: str) -> None:
    with pytest.raises(ContactIdError):
        parse_contact_id(message)


def test_every_single_digit_error_is_caught_by_the_checksum() -> None:
    good = "1234181120010010"
    for i, ch in enumerate(good):
        for sub in "0123456789":
            if sub == ch or (ch == "0" and sub == "A"):
                continue
            bad = good[:i] + sub + good[i + 1 :]
            with pytest.raises(ContactIdError):
                parse_contact_id(bad)


# --- ADM-CID data block ---------------------------------------------------------------------------


def test_adm_cid_golden_data_block() -> None:
    ev = parse_adm_cid_data("#1002|1602 00 001")
    assert ev == ContactIdEvent("1002", EventQualifier.NEW, 602, 0, 1)
    assert ev.description == "periodic test"
    assert not ev.is_panic
    assert build_adm_cid_data(account="1002", qualifier=1, code=602, group=0, zone=1) == "#1002|1602 00 001"


def test_adm_cid_without_account_and_status_qualifier() -> None:
    ev = parse_adm_cid_data("6121 02 015")
    assert ev.account is None
    assert ev.qualifier is EventQualifier.STATUS
    assert ev.panic is PanicKind.DURESS


@pytest.mark.parametrize("data", ["#1002|1602 0 001", "#1002|1602-00-001", "#1002|2602 00 001", "#10|1602 00 001", "x"])
def test_bad_adm_cid_data_raises(data: str) -> None:
    with pytest.raises(ContactIdError):
        parse_adm_cid_data(data)


def test_builders_reject_out_of_range_fields() -> None:
    with pytest.raises(ContactIdError):
        build_contact_id(account="1234", qualifier=2, code=120)
    with pytest.raises(ContactIdError):
        build_contact_id(account="12345", qualifier=1, code=120)
    with pytest.raises(ContactIdError):
        build_adm_cid_data(account="1234", qualifier=1, code=1200)
    with pytest.raises(ContactIdError):
        build_adm_cid_data(account="1234", qualifier=1, code=120, group=100)


# --- panic family -------------------------------------------------------------------------------


def test_panic_family_table() -> None:
    assert sorted(PANIC_CODES) == [120, 121, 122, 123, 124, 125]
    assert all(is_panic(c) for c in range(120, 126))
    assert not any(is_panic(c) for c in (110, 119, 126, 130, 602))
    kinds = {c: parse_adm_cid_data(f"1{c} 01 001").panic for c in range(120, 126)}
    assert kinds == {
        120: PanicKind.PANIC,
        121: PanicKind.DURESS,
        122: PanicKind.PANIC,
        123: PanicKind.PANIC,
        124: PanicKind.DURESS,
        125: PanicKind.DURESS,
    }


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="0123456789BCDEF", min_size=4, max_size=4),
    st.sampled_from(list(EventQualifier)),
    st.integers(0, 999),
    st.integers(0, 99),
    st.integers(0, 999),
)
def test_contact_id_round_trip(account: str, q: EventQualifier, code: int, group: int, zone: int) -> None:
    msg = build_contact_id(account=account, qualifier=q, code=code, group=group, zone=zone)
    assert len(msg) == 16
    assert parse_contact_id(msg) == ContactIdEvent(account, q, code, group, zone, "18")
    adm = build_adm_cid_data(account=account, qualifier=q, code=code, group=group, zone=zone)
    assert parse_adm_cid_data(adm) == ContactIdEvent(account, q, code, group, zone)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_contact_id_parsers_raise_only_their_own_error(text: str) -> None:
    for parse in (parse_contact_id, parse_adm_cid_data):
        with contextlib.suppress(ContactIdError):
            parse(text)


# --- SIA DCS ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "account", "events", "text"),
    [
        ("#1234|NRR|Atest", "1234", [SiaEvent("RR")], "test"),
        ("#0123|Nti20:50:26RP99", "0123", [SiaEvent("RP", "99", time="20:50:26")], None),
        ("#AAA|Nri0/ZY0", "AAA", [SiaEvent("ZY", "0", area="0")], None),
        ("#AAA|Nri0/RP0000", "AAA", [SiaEvent("RP", "0000", area="0")], None),
        ("#AAA|Nri1/BA5/BA6", "AAA", [SiaEvent("BA", "5", area="1"), SiaEvent("BA", "6", area="1")], None),
        ("#123456|Nri1CL0^VX FRONTE ^", "123456", [SiaEvent("CL", "0", area="1", text="VX FRONTE ")], None),
        ("Nri1/WA000", None, [SiaEvent("WA", "000", area="1")], None),
        ("5004|Nri1HA1", "5004", [SiaEvent("HA", "1", area="1")], None),
        ("", None, [], None),
    ],
)
def test_sia_dcs_data_blocks(data: str, account: str | None, events: list[SiaEvent], text: str | None) -> None:
    parsed = parse_sia_dcs(data)
    assert parsed.account == account
    assert list(parsed.events) == events
    assert parsed.text == text


@pytest.mark.parametrize(
    ("code", "kind", "restore"),
    [
        ("PA", PanicKind.PANIC, False),
        ("PH", PanicKind.PANIC, True),
        ("PR", PanicKind.PANIC, True),
        ("HA", PanicKind.HOLDUP, False),
        ("HH", PanicKind.HOLDUP, True),
        ("HR", PanicKind.HOLDUP, True),
    ],
)
def test_sia_panic_and_holdup_codes(code: str, kind: PanicKind, restore: bool) -> None:
    (ev,) = parse_sia_dcs(f"#AAA|Nri1/{code}01").events
    assert ev.panic is kind
    assert ev.is_restore is restore
    assert ev.is_panic_alarm is (not restore)
    assert classify_sia_code(code) == (kind, restore)


def test_non_panic_sia_codes() -> None:
    data = parse_sia_dcs("#AAA|Nri1/BA5/RP0000/FA1")
    assert data.panic_events == ()
    assert not any(ev.is_restore or ev.is_panic_alarm for ev in data.events)


@pytest.mark.parametrize("data", ["#AAA|Nri1/PA01!", "#XY|NPA01", "#AAA|Nri1/pa01x", "#AAA|N€"])
def test_bad_sia_dcs_raises(data: str) -> None:
    with pytest.raises(SiaDcsError):
        parse_sia_dcs(data)


def test_build_sia_dcs() -> None:
    assert build_sia_dcs(account="AAA", code="PA", zone="01", area="0") == "#AAA|Nri0/PA01"
    built = build_sia_dcs(account="1234", code="HA", zone="3", area="2", user="17", time="08:15", text="gate")
    assert built == "#1234|Nti08:15/id17/ri2/HA3|Agate"
    parsed = parse_sia_dcs(built)
    assert parsed.events == (SiaEvent("HA", "3", area="2", user="17", time="08:15"),)
    assert parsed.text == "gate"
    for bad in (
        {"code": "pa"},
        {"code": "PA", "zone": "1a"},
        {"code": "PA", "text": "a|b"},
        {"code": "PA", "time": "8:15"},
    ):
        with pytest.raises(SiaDcsError):
            build_sia_dcs(account="AAA", **bad)


@settings(max_examples=200, deadline=None)
@given(
    st.none() | st.text(alphabet="0123456789ABCDEF", min_size=3, max_size=16),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
    st.text(alphabet="0123456789", max_size=4),
    st.none() | st.text(alphabet="0123456789", min_size=1, max_size=3),
    st.none() | st.text(alphabet="0123456789", min_size=1, max_size=4),
)
def test_sia_dcs_round_trip(account: str | None, code: str, zone: str, area: str | None, user: str | None) -> None:
    parsed = parse_sia_dcs(build_sia_dcs(account=account, code=code, zone=zone, area=area, user=user))
    assert parsed.account == account
    assert parsed.events == (SiaEvent(code, zone, area=area, user=user),)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_sia_dcs_parser_raises_only_its_own_error(text: str) -> None:
    with contextlib.suppress(SiaDcsError):
        parse_sia_dcs(text)


# ---- Unicode digits (issue 12): refused with the parser's own error, never a KeyError -------------------
@pytest.mark.parametrize(
    "text",
    [
        "123418112𝟙01077F",  # MATHEMATICAL BOLD DIGIT ONE in the code
        "1234181١2001001" + "0",  # ARABIC-INDIC DIGIT ONE
        "１２３４181120010010",  # fullwidth account
        "1234181120010٠10",
    ],
)
def test_unicode_digits_are_refused_with_a_contact_id_error(text: str) -> None:
    with pytest.raises(ContactIdError):
        parse_contact_id(text)


@pytest.mark.parametrize("text", ["#1234|1𝟙02 00 001", "1602 ٠0 001", "1602 00 00１"])
def test_unicode_digits_in_adm_cid_data_are_refused(text: str) -> None:
    with pytest.raises(ContactIdError):
        parse_adm_cid_data(text)


_DIGITS = "0123456789BCDEF 𝟙١٠１߁৪"  # ASCII digits and hex, a space, and digits of other scripts


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=_DIGITS, min_size=14, max_size=18))
def test_any_mix_of_digits_gives_an_event_or_a_contact_id_error(text: str) -> None:
    with contextlib.suppress(ContactIdError):
        event = parse_contact_id(text)
        assert event.account is None or event.account.isascii()
