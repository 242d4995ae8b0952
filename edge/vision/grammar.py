"""The licence-plate grammar, which lives in the wire contract (`edge.wire.plates`): central's console
validates watch-list plates with the same rules the station applies. Re-exported here for the vision code."""

from __future__ import annotations

from edge.wire.plates import (
    DIGITS,
    LETTERS,
    MILITARY,
    PLATE_ALPHABET,
    PREFIXES,
    PROVINCES,
    SUFFIXES,
    ParsedPlate,
    PlateFormat,
    PlateGuess,
    PlateKind,
    best_plate,
    is_valid_plate,
    kind_for,
    normalise_plate,
    parse_plate,
)

__all__ = [
    "DIGITS",
    "LETTERS",
    "MILITARY",
    "PLATE_ALPHABET",
    "PREFIXES",
    "PROVINCES",
    "SUFFIXES",
    "ParsedPlate",
    "PlateFormat",
    "PlateGuess",
    "PlateKind",
    "best_plate",
    "is_valid_plate",
    "kind_for",
    "normalise_plate",
    "parse_plate",
]
