"""Configuration errors name the file, the line, the key path and the value; check-config exits non-zero."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.config.station import ConfigError, load_config

GOOD = """
[station]
id = "ST-9"

[uplink]
url = "mqtt://127.0.0.1:1883"
keepalive = 30
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "station.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_a_good_file_loads_with_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.station.id == "ST-9"
    assert cfg.outbox.reserve_bytes > 0
    assert cfg.socket_path == cfg.paths.data_dir / "edge.sock"


def test_unknown_keys_are_errors_with_their_line(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD + "keep_alive = 5\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    (problem,) = err.value.problems
    assert problem.startswith(f"{p}:8: uplink.keep_alive: unknown key")


def test_bad_values_name_key_value_and_bound(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD.replace("keepalive = 30", "keepalive = 1").replace('"ST-9"', '"bad/id"'))
    with pytest.raises(ConfigError) as err:
        load_config(p)
    text = str(err.value)
    assert f"{p}:3: station.id = 'bad/id'" in text
    assert f"{p}:7: uplink.keepalive = 1: Input should be greater than or equal to 5" in text


def test_missing_required_key_and_broken_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"station: required key is missing"):
        load_config(write(tmp_path, "[uplink]\nkeepalive = 30\n"))
    with pytest.raises(ConfigError, match=r"not valid TOML"):
        load_config(write(tmp_path, "[station\nid = 1\n"))
    with pytest.raises(ConfigError, match=r"cannot read"):
        load_config(tmp_path / "missing.toml")


def test_command_line_overrides_win_and_are_validated(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD)
    cfg = load_config(p, overrides={"uplink.window": 16, "station.id": "ST-10"})
    assert (cfg.uplink.window, cfg.station.id) == (16, "ST-10")
    with pytest.raises(ConfigError, match=r"uplink.window = 0"):
        load_config(p, overrides={"uplink.window": 0})


def test_check_config_exit_codes(tmp_path: Path) -> None:
    good = write(tmp_path, GOOD)
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD + "surprise = true\n")
    ok = subprocess.run(
        [sys.executable, "-m", "police_kiosk", "check-config", str(good)], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stderr
    assert "ok (station ST-9)" in ok.stdout
    res = subprocess.run(
        [sys.executable, "-m", "police_kiosk", "check-config", str(good), str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 1
    assert f"{bad}:8: uplink.surprise: unknown key" in res.stderr


def test_edge_refuses_to_start_on_a_bad_setting(tmp_path: Path) -> None:
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "police_kiosk",
            "edge",
            "--station",
            "ST-1",
            "--data-dir",
            str(tmp_path),
            "--set",
            "uplink.window=0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2
    assert "uplink.window = 0" in res.stderr


def test_referenced_files_must_be_readable(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    files = f'keepalive = 30\nca_file = "{ca}"\npassword_file = "{tmp_path}/pw"'
    p = write(tmp_path, GOOD.replace("keepalive = 30", files))
    res = subprocess.run(
        [sys.executable, "-m", "police_kiosk", "check-config", str(p)], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 1
    assert f"uplink.ca_file = '{ca}': cannot read: No such file or directory" in res.stderr
    assert "uplink.password_file" in res.stderr
    skipped = subprocess.run(
        [sys.executable, "-m", "police_kiosk", "check-config", "--no-files", str(p)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert skipped.returncode == 0, skipped.stderr
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "pw").write_text("secret\n")
    ok = subprocess.run(
        [sys.executable, "-m", "police_kiosk", "check-config", str(p)], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stderr
    daemon = subprocess.run(
        [
            sys.executable,
            "-m",
            "police_kiosk",
            "edge",
            "--config",
            str(p),
            "--set",
            f'uplink.key_file="{tmp_path}/missing.key"',
            "--data-dir",
            str(tmp_path / "d"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert daemon.returncode == 2
    assert "uplink.key_file" in daemon.stderr and "cannot read" in daemon.stderr


# ---- --set into a value (issue 12): a configuration error, never a traceback ---------------------------
@pytest.mark.parametrize("setting", ["station.id.x=1", "uplink.url.host=1", "station..id=1", "uplink.keepalive.x.y=2"])
def test_set_into_a_value_is_a_config_error(tmp_path: Path, setting: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOOD), overrides=dict([setting.split("=", 1)]))
    assert setting.split("=", 1)[0] in str(err.value)


def test_edge_with_set_into_a_value_exits_2_with_a_message(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "police_kiosk",
            "edge",
            "--config",
            str(write(tmp_path, GOOD)),
            "--set",
            "station.id.x=1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "--set station.id.x: station.id is a value ('ST-9'), not a table" in done.stderr


def test_set_into_a_value_given_by_a_flag_is_a_config_error_too(tmp_path: Path) -> None:
    """Without a config file `--station X` and `--set station.id.x=1` both set station.id: one of them
    silently won before; now it is a configuration error naming both."""
    done = subprocess.run(
        [sys.executable, "-m", "police_kiosk", "edge", "--station", "ST-9", "--set", "station.id.x=1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "--set station.id.x: station.id is a value ('ST-9'), not a table" in done.stderr
