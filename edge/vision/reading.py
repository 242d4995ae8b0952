"""From the recogniser's per-character alternatives to one plate: single row, double row, several crops.

Pure: no I/O, no OpenCV. A detected plate is read from several crops of it (the rectified plate with
and without a margin; for a plate that may be double-row, its top and bottom rows apart). Each
crop's characters arrive as `slots` (top candidates -> probability, one mapping per character).

* a single-row crop is one sequence of slots; a double-row reading is a top-row sequence followed by
  the bottom row's (`京E` + `A5331` -> `京EA5331`);
* a crop's edge (a rivet, the frame) sometimes adds one spurious low-confidence character: a reading
  may drop one slot whose best probability is below `drop_below`, paying `1 - p` for it;
* the reading kept is the one with the most characters (a lost province is the usual failure, and
  `BD01366` without its `粤` is still a valid military plate), then the highest confidence;
* a reading whose weakest character is below `min_char` is no reading, and one with a character
  below `confirm_below` counts only when another crop of the plate reads the same plate: a province
  guessed on a plate too small to show it would be a wrong plate, which is worse than none (measured
  on real photos: a blurred 辽 read as 皖 at 0.38 in one crop and as nothing in the other, while a
  blurred 粤 read as 粤 at 0.31 in both).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edge.wire.plates import PlateGuess, best_plate

__all__ = ["Reading", "Slots", "best_reading", "plate_from_slots"]

Slots = Sequence[Mapping[str, float]]


@dataclass(frozen=True, slots=True)
class Reading:
    guess: PlateGuess
    rows: int  # 1 or 2

    @property
    def text(self) -> str:
        return self.guess.plate.text

    @property
    def confidence(self) -> float:
        return self.guess.confidence


def plate_from_slots(slots: Slots, *, drop_below: float = 0.6) -> PlateGuess | None:
    """The best valid plate from the slots as read, or with one weak slot dropped (longest first)."""
    found: list[tuple[int, float, PlateGuess]] = []
    guess = best_plate(slots)
    if guess is not None:
        found.append((len(guess.char_confidences), math.log(guess.confidence) * len(guess.char_confidences), guess))
    for i, slot in enumerate(slots):
        top = max(slot.values(), default=0.0)
        if top >= drop_below:
            continue
        guess = best_plate([s for k, s in enumerate(slots) if k != i])
        if guess is not None:
            n = len(guess.char_confidences)
            found.append((n, math.log(guess.confidence) * n + math.log(max(1.0 - top, 1e-9)), guess))
    return max(found, key=lambda f: f[:2])[2] if found else None


def best_reading(
    singles: Sequence[Slots],
    tops: Sequence[Slots] = (),
    bottoms: Sequence[Slots] = (),
    *,
    min_char: float = 0.02,
    confirm_below: float = 0.5,
    drop_below: float = 0.6,
) -> Reading | None:
    """The best reading of one plate from its single-row crops and (optionally) its row crops."""
    options: list[tuple[Reading, int]] = []  # reading, the crop (or top-row crop) it came from
    for n, slots in enumerate(singles):
        guess = plate_from_slots(slots, drop_below=drop_below)
        if guess is not None:
            options.append((Reading(guess, 1), n))
    for n, top in enumerate(tops, start=len(singles)):
        for bottom in bottoms:
            guess = plate_from_slots([*top, *bottom], drop_below=drop_below)
            if guess is not None:
                options.append((Reading(guess, 2), n))
    support: dict[str, set[int]] = {}
    for reading, n in options:
        support.setdefault(reading.text, set()).add(n)
    kept = []
    for reading, _ in options:
        weakest = min(reading.guess.char_confidences, default=0.0)
        if weakest >= confirm_below or (weakest >= min_char and len(support[reading.text]) > 1):
            kept.append(reading)
    return max(kept, key=lambda r: (len(r.text), r.confidence), default=None)
