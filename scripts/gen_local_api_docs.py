"""Regenerate the method reference in docs/local-api.md from the wire contract (`edge.wire.api`).

    .venv/bin/python scripts/gen_local_api_docs.py           # rewrite docs/local-api.md
    .venv/bin/python scripts/gen_local_api_docs.py --check   # exit 1 if the page would change

One region is generated, between `<!-- methods:begin -->` and `<!-- methods:end -->`: every method of
`edge.wire.api.methods.ALL_METHODS` with the roles that may call it, its params (each field with its
type and default) and its result, and the notification topics with the roles that receive them.
tests/test_docs.py runs `--check`, so a method or a role changed without the page fails the tests.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import msgspec

from edge.wire.api.base import TOPICS, Role
from edge.wire.api.methods import ALL_METHODS

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "local-api.md"
BEGIN, END = "<!-- methods:begin -->", "<!-- methods:end -->"


def _type_name(t: Any) -> str:
    name = getattr(t, "__name__", None)
    text = str(t) if name is None or getattr(t, "__args__", None) else name
    return text.replace("typing.", "").replace("edge.wire.api.", "").replace("kiosk.requests.", "")


def _fields(struct: type[msgspec.Struct]) -> str:
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    out = []
    for f in info.fields:
        if f.required:
            out.append(f"`{f.name}`")
        else:
            default = f.default if f.default is not msgspec.NODEFAULT else "…"
            out.append(f"`{f.name}`={msgspec.json.encode(default).decode() if default != '…' else default}")
    return ", ".join(out) or "none"


def _roles(roles: frozenset[Role]) -> str:
    return ", ".join(r.value for r in Role if r in roles)


def render() -> str:
    lines = [BEGIN, "", "| method | roles | params | result | what |", "|---|---|---|---|---|"]
    for m in sorted(ALL_METHODS, key=lambda m: m.name):
        lines.append(f"| `{m.name}` | {_roles(m.roles)} | {_fields(m.params)} | `{_type_name(m.result)}` | {m.doc} |")
    lines += ["", "| topic | received by |", "|---|---|"]
    lines += [f"| `{t}` | {_roles(r)} |" for t, r in sorted(TOPICS.items())]
    lines += ["| any other topic | admin |", "", END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the method reference in docs/local-api.md.")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if the page is out of date")
    args = parser.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    new = text[:start] + render() + text[end:]
    if args.check:
        if new != text:
            print("docs/local-api.md is out of date", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    print("rewrote docs/local-api.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
