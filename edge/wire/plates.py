"""Chinese licence-plate grammar: normalise, validate, and pick the best valid plate from OCR slots.

Part of the wire contract: a watch list central pushes (`vision.watchlist`) is refused by a station if one
plate breaks these rules, so central's console checks entries with this same code before it pushes.

Pure: no I/O, no clock, no OpenCV. Rules (GA 36-2018 and the armed-police/military formats; see
docs/reference protocols.md):

* ordinary (blue, yellow, black, white): province + authority letter + 5 serial characters;
* suffixed: province + letter + 4 serial characters + one of 学 (driving school, yellow),
  警 (police, white), 挂 (trailer, yellow), 港 / 澳 (cross-border, black), 领 (consulate, black);
* new energy (green), 8 characters: small vehicles `D|F` + letter-or-digit + 4 digits,
  large vehicles 5 digits + `D|F`;
* embassy (black): 使 + 6 digits; civil aviation (green, airside): 民航 + 5 serial characters;
* armed police (white): WJ + province + 4 digits + a digit or a service letter (double-row),
  and the older WJ + 2-digit unit code + 5 serial characters;
* military (white): a command letter + a letter + 5 digits;
* farm vehicles (green, double-row): province + 2-digit county code + 5 digits;
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

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
DIGITS = "0123456789"
SUFFIXES = "学警挂港澳领"
PREFIXES = "使民航WJ"  # the fixed marks of embassy, civil-aviation and armed-police plates
MILITARY = "VKHBSLJNGCZ"  # first letter of a military plate: the commission, services and commands
ALNUM = LETTERS + DIGITS
PLATE_ALPHABET = PROVINCES + LETTERS + DIGITS + SUFFIXES + "使民航"
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
    CONSULATE = "consulate"
    EMBASSY = "embassy"
    CIVIL_AVIATION = "civil_aviation"
    ARMED_POLICE = "armed_police"
    MILITARY = "military"
    FARM = "farm"


_SUFFIX_FORMAT = {
    "学": PlateFormat.COACH,
    "警": PlateFormat.POLICE,
    "挂": PlateFormat.TRAILER,
    "港": PlateFormat.HONG_KONG,
    "澳": PlateFormat.MACAO,
    "领": PlateFormat.CONSULATE,
}

# A template is the set of characters allowed at each position, and the part each position belongs
# to: k prefix mark, p province, a authority, s serial, x suffix.
_P, _L, _A, _D, _DF, _S = PROVINCES, LETTERS, ALNUM, DIGITS, "DF", SUFFIXES
_TEMPLATES: tuple[tuple[PlateFormat | None, tuple[str, ...], str], ...] = (
    (PlateFormat.ORDINARY, (_P, _L, _A, _A, _A, _A, _A), "passsss"),
    (None, (_P, _L, _A, _A, _A, _A, _S), "passssx"),  # format from the suffix
    (PlateFormat.NEW_ENERGY, (_P, _L, _DF, _A, _D, _D, _D, _D), "passssss"),
    (PlateFormat.NEW_ENERGY, (_P, _L, _D, _D, _D, _D, _D, _DF), "passssss"),
    (PlateFormat.EMBASSY, ("使", _D, _D, _D, _D, _D, _D), "kssssss"),
    (PlateFormat.CIVIL_AVIATION, ("民", "航", _A, _A, _A, _A, _A), "kksssss"),
    (PlateFormat.ARMED_POLICE, ("W", "J", _P, _D, _D, _D, _D, _A), "kkpsssss"),
    (PlateFormat.ARMED_POLICE, ("W", "J", _D, _D, _A, _A, _A, _A, _A), "kkaasssss"),
    (PlateFormat.MILITARY, (MILITARY, _L, _D, _D, _D, _D, _D), "aasssss"),
    (PlateFormat.FARM, (_P, _D, _D, _D, _D, _D, _D, _D), "paasssss"),
)

_PATTERNS = tuple(
    (fmt, re.compile("".join(f"[{chars}]" for chars in template) + r"\Z"), parts) for fmt, template, parts in _TEMPLATES
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
    prefix: str = ""  # 使, 民航, WJ

    @property
    def display(self) -> str:
        """The plate as printed: `粤B·12345`, `WJ粤·6788B`, `使198476`."""
        head = f"{self.prefix}{self.province}{self.authority}"
        return f"{head}·{self.serial}{self.suffix}" if self.province or self.authority else f"{head}{self.serial}"


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
    for fmt, pattern, parts in _PATTERNS:
        if pattern.match(plate):
            part = {k: "".join(c for c, p in zip(plate, parts) if p == k) for k in "kpasx"}
            return ParsedPlate(
                plate, part["p"], part["a"], part["s"], part["x"],
                fmt if fmt is not None else _SUFFIX_FORMAT[part["x"]], part["k"],
            )  # fmt: skip
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
        PlateFormat.CONSULATE: PlateKind.BLACK,
        PlateFormat.EMBASSY: PlateKind.BLACK,
        PlateFormat.CIVIL_AVIATION: PlateKind.GREEN,
        PlateFormat.ARMED_POLICE: PlateKind.WHITE,
        PlateFormat.MILITARY: PlateKind.WHITE,
        PlateFormat.FARM: PlateKind.GREEN,
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
    for fmt, template, _ in _TEMPLATES:
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
