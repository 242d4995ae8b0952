"""OpenCV image work for the plate pipeline: find candidates, rectify, classify colour, snapshot.

Runs only in a camera worker process (it imports OpenCV). The candidate finder is cheap and runs
before any OCR, on a frame downscaled to `work_width`:

1. vertical edges (Sobel x), closed with two horizontal kernels so a plate's characters merge into
   one blob at near and far distances;
2. blobs are kept when their size and aspect ratio fit a plate, and when their pixels are mostly
   one plate colour (blue, yellow, green, white);
3. each survivor is verified by its characters: binarised (both polarities), it must hold at least
   `min_chars` tall, narrow connected components (a window grid or a grille has square cells);
4. overlapping candidates are merged and the best `max_candidates` kept.

Snapshots pixelate every pixel outside the vehicle's lower front (the plate and the bumper around
it) and blur the faces a face detector finds in what is kept (see `SnapshotMaker`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from edge.vision.messages import Snapshot
from edge.vision.tracker import Box
from edge.wire.plates import PlateKind

__all__ = [
    "CandidateFinder",
    "PlateCandidate",
    "PlateCrops",
    "SnapshotMaker",
    "classify_colour",
    "plate_crops",
    "rectify",
    "sub_quad",
]

Image = npt.NDArray[Any]  # OpenCV's MatLike: uint8 BGR in practice

# HSV ranges (OpenCV hue is 0..180)
_COLOUR_RANGES: dict[PlateKind, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    PlateKind.BLUE: ((100, 90, 60), (125, 255, 255)),
    PlateKind.YELLOW: ((12, 90, 90), (35, 255, 255)),
    PlateKind.GREEN: ((35, 40, 90), (85, 255, 255)),
    PlateKind.WHITE: ((0, 0, 120), (180, 50, 255)),
}


@dataclass(frozen=True, slots=True)
class PlateCandidate:
    corners: npt.NDArray[np.float32]  # 4x2 frame pixels: top-left, top-right, bottom-right, bottom-left
    box: Box  # axis-aligned, frame pixels
    colour: PlateKind | None
    score: float


def _order(pts: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array([pts[s.argmin()], pts[d.argmin()], pts[s.argmax()], pts[d.argmax()]], dtype=np.float32)


def _colour_masks(hsv: Image) -> dict[PlateKind, Image]:
    return {k: cv2.inRange(hsv, np.array(lo), np.array(hi)) for k, (lo, hi) in _COLOUR_RANGES.items()}


def _dominant_colour(crop: Image) -> tuple[PlateKind | None, float]:
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
    fractions = {k: float(np.count_nonzero(m)) / m.size for k, m in _colour_masks(hsv).items()}
    kind = max(fractions, key=lambda k: fractions[k])
    return kind, fractions[kind]


def classify_colour(crop: Image, *, min_fraction: float = 0.25) -> PlateKind | None:
    """The plate colour covering most of a BGR crop, or None when no plate colour dominates."""
    if crop.size == 0:
        return None
    kind, fraction = _dominant_colour(crop)
    return kind if fraction >= min_fraction else None


def _char_count(frame: Image, x: float, y: float, w: float, h: float) -> int:
    """How many character-shaped components a text region holds (best of both polarities).

    Counted on the full-resolution frame: at the finder's working scale the characters of a
    small 8-character plate are 6 px wide and merge. The region is taken nearly as found (5%
    taller): grown further, it takes in the plate's border, which small blurred characters touch.
    """
    y0, y1 = max(0, int(y - 0.05 * h)), min(frame.shape[0], int(y + 1.05 * h))
    x0, x1 = max(0, int(x - 0.03 * w)), min(frame.shape[1], int(x + 1.03 * w))
    if y1 <= y0 or x1 <= x0:
        return 0
    crop = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
    side = 40
    crop = cv2.resize(crop, (max(8, int(crop.shape[1] * side / crop.shape[0])), side), interpolation=cv2.INTER_LINEAR)
    _, binary = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    best = 0
    thin = np.ones((1, 3), np.uint8)  # blur merges neighbouring characters: also try them thinned
    for thinned in (False, True):
        for polarity in (binary, cv2.bitwise_not(binary)):
            img = cv2.erode(polarity, thin) if thinned else polarity
            _, _, stats, _ = cv2.connectedComponentsWithStats(img, connectivity=4)
            hs, ws = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
            solidity = stats[1:, cv2.CC_STAT_AREA] / np.maximum(hs * ws, 1)
            # strokes, not solid blocks (a window grid's cells are filled squares)
            tall = (hs >= 0.4 * side) & (solidity <= 0.8) & (ws <= 4 * hs)
            # a blob of several merged characters counts as about width / (0.55 * height) of them
            count = int(np.clip(np.round(ws[tall] / (0.55 * hs[tall])), 1, 4).sum())
            best = max(best, count)
    return best


class CandidateFinder:
    def __init__(
        self,
        *,
        work_width: int = 960,
        min_plate_width: int = 80,
        max_width_fraction: float = 0.4,
        aspect: tuple[float, float] = (1.8, 7.0),
        min_colour_fraction: float = 0.3,
        min_chars: int = 5,
        max_candidates: int = 6,
    ) -> None:
        self.work_width = work_width
        self.min_plate_width = min_plate_width
        self.max_width_fraction = max_width_fraction
        self.aspect = aspect
        self.min_colour_fraction = min_colour_fraction
        self.min_chars = min_chars
        self.max_candidates = max_candidates

    def find(self, frame: Image) -> list[PlateCandidate]:
        h, w = frame.shape[:2]
        scale = min(1.0, self.work_width / w)
        small = cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        sh, sw = small.shape[:2]
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        gx = cv2.convertScaleAbs(cv2.Sobel(gray, cv2.CV_16S, 1, 0, ksize=3))
        _, edges = cv2.threshold(gx, 50, 255, cv2.THRESH_BINARY)
        min_w = max(12.0, self.min_plate_width * scale * 0.8)
        found: list[tuple[float, PlateCandidate]] = []
        for kw in (9, 17):
            closed = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (kw, 3)))
            opened = cv2.morphologyEx(
                closed, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (kw // 2 + 1, 5))
            )
            contours, _ = cv2.findContours(opened, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            for contour in contours:
                x, y, bw, bh = cv2.boundingRect(contour)
                if bw < min_w or bh < 8 or bw > sw * self.max_width_fraction:
                    continue
                if x <= 1 or y <= 1 or x + bw >= sw - 1 or y + bh >= sh - 1:
                    continue  # touching the frame edge: a partial plate reads as a wrong valid plate
                if not self.aspect[0] <= bw / bh <= self.aspect[1]:
                    continue
                if cv2.contourArea(contour) < 0.5 * bw * bh:
                    continue
                colour, fraction = _dominant_colour(small[y : y + bh, x : x + bw])
                if fraction < self.min_colour_fraction:
                    continue
                chars = _char_count(frame, x / scale, y / scale, bw / scale, bh / scale)
                if chars < self.min_chars:
                    continue
                (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
                corners = _order(cv2.boxPoints(((cx, cy), (rw, rh), angle)).astype(np.float32)) / scale
                box = Box(x / scale, y / scale, bw / scale, bh / scale)
                # prefer a whole plate's text row (4.5:1, 5:1 for 8 characters) to a piece of it
                prior = math.exp(-((((bw / bh) - 4.8) / 2.0) ** 2))
                found.append((fraction * min(chars, 8) * prior, PlateCandidate(corners, box, colour, fraction)))
        found.sort(key=lambda sc: -sc[0])
        kept: list[PlateCandidate] = []
        for _, cand in found:  # the two kernels often find the same blob; a plate and its serial both stay
            if all(cand.box.iou(k.box) < 0.7 for k in kept):
                kept.append(cand)
            if len(kept) >= self.max_candidates:
                break
        return kept


def rectify(
    frame: Image,
    corners: npt.NDArray[np.float32],
    *,
    height: int = 48,
    margin: tuple[float, float] = (0.04, 0.18),
    widen: float = 1.5,
) -> Image:
    """Warp the quadrilateral (grown by `margin` of its width, height) to a canonical upright crop.

    The crop is `widen` times wider than the plate's proportions: plate characters are twice as
    tall as wide, and the recogniser, trained on ordinary text, reads them better widened
    (measured on generated stills: Q read as 0 in 3 of 40 plates unwidened, none at 1.5).
    """
    tl, tr, br, bl = corners.astype(np.float32)
    centre = corners.mean(axis=0)
    right = ((tr - tl) + (br - bl)) / 2
    down = ((bl - tl) + (br - tr)) / 2
    grown = np.array(
        [
            centre + (-0.5 - margin[0]) * right + (-0.5 - margin[1]) * down,
            centre + (0.5 + margin[0]) * right + (-0.5 - margin[1]) * down,
            centre + (0.5 + margin[0]) * right + (0.5 + margin[1]) * down,
            centre + (-0.5 - margin[0]) * right + (0.5 + margin[1]) * down,
        ],
        dtype=np.float32,
    )
    wide = float(np.linalg.norm(right)) * (1 + 2 * margin[0])
    tall = max(float(np.linalg.norm(down)) * (1 + 2 * margin[1]), 1.0)
    width = round(height * min(max(wide / tall, 2.0), 6.0) * widen)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(grown, target)
    out: Image = cv2.warpPerspective(
        frame, matrix, (width, height), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
    )
    return out


def sub_quad(
    corners: npt.NDArray[np.float32], y0: float, y1: float, x0: float = 0.0, x1: float = 1.0
) -> npt.NDArray[np.float32]:
    """The part of a plate quadrilateral between fractions `y0..y1` of its height and `x0..x1` of its width."""
    tl, tr, br, bl = corners.astype(np.float32)
    left0, right0 = tl + (bl - tl) * y0, tr + (br - tr) * y0
    left1, right1 = tl + (bl - tl) * y1, tr + (br - tr) * y1
    return np.array(
        [left0 + (right0 - left0) * x0, left0 + (right0 - left0) * x1,
         left1 + (right1 - left1) * x1, left1 + (right1 - left1) * x0],
        dtype=np.float32,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class PlateCrops:
    """The crops one plate is read from: whole (two framings) and, when it may be double-row, its rows."""

    singles: tuple[Image, ...]
    tops: tuple[Image, ...] = ()
    bottoms: tuple[Image, ...] = ()

    def all(self) -> list[Image]:
        return [*self.singles, *self.tops, *self.bottoms]


# A double-row plate (GA 36: 440x220 mm, 220x140 mm for motorcycles) has a short top row (province and
# letter, or WJ and province) over a tall bottom row (the serial): the top row is the upper ~40%.
_TOP_ROWS = ((0.0, 0.4, 0.0, 1.0, (0.04, 0.1)), (0.03, 0.38, 0.15, 0.85, (0.0, 0.1)))
_BOTTOM_ROW = (0.33, 1.0, 0.0, 1.0, (0.04, 0.05))


def plate_crops(
    frame: Image, corners: npt.NDArray[np.float32], *, max_double_aspect: float = 2.8, double_rows: bool = True
) -> PlateCrops:
    """Rectified crops of the plate with these four corners (top-left, top-right, bottom-right, bottom-left).

    A single-row plate is 3.1:1 (440x140 mm); a double-row one 2:1 or less. Seen at an angle or
    framed loosely, either can look 2:1 to 2.7:1, so below `max_double_aspect` both readings are tried
    (unless `double_rows` is False).
    """
    tl, tr, br, bl = corners.astype(np.float32)
    aspect = float(np.linalg.norm((tr - tl + br - bl) / 2)) / max(float(np.linalg.norm((bl - tl + br - tr) / 2)), 1.0)
    singles = (rectify(frame, corners), rectify(frame, corners, margin=(0.0, 0.0), widen=1.0))
    if aspect >= max_double_aspect or not double_rows:
        return PlateCrops(singles)
    tops = tuple(rectify(frame, sub_quad(corners, *r[:4]), margin=r[4], widen=1.0) for r in _TOP_ROWS)
    y0, y1, x0, x1, margin = _BOTTOM_ROW
    return PlateCrops(singles, tops, (rectify(frame, sub_quad(corners, y0, y1, x0, x1), margin=margin),))


FaceFinder = Callable[[Image], Sequence[tuple[float, float, float, float]]]  # BGR image -> face boxes x, y, w, h


class SnapshotMaker:
    """The scene of a hit with privacy applied, and the plate crop.

    Everything outside the vehicle's lower front (the plate and the bumper around it, below any
    windscreen) is pixelated; faces the detector finds in the part kept sharp (a passer-by in front of
    the bumper) are blurred too. Pixelating is the default rather than blurring only the faces a
    detector finds, because a detector misses faces: behind a windscreen (measured: the CenterFace
    detector in `models.face_det` found no driver in the development photos), in profile, small or
    in the dark; and a missed face in a stored snapshot cannot be taken back.
    """

    def __init__(self, *, max_width: int = 1280, quality: int = 80, faces: FaceFinder | None = None) -> None:
        self.max_width = max_width
        self.quality = quality
        self.faces = faces

    @property
    def privacy(self) -> str:
        return "outside-vehicle-pixelated+faces-blurred" if self.faces is not None else "outside-vehicle-pixelated"

    def make(self, frame: Image, box: Box) -> Snapshot:
        """The privacy-filtered scene and the plate crop; `box` is the plate in frame pixels."""
        plate = box
        h, w = frame.shape[:2]
        px0, py0 = max(0, int(plate.x)), max(0, int(plate.y))
        px1, py1 = min(w, int(plate.x + plate.w)), min(h, int(plate.y + plate.h))
        plate_jpeg = _jpeg(frame[py0:py1, px0:px1], 90) if px1 > px0 and py1 > py0 else b""
        scale = min(1.0, self.max_width / w)
        scene = cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        box = plate.scaled(scale)
        scene = _pixelate_outside(scene, box, self.faces)
        return Snapshot(
            jpeg=_jpeg(scene, self.quality),
            plate_jpeg=plate_jpeg,
            box=box,
            width=scene.shape[1],
            height=scene.shape[0],
            privacy=self.privacy,
        )


def _pixelate_outside(scene: Image, plate: Box, faces: FaceFinder | None = None) -> Image:
    """Keep the plate and the bumper around it sharp (below any windscreen), its faces blurred; pixelate the rest."""
    h, w = scene.shape[:2]
    x0, x1 = int(max(0, plate.x - 1.6 * plate.w)), int(min(w, plate.x + 2.6 * plate.w))
    y0, y1 = int(max(0, plate.y - 0.9 * plate.w)), int(min(h, plate.y + 1.5 * plate.h))
    coarse = cv2.resize(scene, (max(1, w // 24), max(1, h // 24)), interpolation=cv2.INTER_AREA)
    out: Image = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_NEAREST)
    kept = scene[y0:y1, x0:x1].copy()
    if faces is not None and kept.size:
        for fx, fy, fw, fh in faces(kept):
            # grown by a quarter each way: a detector's box is tight around the eyes and mouth
            gx0, gy0 = max(0, int(fx - fw / 4)), max(0, int(fy - fh / 4))
            gx1, gy1 = min(kept.shape[1], int(fx + fw * 1.25)), min(kept.shape[0], int(fy + fh * 1.25))
            if gx1 > gx0 and gy1 > gy0:
                kept[gy0:gy1, gx0:gx1] = cv2.GaussianBlur(kept[gy0:gy1, gx0:gx1], (0, 0), max(2.0, fw / 4))
    out[y0:y1, x0:x1] = kept
    return out


def _jpeg(image: Image, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(buf)
