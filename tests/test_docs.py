"""The documentation stays true to the code: generated sections are current, every topic is documented,
the example configurations check as they claim, and the systemd units verify."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from edge.config.station import EdgeConfig
from edge.wire import messages as wire
from tests.support.require import require

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
UNITS = sorted((ROOT / "systemd").glob("*.service"))
POLICE_KIOSK = [sys.executable, "-m", "police_kiosk"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


# ---- generated sections ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "script", ["scripts/gen_api_docs.py", "scripts/gen_config_docs.py", "scripts/gen_local_api_docs.py"]
)
def test_generated_sections_are_up_to_date(script: str) -> None:
    res = run(sys.executable, script, "--check")
    assert res.returncode == 0, f"{res.stderr}{res.stdout}(run `{sys.executable} {script}` and commit the result)"


def test_every_topic_in_the_wire_docstring_is_documented() -> None:
    topics = re.findall(r"^\s+(police/v1/\S+)", wire.__doc__ or "", re.MULTILINE)
    assert len(topics) >= 8, f"the topic list in edge/wire/messages.py's docstring changed shape: {topics}"
    text = (DOCS / "mqtt-api.md").read_text(encoding="utf-8")
    missing = [t for t in topics if f"`{t}`" not in text]
    assert not missing, f"docs/mqtt-api.md does not document {missing}"


# ---- example configurations ----------------------------------------------------------------------------
def test_the_good_examples_pass_check_config() -> None:
    res = run(*POLICE_KIOSK, "check-config", "--no-files", "examples/station.toml", "examples/station-minimal.toml")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        "examples/station.toml: ok (station SZ-FT-0042)",
        "examples/station-minimal.toml: ok (station SZ-FT-0042)",
    ]


def _line_of(path: Path, needle: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith(needle):
            return n
    raise AssertionError(f"{path.name} has no line starting with {needle!r}")


def test_the_bad_example_fails_naming_file_line_and_key() -> None:
    res = run(*POLICE_KIOSK, "check-config", "examples/bad-station.toml")
    assert res.returncode != 0
    bad = EXAMPLES / "bad-station.toml"
    expected = {
        "station.id = 'SZ/FT/0042'": _line_of(bad, "id = "),
        "uplink.keep_alive: unknown key": _line_of(bad, "keep_alive = "),
        "uplink.window = 0": _line_of(bad, "window = "),
        "logging.level = 'VERBOSE'": _line_of(bad, "level = "),
    }
    for message, line in expected.items():
        assert f"examples/bad-station.toml:{line}: {message}" in res.stderr, res.stderr


def test_the_check_config_output_shown_in_the_docs_is_the_real_one() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    shown = re.search(
        r"^\$ police-kiosk check-config examples/bad-station.toml\n(.*?)^\$ ", text, re.MULTILINE | re.DOTALL
    )
    assert shown is not None, "docs/configuration.md no longer shows check-config on examples/bad-station.toml"
    res = run(*POLICE_KIOSK, "check-config", "examples/bad-station.toml")
    assert shown.group(1) == res.stderr


def _table_texts(toml_text: str) -> dict[str, str]:
    """`[name]` -> the text up to the next table header (commented-out keys included)."""
    parts = re.split(r"^\[([A-Za-z0-9_.]+)\]\s*$", toml_text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_the_full_example_shows_every_table_and_every_key_of_the_spine() -> None:
    tables = _table_texts((EXAMPLES / "station.toml").read_text(encoding="utf-8"))
    for section, info in EdgeConfig.model_fields.items():
        assert section in tables, f"examples/station.toml has no [{section}] table"
        model = info.annotation
        assert isinstance(model, type)
        assert issubclass(model, BaseModel)
        if model.__module__ != "edge.config.station":
            continue  # a component's table: documented in docs/configuration.md, shown where it is used
        for key in model.model_fields:
            assert re.search(rf"^#?\s*{key}\s*=", tables[section], re.MULTILINE), (
                f"examples/station.toml: [{section}] shows no `{key} = ...` line (set or commented out)"
            )


# ---- systemd units -------------------------------------------------------------------------------------
def _directives(unit: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_the_units_match_what_the_programs_send_to_systemd() -> None:
    edge = _directives(ROOT / "systemd" / "police-kiosk-edge.service")
    hub = _directives(ROOT / "systemd" / "police-kiosk-hub.service")
    for unit in (edge, hub):
        assert unit["Type"] == ["notify"]
        assert unit["NotifyAccess"] == ["main"]
    # What the programs send is tested by running them (tests/edge/test_systemd_notify.py,
    # tests/hub/test_systemd_notify.py); here only that the units ask for it, and the hub feeds its watchdog.
    assert edge.get("WatchdogSec")
    assert hub.get("WatchdogSec")
    assert edge["ExecStart"] == ["/opt/police-kiosk/venv/bin/police-kiosk edge --config /etc/police-kiosk/station.toml"]


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    host_units = next((p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()), None)
    require(shutil.which("systemd-analyze") and host_units, "systemd-analyze and its unit directory (package systemd)")
    assert host_units is not None
    # A scratch root: the host's units (sysinit.target, ...), ours, and stand-ins for the programs the
    # units start, which are not installed here.
    root = tmp_path / "root"
    shutil.copytree(host_units, root / "usr" / "lib" / "systemd" / "system", symlinks=True)
    for exe in ("opt/police-kiosk/venv/bin/police-kiosk", "usr/bin/cage"):
        path = root / exe
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\nexit 0\n")
        path.chmod(0o755)
    unit_dir = root / "etc" / "systemd" / "system"
    unit_dir.mkdir(parents=True)
    assert len(UNITS) == 3
    for unit in UNITS:
        shutil.copy(unit, unit_dir / unit.name)
    res = run("systemd-analyze", "verify", f"--root={root}", *(str(unit_dir / u.name) for u in UNITS))
    # Unknown or misplaced directives are only warnings (exit code 0): any output at all fails.
    assert res.returncode == 0, res.stderr
    assert not (res.stdout + res.stderr).strip(), res.stdout + res.stderr
