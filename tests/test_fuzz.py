"""A few thousand inputs per parser of scripts/fuzz_parsers.py (the script runs 100,000 each):
every input is parsed or refused with the parser's own error type, never another exception."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from tests.support.paths import ROOT


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_parsers", ROOT / "scripts" / "fuzz_parsers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fuzz_parsers", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


FUZZ = _load()


@pytest.mark.parametrize("target", sorted(FUZZ.TARGETS))
def test_parser_survives_hostile_input(target: str) -> None:
    report = FUZZ.run(target, inputs=3000, seed=11)
    assert report.inputs == 3000
    assert report.parsed + report.own_errors == report.inputs, "\n".join(report.failures)
    assert report.own_errors > 0 or target == "modbus_reply"  # the mutations do reach the refusals


def _load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


def test_station_surfaces_survive_hostile_json_rpc_and_mqtt() -> None:
    """scripts/fuzz_station.py with a few thousand inputs per surface (the script runs 100,000) against
    a real daemon and broker: no internal error, no unanswered request, no failed handler, nothing lost."""
    fuzz = _load_script("fuzz_station")
    reports = fuzz.run(["jsonrpc", "mqtt"], inputs=3000, seed=11)
    for target, report in reports.items():
        assert report.inputs == 3000, target
        assert not report.failures, f"{target}: " + "\n".join(report.failures)
        assert report.refused > 1000, target  # the inputs do reach the refusals
    assert reports["jsonrpc"].answered > 2500
