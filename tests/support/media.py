"""The generator of synthetic plate media (scripts/gen_plate_media.py), loaded as a module."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tests.support.paths import ROOT


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_plate_media", ROOT / "scripts" / "gen_plate_media.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_plate_media", module)
    spec.loader.exec_module(module)
    return module


def make_plate_video(path: Path, plates: list[str], *, seconds: int = 6, seed: int = 21) -> Path:
    """A small synthetic clip in which vehicles with these plates drive past, one after another."""
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "gen_plate_media.py"),
            "video",
            str(path),
            "--seconds",
            str(seconds),
            "--size",
            "small",
            "--seed",
            str(seed),
            *[a for p in plates for a in ("--plate", p)],
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return path
