"""Generated stills read by the analyser, and the `police-kiosk vision` tools as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import ROOT
from tests.support.require import require

GEN = ROOT / "scripts" / "gen_plate_media.py"
STILLS_PER_KIND = 5


def _tool() -> list[str]:
    launcher = Path(sys.executable).parent / "police-kiosk"
    if launcher.exists():
        return [str(launcher)]
    return [sys.executable, "-c", "import sys, police_kiosk; sys.exit(police_kiosk.main())"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def stills(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("stills")
    subprocess.run(
        [sys.executable, str(GEN), "stills", str(out), "--count", str(4 * STILLS_PER_KIND), "--size", "1280x720",
         "--seed", "31"],
        check=True, capture_output=True,
    )  # fmt: skip
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    require(truth["font"] is not None, "a CJK font (Debian package fonts-noto-cjk) to draw Chinese plates")
    return out, truth


def test_generated_stills_of_each_kind_are_read(stills: tuple[Path, dict[str, Any]]) -> None:
    from edge.vision.analyser import OcrAnalyser, load_image

    out, truth = stills
    analyser = OcrAnalyser.load()
    right: Counter[str] = Counter()
    wrong = []
    for item in truth["images"]:
        image = load_image(out / item["file"])
        assert image is not None
        reads = analyser.read_image(image)
        if reads and reads[0].plate == item["plate"]:
            right[item["kind"]] += 1
            assert reads[0].kind == item["kind"]
            x, y, w, h = item["box"]
            box = reads[0].box
            assert x - w * 0.2 <= box.cx <= x + w * 1.2
            assert y - h * 0.5 <= box.cy <= y + h * 1.5
        else:
            wrong.append((item["plate"], [r.plate for r in reads]))
    for kind in ("blue", "yellow", "green", "white"):
        assert right[kind] >= STILLS_PER_KIND - 1, (kind, wrong)
    assert sum(right.values()) >= 4 * STILLS_PER_KIND - 2, wrong


def test_vision_read_prints_one_json_line_per_plate(stills: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    out, truth = stills
    images = truth["images"][:2]
    missing = tmp_path / "missing.jpg"
    proc = subprocess.run(
        [*_tool(), "vision", "read", *(str(out / i["file"]) for i in images), str(missing)],
        capture_output=True, text=True, env=_env(), timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1  # one image could not be read
    assert f"cannot read image {missing}" in proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(line["image"], line["plate"]) for line in lines] == [(str(out / i["file"]), i["plate"]) for i in images]
    assert {"kind", "confidence", "box"} <= set(lines[0])
    assert len(lines[0]["box"]) == 4


def test_vision_run_prints_reads_and_hits(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    subprocess.run(
        [sys.executable, str(GEN), "video", str(clip), "--seconds", "4", "--size", "small", "--seed", "8",
         "--plate", "苏E12345D", "--plate", "粤B8Z527"],
        check=True, capture_output=True,
    )  # fmt: skip
    watch = tmp_path / "watch.json"
    watch.write_text('{"version": 1, "entries": [{"plate": "苏E12345D", "reason": "stolen", "priority": 1}]}',
                     encoding="utf-8")  # fmt: skip
    proc = subprocess.run(
        [*_tool(), "vision", "run", str(clip), "--watch", str(watch), "--fast", "--snapshots", str(tmp_path / "snap")],
        capture_output=True, text=True, env=_env(), timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    hits = [line for line in lines if line["type"] == "PlateHit"]
    reads = [line for line in lines if line["type"] == "PlateReadMessage"]
    assert [(h["plate"], h["kind"], h["entry"]["reason"]) for h in hits] == [("苏E12345D", "green", "stolen")]
    assert [r["plate"] for r in reads] == ["粤B8Z527"]
    assert hits[0]["snapshot"]["jpeg_bytes"] > 1000
    assert lines[-1]["type"] == "CameraStatus"
    assert lines[-1]["state"] == "ended"
    assert len(list((tmp_path / "snap").glob("*.jpg"))) == 2  # scene and plate


def test_vision_usage_errors_exit_2() -> None:
    proc = subprocess.run([*_tool(), "vision", "fly"], capture_output=True, text=True, env=_env(), check=False)
    assert proc.returncode == 2
    proc = subprocess.run([*_tool(), "vision", "run", "x.mp4", "--watch", "/nonexistent/watch.json"],
                          capture_output=True, text=True, env=_env(), check=False)  # fmt: skip
    assert proc.returncode == 2
    assert "no watch-list file" in proc.stderr
