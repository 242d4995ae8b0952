"""A tool or package a test needs: its absence fails the test (naming what to install), never skips it.

`make test` installs every system package the suite needs (scripts/install-system-deps.sh), so a
missing tool is a broken install step, and a green run must mean that every test ran.
"""

from __future__ import annotations

import pytest

__all__ = ["require"]


def require(present: object, what: str) -> None:
    """Fail the calling test unless `present` is truthy; `what` says what is missing and how to get it."""
    if not present:
        pytest.fail(f"missing on this machine: {what} (scripts/install-system-deps.sh installs it)", pytrace=False)
