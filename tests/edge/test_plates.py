from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.wire.plates import (
    DIGITS,
    LETTERS,
    PROVINCES,
    PlateFormat,
    PlateKind,
    best_plate,
    is_valid_plate,
    kind_for,
    normalise_plate,
    parse_plate,
)


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("粤B12345", PlateFormat.ORDINARY),  # blue
        ("京AF0236", PlateFormat.ORDINARY),
        ("沪KR9888", PlateFormat.ORDINARY),  # two letters in the serial
        ("鲁B1234学", PlateFormat.COACH),  # yellow driving school
        ("鲁A1234挂", PlateFormat.TRAILER),
        ("京A0123警", PlateFormat.POLICE),  # white police
        ("粤Z1234港", PlateFormat.HONG_KONG),
        ("粤Z1234澳", PlateFormat.MACAO),
        ("粤BD12345", PlateFormat.NEW_ENERGY),  # green, small: D first
        ("粤BFA1234", PlateFormat.NEW_ENERGY),  # F first, letter second
        ("苏E12345D", PlateFormat.NEW_ENERGY),  # green, large: D last
        ("苏E12345F", PlateFormat.NEW_ENERGY),
    ],
)
def test_valid_plates_of_every_kind(text: str, fmt: PlateFormat) -> None:
    parsed = parse_plate(text)
    assert parsed is not None
    assert parsed.format is fmt
    assert parsed.text == text
    assert parsed.province == text[0]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "粤B1234",  # too short
        "粤B123456",  # 8 characters but no D/F: not new energy
        "粤I12345",  # I is never used
        "粤BO2345",  # nor O
        "粤B1I345",
        "AB12345",  # no province
        "港B12345",  # suffix character in the province position
        "粤112345",  # authority must be a letter
        "粤B学1234",  # suffix in the wrong place
        "京A01234警",  # police plate with five serial characters
        "粤B12D345",  # D in the middle of a new-energy serial
        "粤BD1234A",  # small new energy: last four are digits
        "粤BA12345",  # 8 characters, A first: not new energy
        "粤B1234D5",
        "粤B12345警",
    ],
)
def test_invalid_plates(text: str) -> None:
    assert parse_plate(text) is None
    assert not is_valid_plate(text)


def test_normalisation_removes_separators_and_folds_width_and_case() -> None:
    assert normalise_plate("粤B·12345") == "粤B12345"
    assert normalise_plate(" 粤b 123-45 ") == "粤B12345"
    assert normalise_plate("粤Ｂ１２３４５") == "粤B12345"
    assert parse_plate("粤B·12345") is not None
    assert parse_plate("粤B·12345").display == "粤B·12345"  # type: ignore[union-attr]


def test_kind_follows_the_format_where_it_is_decisive() -> None:
    def kind(text: str, colour: PlateKind | None) -> PlateKind:
        parsed = parse_plate(text)
        assert parsed is not None
        return kind_for(parsed, colour)

    assert kind("粤BD12345", PlateKind.BLUE) is PlateKind.GREEN
    assert kind("京A0123警", PlateKind.BLUE) is PlateKind.WHITE
    assert kind("鲁B1234学", None) is PlateKind.YELLOW
    assert kind("粤Z1234港", PlateKind.BLUE) is PlateKind.BLACK
    assert kind("粤B12345", PlateKind.YELLOW) is PlateKind.YELLOW
    assert kind("粤B12345", PlateKind.GREEN) is PlateKind.BLUE  # green is only for new energy
    assert kind("粤B12345", None) is PlateKind.BLUE


def test_best_plate_uses_the_alternatives_to_fix_confusions() -> None:
    slots = [{"粤": 0.9}, {"8": 0.6, "B": 0.35}, {"1": 0.99}, {"2": 0.98}, {"3": 0.97}, {"4": 0.99}, {"5": 0.9}]
    guess = best_plate(slots)
    assert guess is not None
    assert guess.plate.text == "粤B12345"  # a digit cannot be the authority letter
    assert guess.char_confidences[1] == pytest.approx(0.35)
    assert 0.0 < guess.confidence < 1.0


def test_best_plate_never_invents_a_character() -> None:
    slots = [{"粤": 0.9}, {"8": 1.0}, {"1": 1.0}, {"2": 1.0}, {"3": 1.0}, {"4": 1.0}, {"5": 1.0}]
    assert best_plate(slots) is None
    assert best_plate([{"粤": 1.0}, {"B": 1.0}]) is None  # no template of length 2


def test_best_plate_picks_the_more_probable_template() -> None:
    # D vs 0 in the first serial position: new-energy needs D/F there, ordinary takes either
    slots = [{"粤": 1.0}, {"B": 1.0}, {"D": 0.7, "0": 0.3}] + [{"1": 1.0}] * 5
    guess = best_plate(slots)
    assert guess is not None
    assert guess.plate.text == "粤BD11111"
    assert guess.plate.format is PlateFormat.NEW_ENERGY


_ALNUM = LETTERS + DIGITS
ordinary = st.tuples(
    st.sampled_from(PROVINCES), st.sampled_from(LETTERS), st.text(alphabet=_ALNUM, min_size=5, max_size=5)
).map("".join)
new_energy = st.one_of(
    st.tuples(
        st.sampled_from(PROVINCES), st.sampled_from(LETTERS), st.sampled_from("DF"), st.sampled_from(_ALNUM),
        st.text(alphabet=DIGITS, min_size=4, max_size=4),
    ).map("".join),
    st.tuples(
        st.sampled_from(PROVINCES), st.sampled_from(LETTERS), st.text(alphabet=DIGITS, min_size=5, max_size=5),
        st.sampled_from("DF"),
    ).map("".join),
)  # fmt: skip


@given(ordinary)
def test_every_ordinary_plate_parses_and_normalising_is_idempotent(text: str) -> None:
    parsed = parse_plate(text)
    assert parsed is not None
    assert parsed.format is PlateFormat.ORDINARY
    assert normalise_plate(normalise_plate(text)) == normalise_plate(text)


@given(new_energy)
def test_every_new_energy_plate_parses(text: str) -> None:
    parsed = parse_plate(text)
    assert parsed is not None
    assert parsed.format is PlateFormat.NEW_ENERGY


@given(ordinary, st.integers(min_value=1, max_value=6), st.sampled_from("IO"))
def test_an_i_or_o_anywhere_after_the_province_is_rejected(text: str, pos: int, bad: str) -> None:
    assert parse_plate(text[:pos] + bad + text[pos + 1 :]) is None


@pytest.mark.parametrize(
    ("text", "fmt", "kind", "display"),
    [
        ("使198476", PlateFormat.EMBASSY, PlateKind.BLACK, "使198476"),
        ("粤A1234领", PlateFormat.CONSULATE, PlateKind.BLACK, "粤A·1234领"),
        ("民航B9016", PlateFormat.CIVIL_AVIATION, PlateKind.GREEN, "民航B9016"),
        ("WJ粤6788B", PlateFormat.ARMED_POLICE, PlateKind.WHITE, "WJ粤·6788B"),  # double-row, service letter
        ("WJ粤12345", PlateFormat.ARMED_POLICE, PlateKind.WHITE, "WJ粤·12345"),
        ("WJ1693015", PlateFormat.ARMED_POLICE, PlateKind.WHITE, "WJ16·93015"),  # older unit-code format
        ("VA12345", PlateFormat.MILITARY, PlateKind.WHITE, "VA·12345"),
        ("皖1946673", PlateFormat.FARM, PlateKind.GREEN, "皖19·46673"),  # double-row farm vehicle
    ],
)
def test_the_other_ga36_kinds(text: str, fmt: PlateFormat, kind: PlateKind, display: str) -> None:
    parsed = parse_plate(text)
    assert parsed is not None
    assert parsed.format is fmt
    assert kind_for(parsed, None) is kind
    assert parsed.display == display
    assert best_plate([{c: 0.9} for c in text]) is not None


@pytest.mark.parametrize(
    "text",
    ["使19847", "使A98476", "民航B901", "WJ粤678", "WJ粤A788B", "AA12345", "皖194667", "皖A946673", "粤A12345领"],
)
def test_the_other_kinds_reject_near_misses(text: str) -> None:
    assert parse_plate(text) is None
