"""Resident-data validation: GB 11643 ID numbers, phones, masking, dates; messages never echo values."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.validation import (
    ValidationError,
    id_check_character,
    is_valid_id_number,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_id_number,
    validate_date,
    validate_id_number,
    validate_phone,
)

TODAY = date(2024, 6, 1)


def _no_echo(error: ValidationError, value: str) -> None:
    core = "".join(c for c in value if c.isalnum())
    for text in (error.message_zh, error.message_en, str(error)):
        assert core not in text
        assert core[-8:] not in text


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_golden_valid_ids(number: str) -> None:
    cid = validate_id_number(number, today=TODAY)
    assert cid.number == number
    assert is_valid_id_number(number, today=TODAY)


def test_golden_id_details() -> None:
    cid = validate_id_number("11010519491231002X", today=TODAY)
    assert (cid.birth_date, cid.region_code, cid.gender) == (date(1949, 12, 31), "110105", "female")
    old = validate_id_number("440524188001010014", today=TODAY)
    assert (old.birth_date, old.gender) == (date(1880, 1, 1), "male")
    assert repr(cid) == str(cid) == "CitizenId(110105********002X)"


def test_golden_invalid_id_has_bilingual_message_without_the_value() -> None:
    with pytest.raises(ValidationError) as info:
        validate_id_number("360426199101010072", today=TODAY)
    err = info.value
    assert err.code == "id.check"
    assert "校验" in err.message_zh
    assert "check character" in err.message_en
    _no_echo(err, "360426199101010072")


@pytest.mark.parametrize(
    "raw",
    [
        "１１０１０５１９４９１２３１００２Ｘ",
        "11010519491231002x",
        " 110105 19491231 002x ",
        "１１０１０５１９４９１２３１００２ｘ",
    ],
)
def test_full_width_and_lower_case_are_normalised(raw: str) -> None:
    assert normalize_id_number(raw) == "11010519491231002X"
    assert validate_id_number(raw, today=TODAY).number == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "id.empty"),
        ("110105491231002", "id.old_format"),
        ("1101051949123100", "id.length"),
        ("11010519491231002XX", "id.length"),
        ("11010519491231A02X", "id.characters"),
        ("X10105194912310021", "id.characters"),
        ("990105194912310027", "id.region"),
        ("091005194912310025", "id.region"),
        ("811234199001010012", "id.region"),
        ("110105194913310020", "id.birth_date"),
        ("110105202502300025", "id.birth_date"),
        ("110105203001010027", "id.birth_date"),
        ("110105179912310023", "id.birth_date"),
    ],
)
def test_invalid_ids_get_specific_codes(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_id_number(raw, today=TODAY)
    assert info.value.code == code
    assert info.value.message_zh
    assert info.value.message_en
    if len(raw) >= 8:
        _no_echo(info.value, raw)


def test_residence_permit_regions_are_accepted() -> None:
    body = "81000019900506002"
    assert validate_id_number(body + id_check_character(body), today=TODAY).region_code == "810000"


weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
provinces = st.sampled_from(["11", "31", "44", "65", "54", "71"])
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


@settings(max_examples=300, deadline=None)
@given(
    province=provinces,
    rest=st.text("0123456789", min_size=4, max_size=4),
    birth=births,
    seq=st.text("0123456789", min_size=3, max_size=3),
    wrong=st.sampled_from("0123456789X"),
)
def test_any_17_digits_with_computed_check_validate_and_others_fail(
    province: str, rest: str, birth: date, seq: str, wrong: str
) -> None:
    body = province + rest + birth.strftime("%Y%m%d") + seq
    # The check character computed here from the standard, not with the module's helper.
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    assert id_check_character(body) == check
    assert validate_id_number(body + check, today=TODAY).number == body + check
    assert validate_id_number(body + check.lower(), today=TODAY).number == body + check
    if wrong != check:
        with pytest.raises(ValidationError) as info:
            validate_id_number(body + wrong, today=TODAY)
        assert info.value.code == "id.check"


def test_mask_id_number() -> None:
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("11010519491231002x") == "110105********002X"
    assert mask_id_number("1234") == "****"


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "008613812345678",
        "8613812345678",
        "１３８１２３４５６７８",
        "＋８６－１３８－１２３４－５６７８",
        "(138)1234.5678",
    ],
)
def test_phone_normalisation(raw: str) -> None:
    assert validate_phone(raw) == "13812345678"
    assert mask_phone(raw) == "138****5678"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "phone.empty"),
        ("1381234567", "phone.length"),
        ("12812345678", "phone.prefix"),
        ("23812345678", "phone.prefix"),
        ("1381234567a", "phone.characters"),
        ("010-12345678", "phone.prefix"),
    ],
)
def test_invalid_phones(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_phone(raw)
    assert info.value.code == code
    if raw:
        _no_echo(info.value, raw)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳锋", "欧阳*"),
        ("司马相如", "司马**"),
        ("欧阳", "欧*"),
        ("李", "*"),
        ("", ""),
        ("买买提·艾力", "买**·**"),
        (" 王五 ", "王*"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_dates() -> None:
    for raw in ("2024-02-29", "20240229", "2024/2/29", "2024.02.29", "2024年2月29日", "２０２４－０２－２９"):
        assert validate_date(raw) == date(2024, 2, 29)
    assert validate_date(date(2020, 1, 1)) == date(2020, 1, 1)
    for bad in ("2023-02-29", "2024-13-01", "20241301", "2024", "yesterday", "2024-1-1-1", "202401011"):
        with pytest.raises(ValidationError) as info:
            validate_date(bad, field_zh="出生日期", field_en="birth date")
        assert info.value.code == "date.format"
        assert "出生日期" in info.value.message_zh
        assert "birth date" in info.value.message_en
    with pytest.raises(ValidationError) as info:
        validate_date("2030-01-01", latest=TODAY)
    assert info.value.code == "date.too_late"
    with pytest.raises(ValidationError) as info:
        validate_date("1800-01-01", earliest=date(1900, 1, 1))
    assert info.value.code == "date.too_early"
