"""Chinese licence-plate grammar: normalise, validate, and pick the best valid plate from OCR slots.

Pure: no I/O, no clock, no OpenCV. Rules (GA 36; see docs/reference protocols.md):

* ordinary (blue, yellow, black, white): province + authority letter + 5 serial characters;
* suffixed: province + letter + 4 serial characters + one of 学 (driving school, yellow),
  警 (police, white), 挂 (trailer, yellow), 港 / 澳 (cross-border, black);
* new energy (green), 8 characters: small vehicles `D|F` + letter-or-digit + 4 digits,
  large vehicles 5 digits + `D|F`;
* the letters I and O are never used (they read as 1 and 0).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "DIGITS",
    "LETTERS",
    "PLATE_ALPHABET",
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

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
DIGITS = "0123456789"
SUFFIXES = "学警挂港澳"
ALNUM = LETTERS + DIGITS
PLATE_ALPHABET = PROVINCES + LETTERS + DIGITS + SUFFIXES
"""Every character that can appear on a plate: the recogniser's output is restricted to these."""

_SEPARATORS = str.maketrans("", "", " ·•.-_\u3000\u00b7\u2022\u30fb")


class PlateKind(StrEnum):
    """The plate's background colour, which is what an officer describes."""

    BLUE = "blue"
    YELLOW = "yellow"
    GREEN = "green"
    WHITE = "white"
    BLACK = "black"


class PlateFormat(StrEnum):
    ORDINARY = "ordinary"
    NEW_ENERGY = "new_energy"
    POLICE = "police"
    COACH = "coach"
    TRAILER = "trailer"
    HONG_KONG = "hong_kong"
    MACAO = "macao"


_SUFFIX_FORMAT = {
    "学": PlateFormat.COACH,
    "警": PlateFormat.POLICE,
    "挂": PlateFormat.TRAILER,
    "港": PlateFormat.HONG_KONG,
    "澳": PlateFormat.MACAO,
}

# A template is the set of characters allowed at each position.
_P, _L, _A, _D, _DF, _S = PROVINCES, LETTERS, ALNUM, DIGITS, "DF", SUFFIXES
_TEMPLATES: tuple[tuple[PlateFormat | None, tuple[str, ...]], ...] = (
    (PlateFormat.ORDINARY, (_P, _L, _A, _A, _A, _A, _A)),
    (None, (_P, _L, _A, _A, _A, _A, _S)),  # format from the suffix
    (PlateFormat.NEW_ENERGY, (_P, _L, _DF, _A, _D, _D, _D, _D)),
    (PlateFormat.NEW_ENERGY, (_P, _L, _D, _D, _D, _D, _D, _DF)),
)

_PATTERNS = tuple(
    (fmt, re.compile("".join(f"[{chars}]" for chars in template) + r"\Z")) for fmt, template in _TEMPLATES
)


@dataclass(frozen=True, slots=True)
class ParsedPlate:
    """A valid plate split into its parts."""

    text: str
    province: str
    authority: str
    serial: str
    suffix: str
    format: PlateFormat

    @property
    def display(self) -> str:
        """The plate as printed: `粤B·12345`."""
        return f"{self.province}{self.authority}·{self.serial}{self.suffix}"


@dataclass(frozen=True, slots=True)
class PlateGuess:
    """The most likely valid plate given per-character alternatives, and its score."""

    plate: ParsedPlate
    confidence: float  # geometric mean of the chosen characters' probabilities
    char_confidences: tuple[float, ...]


def normalise_plate(text: str) -> str:
    """Upper-case, full-width to half-width, separators (`·`, spaces, `-`) removed."""
    folded = unicodedata.normalize("NFKC", text)
    return folded.translate(_SEPARATORS).upper()


def parse_plate(text: str) -> ParsedPlate | None:
    """The parsed plate, or None when `text` (normalised first) is not a valid plate."""
    plate = normalise_plate(text)
    for fmt, pattern in _PATTERNS:
        if pattern.match(plate):
            if fmt is None:
                return ParsedPlate(plate, plate[0], plate[1], plate[2:6], plate[6], _SUFFIX_FORMAT[plate[6]])
            return ParsedPlate(plate, plate[0], plate[1], plate[2:], "", fmt)
    return None


def is_valid_plate(text: str) -> bool:
    return parse_plate(text) is not None


def kind_for(plate: ParsedPlate, colour: PlateKind | None) -> PlateKind:
    """The plate kind: the format decides where it is unambiguous, else the observed colour."""
    decided = {
        PlateFormat.NEW_ENERGY: PlateKind.GREEN,
        PlateFormat.POLICE: PlateKind.WHITE,
        PlateFormat.COACH: PlateKind.YELLOW,
        PlateFormat.TRAILER: PlateKind.YELLOW,
        PlateFormat.HONG_KONG: PlateKind.BLACK,
        PlateFormat.MACAO: PlateKind.BLACK,
    }.get(plate.format)
    if decided is not None:
        return decided
    if colour in {PlateKind.BLUE, PlateKind.YELLOW, PlateKind.BLACK, PlateKind.WHITE}:
        return colour
    return PlateKind.BLUE


def best_plate(slots: Sequence[Mapping[str, float]], *, floor: float = 1e-4) -> PlateGuess | None:
    """The valid plate with the highest probability, one character chosen per slot.

    `slots[i]` maps candidate characters at position i to their probabilities (the recogniser's
    top alternatives). This is how a grammar fixes the usual confusions: a `8` read in the
    letter position becomes `B` when `B` was the next alternative. A character that is not among a
    slot's alternatives is never invented. Returns None when no template fits.
    """
    best: tuple[float, PlateFormat | None, str, tuple[float, ...]] | None = None
    for fmt, template in _TEMPLATES:
        if len(template) != len(slots):
            continue
        chosen: list[str] = []
        probs: list[float] = []
        for allowed, alternatives in zip(template, slots, strict=True):
            pick = max(
                ((c, p) for c, p in alternatives.items() if c in allowed and p >= floor),
                key=lambda cp: cp[1],
                default=None,
            )
            if pick is None:
                break
            chosen.append(pick[0])
            probs.append(pick[1])
        else:
            score = sum(math.log(p) for p in probs)
            if best is None or score > best[0]:
                best = (score, fmt, "".join(chosen), tuple(probs))
    if best is None:
        return None
    score, _, text, chosen_probs = best
    parsed = parse_plate(text)
    if parsed is None:  # pragma: no cover - every template matches a pattern
        return None
    return PlateGuess(parsed, math.exp(score / len(chosen_probs)), chosen_probs)
