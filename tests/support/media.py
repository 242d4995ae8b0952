"""The generator of synthetic plate media (scripts/gen_plate_media.py), loaded as a module."""

from __future__ import annotations

import importlib.util
import sys
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
