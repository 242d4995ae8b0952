"""Typing through the kiosk's on-screen keyboard (Qt Virtual Keyboard's pinyin input method), as a
resident does: the letters of the pinyin, then the candidates that make up the word."""

from __future__ import annotations

from pathlib import Path

from ui.kiosk.ime import dictionary_files
from ui.kiosk.keyboard import OnScreenKeyboard

__all__ = ["dictionary_holds", "type_keys", "type_pinyin"]


def type_keys(keyboard: OnScreenKeyboard, keys: str) -> None:
    for key in keys:
        keyboard.press(key)


def type_pinyin(keyboard: OnScreenKeyboard, pinyin: str, word: str) -> int:
    """Type `pinyin`, then pick candidates until `word` is committed: the whole word when it is offered,
    else the longest leading part of what is left (as a resident builds a phrase the dictionary lacks).
    Returns how many candidates were picked; fails with what was offered when nothing fits."""
    assert keyboard.composition == "", f"a composition is pending: {keyboard.composition!r}"
    type_keys(keyboard, pinyin)
    rest, picks = word, 0
    while rest:
        offered = keyboard.candidates()
        fitting = [c for c in offered if c and rest.startswith(c)]
        assert fitting, f"{word} ({pinyin}): nothing offered starts {rest!r}: {offered[:12]}"
        best = max(fitting, key=len)
        keyboard.choose(offered.index(best))
        rest, picks = rest[len(best) :], picks + 1
    assert keyboard.composition == "", f"{word} ({pinyin}): {keyboard.composition!r} left uncommitted"
    return picks


def dictionary_holds(directory: Path, texts: list[str]) -> list[str]:
    """Which of `texts` the input method's dictionary files hold (UTF-16 as it stores them, or UTF-8)."""
    data = b"".join(p.read_bytes() for p in dictionary_files(directory))
    return [t for t in texts if t.encode("utf-16-le") in data or t.encode("utf-8") in data]
