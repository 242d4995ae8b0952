"""The limits every wire payload keeps, checked by the hub on receipt and by the station on submit.

A payload that keeps them can be stored by every backend central runs (SQLite, PostgreSQL `TEXT` and
`JSONB`) and handled without deep recursion. `docs/mqtt-api.md` lists them.

- a payload is at most `MAX_PAYLOAD_BYTES` bytes;
- JSON nesting is at most `MAX_DEPTH` levels (arrays and objects, counted from the payload's top);
- every integer is within signed 64-bit (`INT64_MIN`..`INT64_MAX`); seqs and counters say so in
  their schema too;
- no string (object keys included) holds U+0000 or a lone surrogate (PostgreSQL refuses both).
"""

from __future__ import annotations

import re
from typing import Any, Final

__all__ = ["INT64_MAX", "INT64_MIN", "MAX_DEPTH", "MAX_PAYLOAD_BYTES", "BoundsError", "check_value"]

INT64_MAX: Final = 2**63 - 1
INT64_MIN: Final = -(2**63)
#: The relay sends at most 256 KiB of events per batch, and one event's data is at most 256 KiB.
MAX_PAYLOAD_BYTES: Final = 1024 * 1024
MAX_DEPTH: Final = 32
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


class BoundsError(ValueError):
    """A payload or a value outside the wire's limits (the message says which and where)."""


def check_text(value: str, where: str) -> None:
    m = _BAD_CHARS.search(value)
    if m is not None:
        raise BoundsError(f"{where}: U+{ord(m.group()):04X} is not allowed in strings")


def check_value(value: Any, where: str = "$", depth: int = 1, *, texts: bool = True) -> None:
    """Check a decoded JSON value (dicts, lists, str, int, float, bool, None) against the limits.

    `depth` is the nesting level of `value` itself within the payload. `texts=False` skips the string
    checks, for a value decoded from JSON with no `\\u` escape in it (a parser that refuses raw control
    characters and invalid UTF-8 gives no U+0000 and no lone surrogate otherwise). Iterative: a hostile
    depth cannot exhaust the stack here. A quick pass that builds no paths answers for the values that
    keep the limits (the hub checks every event it receives); only a value that fails it is walked
    again to say where.
    """
    if not _keeps_limits(value, depth, texts):
        _explain(value, where, depth)


def _keeps_limits(value: Any, depth: int, texts: bool) -> bool:
    """True when `value` surely keeps the limits; False when it may not (then `_explain` decides)."""
    bad = _BAD_CHARS.search
    stack: list[tuple[Any, int]] = [([value], depth - 1)]
    while stack:
        container, d = stack.pop()
        if d > MAX_DEPTH:
            return False
        if type(container) is dict:
            if texts:
                for k in container:
                    if type(k) is not str or bad(k) is not None:
                        return False
            items: Any = container.values()
        else:
            items = container
        for v in items:
            t = type(v)
            if t is str:
                if texts and bad(v) is not None:
                    return False
            elif t is int:
                if not INT64_MIN <= v <= INT64_MAX:
                    return False
            elif t is dict or t is list or t is tuple:
                stack.append((v, d + 1))
            elif not (v is None or t is bool or t is float):
                return False
    return True


def _explain(value: Any, where: str, depth: int) -> None:
    """Walk `value` with paths and raise BoundsError at the first value outside the limits."""
    stack: list[tuple[Any, str, int]] = [(value, where, depth)]
    while stack:
        v, path, d = stack.pop()
        if isinstance(v, str):
            check_text(v, path)
        elif isinstance(v, bool) or v is None or isinstance(v, float):
            continue
        elif isinstance(v, int):
            if not INT64_MIN <= v <= INT64_MAX:
                raise BoundsError(f"{path}: integer outside signed 64-bit")
        elif isinstance(v, dict):
            if d > MAX_DEPTH:
                raise BoundsError(f"{path}: nested deeper than {MAX_DEPTH} levels")
            for k, item in v.items():
                if isinstance(k, str):
                    check_text(k, f"{path}.<key>")
                stack.append((item, f"{path}.{str(k)[:40]}", d + 1))
        elif isinstance(v, list | tuple):
            if d > MAX_DEPTH:
                raise BoundsError(f"{path}: nested deeper than {MAX_DEPTH} levels")
            for i, item in enumerate(v):
                stack.append((item, f"{path}[{i}]", d + 1))
