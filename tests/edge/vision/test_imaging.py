"""OpenCV helpers: candidate finding, rectification, colour and privacy-filtered snapshots."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.vision.imaging import CandidateFinder, SnapshotMaker, classify_colour, plate_crops, rectify, sub_quad
from edge.vision.tracker import Box
from edge.wire.plates import PlateKind
from tests.support.media import load_generator


@pytest.fixture(scope="module")
def scene() -> tuple[np.ndarray, list[float]]:
    gen = load_generator()
    rng = np.random.default_rng(3)
    frame = gen.street_background(1280, 720, rng)
    plate = gen.PlateRenderer().render("粤B12345", "blue")
    at = gen.Placement(640.0, 560.0, 170.0, np.zeros((4, 2), np.float32))
    box = gen.draw_vehicle(frame, plate, at, (235, 235, 235))
    return frame, box


def test_the_plate_is_the_best_candidate(scene: tuple[np.ndarray, list[float]]) -> None:
    frame, box = scene
    found = CandidateFinder().find(frame)
    assert found
    assert found[0].box.iou(Box(*box)) > 0.5
    assert found[0].colour is PlateKind.BLUE
    assert len(found) <= 6


def test_no_candidates_in_a_street_without_vehicles() -> None:
    gen = load_generator()
    frame = gen.street_background(1280, 720, np.random.default_rng(3))
    assert CandidateFinder().find(frame) == []  # windows, signs and lane marks are not plates
    assert CandidateFinder().find(np.zeros((720, 1280, 3), np.uint8)) == []


def test_plates_touching_the_frame_edge_are_skipped(scene: tuple[np.ndarray, list[float]]) -> None:
    frame, box = scene
    x, _, w, _ = (int(v) for v in box)
    cut = np.ascontiguousarray(frame[:, : x + w // 2])  # the right half of the plate is out of view
    assert all(c.box.iou(Box(*box)) < 0.3 for c in CandidateFinder().find(cut))


def test_rectify_warps_a_tilted_quadrilateral_upright() -> None:
    canvas = np.zeros((200, 400, 3), np.uint8)
    corners = np.array([[100, 60], [300, 80], [300, 140], [100, 120]], np.float32)
    cv2.fillConvexPoly(canvas, corners.astype(np.int32), (255, 255, 255))
    crop = rectify(canvas, corners, margin=(0.0, 0.0), widen=1.0)
    assert crop.shape[0] == 48
    assert crop.shape[1] == pytest.approx(48 * 200 / 60, abs=2)
    assert crop[4:-4, 4:-4].min() > 200  # the whole crop is the (white) quadrilateral


def test_colour_classification() -> None:
    def solid(bgr: tuple[int, int, int]) -> np.ndarray:
        return np.full((20, 60, 3), bgr, np.uint8)

    assert classify_colour(solid((170, 68, 12))) is PlateKind.BLUE
    assert classify_colour(solid((20, 190, 245))) is PlateKind.YELLOW
    assert classify_colour(solid((120, 200, 110))) is PlateKind.GREEN
    assert classify_colour(solid((238, 238, 238))) is PlateKind.WHITE
    assert classify_colour(solid((40, 40, 40))) is None


def test_snapshot_keeps_the_plate_sharp_and_hides_the_rest(scene: tuple[np.ndarray, list[float]]) -> None:
    frame, box = scene
    maker = SnapshotMaker(max_width=640)  # no face detector: everything outside the vehicle's front is pixelated
    snap = maker.make(frame, Box(*box))
    assert snap.privacy == "outside-vehicle-pixelated"
    scene_img = cv2.imdecode(np.frombuffer(snap.jpeg, np.uint8), cv2.IMREAD_COLOR)
    plate_img = cv2.imdecode(np.frombuffer(snap.plate_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert scene_img is not None
    assert plate_img is not None
    assert (snap.width, snap.height) == (640, 360) == (scene_img.shape[1], scene_img.shape[0])
    assert plate_img.shape[:2] == (int(box[3]), int(box[2]))
    assert snap.box == Box(*box).scaled(0.5)
    # the upper part of the scene (windows, signs, any face) is reduced to coarse blocks
    top = scene_img[:120].astype(np.float32)
    original_top = cv2.resize(frame, (640, 360), interpolation=cv2.INTER_AREA)[:120].astype(np.float32)
    assert np.abs(np.diff(top, axis=1)).mean() < 0.5 * np.abs(np.diff(original_top, axis=1)).mean()
    # the plate itself keeps its detail
    b = snap.box
    plate_area = scene_img[int(b.y) : int(b.y + b.h), int(b.x) : int(b.x + b.w)].astype(np.float32)
    assert plate_area.std() > 30


def test_faces_found_in_the_sharp_part_are_blurred(scene: tuple[np.ndarray, list[float]]) -> None:
    # No photo of a real face may be downloaded and CenterFace finds no drawn one: the finder is faked
    # (it stands for the photons of a face) and returns a box on the bumper beside the plate.
    frame, box = scene
    plate = Box(*box)
    x0, y0 = int(max(0, plate.x - 1.6 * plate.w)), int(max(0, plate.y - 0.9 * plate.w))
    frame = frame.copy()
    region = (slice(y0 + 10, y0 + 50), slice(x0 + 10, x0 + 50))
    frame[region] = np.kron((np.indices((10, 10)).sum(0) % 2 * 255).astype(np.uint8), np.ones((4, 4), np.uint8))[
        :, :, None
    ]  # detail where the "face" is
    asked: list[tuple[int, ...]] = []

    def finder(kept: np.ndarray) -> list[tuple[float, float, float, float]]:
        asked.append(kept.shape)
        return [(10.0, 10.0, 40.0, 40.0)]

    sharp = SnapshotMaker(max_width=1280).make(frame, plate)
    blurred = SnapshotMaker(max_width=1280, faces=finder).make(frame, plate)
    assert blurred.privacy == "outside-vehicle-pixelated+faces-blurred"
    assert asked  # the detector saw the part kept sharp, not the whole frame
    before = _decoded(sharp.jpeg, cv2.IMREAD_GRAYSCALE)[region].astype(np.float32)
    after = _decoded(blurred.jpeg, cv2.IMREAD_GRAYSCALE)[region].astype(np.float32)
    assert np.abs(np.diff(after, axis=1)).mean() < 0.5 * np.abs(np.diff(before, axis=1)).mean()
    # the plate keeps its detail
    b = blurred.box
    img = _decoded(blurred.jpeg, cv2.IMREAD_COLOR)
    assert img[int(b.y) : int(b.y + b.h), int(b.x) : int(b.x + b.w)].astype(np.float32).std() > 30


def _decoded(jpeg: bytes, flags: int) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), flags)
    assert image is not None
    return image


def _plate_card(text_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """A 440x140 (or 440x220 double-row) blue card with white bars, warped into a tilted quadrilateral."""
    h = 140 if text_rows == 1 else 220
    card = np.zeros((h, 440, 3), np.uint8)
    card[:] = (160, 60, 20)
    if text_rows == 1:
        card[30:110, 40:400] = 255
    else:
        card[20:80, 140:300] = 255  # the short top row
        card[100:200, 40:400] = 255  # the tall bottom row
    corners = np.array([[300, 200], [720, 250], [700, 250 + h * 0.9], [290, 200 + h]], np.float32)
    src = np.array([[0, 0], [440, 0], [440, h], [0, h]], np.float32)
    frame = cv2.warpPerspective(card, cv2.getPerspectiveTransform(src, corners), (1000, 600))
    return frame, corners


def test_rectify_by_four_corners_undoes_the_perspective() -> None:
    frame, corners = _plate_card(1)
    crop = rectify(frame, corners, margin=(0.0, 0.0), widen=1.0)
    assert crop.shape[0] == 48
    assert 2.8 < crop.shape[1] / crop.shape[0] < 3.5  # the plate's own 440:140
    white = crop.min(axis=2) > 200
    rows, cols = np.nonzero(white)
    # the white bar sits where it was printed: 30..110 of 140 rows, 40..400 of 440 columns
    assert abs(rows.min() / 48 - 30 / 140) < 0.06
    assert abs(rows.max() / 48 - 110 / 140) < 0.06
    assert abs(cols.min() / crop.shape[1] - 40 / 440) < 0.04
    assert abs(cols.max() / crop.shape[1] - 400 / 440) < 0.04


def test_sub_quad_takes_fractions_of_height_and_width() -> None:
    quad = np.array([[0, 0], [100, 0], [100, 50], [0, 50]], np.float32)
    top = sub_quad(quad, 0.0, 0.4, 0.1, 0.9)
    assert np.allclose(top, [[10, 0], [90, 0], [90, 20], [10, 20]])


def test_a_squat_plate_is_also_read_row_by_row() -> None:
    frame, corners = _plate_card(2)
    crops = plate_crops(frame, corners)
    assert len(crops.singles) == 2
    assert len(crops.tops) == 2
    assert len(crops.bottoms) == 1
    top = crops.tops[1]  # the centred top-row crop holds the short top row, not the bottom one
    assert (top.min(axis=2) > 200).mean() > 0.3
    bottom = crops.bottoms[0]
    assert (bottom.min(axis=2) > 200).mean() > 0.4
    single, corners = _plate_card(1)
    assert plate_crops(single, corners).tops == ()  # 3.1:1 is single-row only
