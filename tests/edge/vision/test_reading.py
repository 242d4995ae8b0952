"""Reading one plate from several crops: rows joined, a spurious edge character dropped, weak guesses confirmed."""

from __future__ import annotations

from edge.vision.reading import best_reading, plate_from_slots


def slots(text: str, p: float = 0.99, **weak: float) -> list[dict[str, float]]:
    """One slot per character; `weak` maps a position ("i3") to a lower probability."""
    return [{c: weak.get(f"i{i}", p)} for i, c in enumerate(text)]


def test_a_double_row_plate_is_read_as_one_plate() -> None:
    top, bottom = slots("京E"), slots("A5331")
    reading = best_reading([slots("A5331")], [top], [bottom])
    assert reading is not None
    assert (reading.text, reading.rows) == ("京EA5331", 2)
    assert len(reading.guess.char_confidences) == 7  # per-character confidence kept for the watch list


def test_a_spurious_weak_character_at_a_crop_edge_is_dropped() -> None:
    guess = plate_from_slots([*slots("渝D"), {"A": 0.3}, *slots("00796")])
    assert guess is not None
    assert guess.plate.text == "渝D00796"
    assert plate_from_slots([*slots("渝D"), {"A": 0.9}, *slots("00796")]) is None  # a confident extra stays


def test_the_longest_valid_reading_wins() -> None:
    # one crop lost the province: "BD01366" is a valid military plate, but the 8-character read wins
    reading = best_reading([slots("粤BD01366", i0=0.9), slots("BD01366")])
    assert reading is not None
    assert reading.text == "粤BD01366"


def test_a_weak_character_needs_a_second_crop_to_agree() -> None:
    alone = best_reading([slots("皖DU4356", i0=0.38), slots("DU4356")])
    assert alone is None  # a guessed province: no plate rather than a wrong one
    agreed = best_reading([slots("粤B1S7K7", i0=0.31), slots("粤B1S7K7", i0=0.3)])
    assert agreed is not None
    assert agreed.text == "粤B1S7K7"
    assert best_reading([slots("粤B1S7K7", i0=0.01), slots("粤B1S7K7", i0=0.01)]) is None  # below min_char


def test_nothing_valid_is_no_reading() -> None:
    assert best_reading([slots("川"), slots("")]) is None
    assert best_reading([], [slots("京E")], []) is None
