"""The strict tools run as tests: ruff, mypy --strict and the import-linter contracts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff() -> None:
    res = run(sys.executable, "-m", "ruff", "check", ".")
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


def test_ruff_format() -> None:
    """One formatter: the tree is as `ruff format` writes it."""
    res = run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


@pytest.mark.slow
def test_mypy_strict() -> None:
    res = run(sys.executable, "-m", "mypy")
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


def test_import_contracts() -> None:
    res = run(str(BIN / "lint-imports"))
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
