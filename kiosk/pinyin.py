"""Pinyin input for the on-screen keyboard: letters in, candidate characters and words out.

The engine is pure and small: a built-in table (`kiosk.pinyin_table`) of common characters per
syllable, a greedy split of what was typed into syllables, and a memory of the candidates a resident
chose in this session (they move to the front). That memory is resident data: `forget()` clears it
when the session is wiped, and `learned` lets tests check that nothing stayed.
"""

from __future__ import annotations

from kiosk.pinyin_table import SYLLABLES, WORDS

__all__ = ["PinyinEngine", "split_syllables"]

_MAX_SYLLABLE = max(len(s) for s in SYLLABLES)


def split_syllables(letters: str) -> list[str]:
    """Greedy longest-match split of `letters` into known syllables; a leftover tail is kept last."""
    out: list[str] = []
    i = 0
    s = letters.lower()
    while i < len(s):
        for n in range(min(_MAX_SYLLABLE, len(s) - i), 0, -1):
            if s[i : i + n] in SYLLABLES:
                out.append(s[i : i + n])
                i += n
                break
        else:
            out.append(s[i:])
            break
    return out


class PinyinEngine:
    def __init__(self, *, max_candidates: int = 24) -> None:
        self.max_candidates = max_candidates
        self._learned: dict[str, list[str]] = {}  # letters -> chosen words, most recent first

    @property
    def learned(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self._learned.items()}

    def candidates(self, letters: str) -> list[str]:
        """Words and characters for what was typed so far, best first."""
        key = letters.lower()
        if not key:
            return []
        out: list[str] = list(self._learned.get(key, []))
        out += [w for w in WORDS.get(key, ()) if w not in out]
        syllables = split_syllables(key)
        first = syllables[0]
        if first in SYLLABLES:
            out += [c for c in SYLLABLES[first] if c not in out]
        else:  # a partial syllable: every syllable it starts
            for syl, chars in SYLLABLES.items():
                if syl.startswith(first):
                    out += [c for c in chars[:3] if c not in out]
        return out[: self.max_candidates]

    def consumed(self, letters: str, chosen: str) -> str:
        """The letters a chosen candidate used up; the rest stays in the composition."""
        key = letters.lower()
        if chosen in self._learned.get(key, []) or chosen in WORDS.get(key, ()):
            return key
        syllables = split_syllables(key)
        if len(chosen) == 1 and syllables:
            return syllables[0]
        return key

    def learn(self, letters: str, chosen: str) -> None:
        key = letters.lower()
        words = self._learned.setdefault(key, [])
        if chosen in words:
            words.remove(chosen)
        words.insert(0, chosen)

    def forget(self) -> None:
        self._learned.clear()
