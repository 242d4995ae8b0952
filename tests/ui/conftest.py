"""The kiosk's input method is Qt Virtual Keyboard: chosen (with a dictionary directory of this test run)
before pytest-qt makes the QApplication, as `police-kiosk kiosk` does before it makes its own."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ui.kiosk import ime

IME_DIR = Path(tempfile.mkdtemp(prefix="pk-test-ime-"))
ime.prepare(IME_DIR)


def pytest_sessionfinish() -> None:
    shutil.rmtree(IME_DIR, ignore_errors=True)
