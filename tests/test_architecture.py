"""The layout as a newcomer relies on it: no import cycles, allow-lists for the UI and the hub, small modules.

The import graph is computed with grimp (the graph import-linter uses), including imports made only for
type checking, so a cycle hidden behind `if TYPE_CHECKING:` counts too.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("edge", "drivers", "hub", "kiosk", "models", "ui")
MAX_MODULE_LINES = 420  # "about 400": a module past it is a prompt to split along a seam

# What each side MAY import of ours (anything else of ours is a violation). Third-party packages are
# governed by the import-linter contracts in pyproject.toml.
ALLOWED = {
    # the UI talks to the daemon only through the typed client and the wire contract
    "ui": ("ui", "kiosk", "edge.api.client", "edge.wire"),
    # the hub shares only the wire contract (and the sd_notify helper) with the edge
    "hub": ("hub", "edge.wire", "edge.system.sdnotify"),
}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PRODUCT, include_external_packages=False)


def test_no_import_cycle_in_the_product(graph: grimp.ImportGraph) -> None:
    cycles: list[list[str]] = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            if chain is not None:
                cycles.append([module, *chain])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles[:20])


@pytest.mark.parametrize("side", sorted(ALLOWED))
def test_allow_list(graph: grimp.ImportGraph, side: str) -> None:
    allowed = ALLOWED[side]
    bad = []
    for module in sorted(graph.find_descendants(side) | {side}):
        for imported in graph.find_modules_directly_imported_by(module):
            if not any(imported == a or imported.startswith(a + ".") for a in allowed):
                bad.append(f"{module} -> {imported}")
    assert not bad, f"{side} may import only {allowed}:\n" + "\n".join(bad)


def test_edge_has_no_top_level_module_but_the_cli() -> None:
    top = sorted(p.name for p in (ROOT / "edge").glob("*.py") if p.name != "__init__.py")
    assert top == ["cli.py"], top


def test_package_inits_are_docstrings_only() -> None:
    offenders = []
    for pkg in ("edge", "drivers"):
        for init in (ROOT / pkg).rglob("__init__.py"):
            code = [ln for ln in init.read_text().splitlines() if ln.strip() and not ln.startswith(('"""', "#"))]
            text = init.read_text().strip()
            if not (text.startswith('"""') and text.endswith('"""')) or (len(code) > 0 and text.count('"""') != 2):
                offenders.append(str(init.relative_to(ROOT)))
    assert not offenders, offenders


def test_no_module_is_too_long() -> None:
    long = []
    for pkg in PRODUCT:
        for path in (ROOT / pkg).rglob("*.py"):
            n = len(path.read_text().splitlines())
            if n > MAX_MODULE_LINES:
                long.append(f"{path.relative_to(ROOT)}: {n} lines")
    assert not long, "split these along a seam:\n" + "\n".join(long)


def test_tests_import_no_other_test_module(graph: grimp.ImportGraph) -> None:
    offenders = []
    for path in (ROOT / "tests").rglob("*.py"):
        for line in path.read_text().splitlines():
            s = line.strip()
            if s.startswith(("from tests", "import tests")) and "tests.support" not in s:
                offenders.append(f"{path.relative_to(ROOT)}: {s}")
    assert not offenders, "shared test helpers belong in tests/support:\n" + "\n".join(offenders)
