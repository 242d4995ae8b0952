"""Reading plates in one image: the trained detector, rectification, rows, the recogniser, the grammar.

`OcrAnalyser` is the image work of the camera worker (`edge.vision.worker`), of `police-kiosk vision
read` and of the benchmarks: one code path for stills and live video. Runs only in a worker or tool
process (it imports OpenCV through `imaging` and onnxruntime through `models`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from edge.vision.imaging import CandidateFinder, PlateCrops, classify_colour, plate_crops, rectify
from edge.vision.pipeline import Analysis
from edge.vision.reading import Reading, best_reading
from edge.vision.settings import detector_side_for
from edge.vision.tracker import Box, PlateObservation
from edge.wire.plates import PLATE_ALPHABET, kind_for, parse_plate
from models.loader import open_model
from models.manifest import load_manifest
from models.plate_det import DetectedPlate, PlateCornerDetector
from models.plate_ocr import TextLineRecognizer

__all__ = ["FINDER_MODES", "ImageRead", "OcrAnalyser", "load_image"]

Image = npt.NDArray[Any]  # OpenCV's MatLike: uint8 BGR in practice
FINDER_MODES = ("off", "fallback", "union", "only")


@dataclass(frozen=True, slots=True)
class ImageRead:
    plate: str
    kind: str
    confidence: float
    box: Box


@dataclass(slots=True)
class _Candidate:
    box: Box
    crops: PlateCrops
    small: DetectedPlate | None = None  # a detection small enough to deserve a second look when unsure


class OcrAnalyser:
    """Plates found -> rectified by their corners (rows apart) -> PP-OCRv4 rec (one batch) -> plate grammar.

    Plates are found by the detector trained on real plates (four corners each); `finder` sets what
    the colour/edge finder adds: "off", "fallback" (its candidates when the detector finds none),
    "union" (its candidates that overlap no detection) or "only" (no detector, as before).
    """

    def __init__(
        self, *, recognizer: TextLineRecognizer, finder: CandidateFinder, detector: PlateCornerDetector | None,
        finder_mode: str = "off", min_confidence: float = 0.5, min_char: float = 0.02, min_plate_height: float = 10.0,
        sure: float = 0.8, min_chars: int = 4, detector_max_side: int | None = 960, min_plate_width: int = 80,
        refine_below: float = 24.0, refine_width: int = 160, sure_double: float = 0.95,
    ) -> None:  # fmt: skip
        if finder_mode not in FINDER_MODES or (detector is None and finder_mode != "only"):
            raise ValueError(f"finder mode {finder_mode!r} (detector: {detector is not None})")
        self.recognizer = recognizer
        self.finder = finder
        self.detector = detector
        self.finder_mode = finder_mode
        self.min_confidence = min_confidence
        self.min_char = min_char
        self.sure = sure
        self.min_plate_height = min_plate_height  # below, not even a second look finds characters
        self.refine_below = refine_below
        self.refine_width = refine_width
        self.sure_double = sure_double
        self.min_chars = min_chars
        self.detector_max_side = detector_max_side
        self.min_plate_width = min_plate_width

    @classmethod
    def load(
        cls, *, intra_op_threads: int = 1, min_plate_width: int = 80, max_candidates: int = 6,
        model_dir: Path | None = None, finder_mode: str = "off", detector_max_side: int | None = 960,
    ) -> OcrAnalyser:  # fmt: skip
        manifest = load_manifest()
        model = open_model(manifest["plate_rec"], model_dir=model_dir, intra_op_threads=intra_op_threads)
        detector = None
        if finder_mode != "only":
            det = open_model(manifest["plate_corners"], model_dir=model_dir, intra_op_threads=intra_op_threads)
            detector = PlateCornerDetector(det, max_plates=max_candidates, max_upscale=1.5)
        return cls(
            recognizer=TextLineRecognizer(model, alphabet=PLATE_ALPHABET),
            finder=CandidateFinder(min_plate_width=min_plate_width, max_candidates=max_candidates),
            detector=detector,
            finder_mode=finder_mode,
            detector_max_side=detector_max_side,
            min_plate_width=min_plate_width,
        )

    def detector_side(self, frame: Image) -> int:
        """The detector's input size for this frame: fixed, or (None) just enough for `min_plate_width`."""
        if self.detector_max_side is not None:
            return self.detector_max_side
        return detector_side_for(max(frame.shape[:2]), self.min_plate_width)

    def _candidates(self, frame: Image) -> list[_Candidate]:
        found: list[_Candidate] = []
        if self.detector is not None:
            for d in self.detector.detect(frame, max_side=self.detector_side(frame)):
                tl, tr, br, bl = d.corners
                height = (bl[1] + br[1] - tl[1] - tr[1]) / 2
                if height >= self.min_plate_height:
                    small = d if height < self.refine_below else None
                    found.append(_Candidate(Box(*d.box), plate_crops(frame, d.corners), small))
        if self.finder_mode == "only" or (self.finder_mode == "fallback" and not found) or self.finder_mode == "union":
            for c in self.finder.find(frame):
                if all(c.box.iou(f.box) < 0.1 for f in found):
                    found.append(_Candidate(c.box, PlateCrops((rectify(frame, c.corners),))))
        return found

    def _second_look(self, frame: Image, plate: DetectedPlate, crops: PlateCrops) -> PlateCrops:
        """A small plate's crops, and those of the detector run again on the plate's surroundings enlarged.

        At the frame's scale a plate under ~24 px tall is found, but its corners are off by a few
        pixels, which cuts off the province character (measured on real photos: 辽 read as 皖 at 0.38
        from a 47x15 px detection; 辽 at 0.99 from the same plate's corners found 3.4 times enlarged).
        The enlarged crops are read beside the first single-row ones (its rows replace the first rows:
        a recogniser batch costs ~40 ms a wide crop); `best_reading` weighs them all.
        """
        if self.detector is None:
            return crops
        x, y, w, h = plate.box
        cx, cy = x + w / 2, y + h / 2
        half_w, half_h = 1.1 * w, max(1.5 * h, 0.45 * w)
        x0, y0 = int(max(0.0, cx - half_w)), int(max(0.0, cy - half_h))
        x1, y1 = int(min(frame.shape[1], cx + half_w)), int(min(frame.shape[0], cy + half_h))
        scale = self.refine_width / max(w, 1.0)
        if x1 - x0 < 4 or y1 - y0 < 4 or scale <= 1.0:
            return crops
        window = cv2.resize(frame[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        centre = np.array([(cx - x0) * scale, (cy - y0) * scale], dtype=np.float32)
        near = [d for d in self.detector.detect(window, max_side=max(window.shape[:2]))
                if float(np.linalg.norm(d.corners.mean(axis=0) - centre)) < 0.5 * w * scale]  # fmt: skip
        if not near:
            return crops
        # a plate the first look saw as single-row stays so (its rows would cost ~60 ms for nothing)
        again = plate_crops(window, max(near, key=lambda d: d.score).corners, double_rows=bool(crops.tops))
        return PlateCrops((*crops.singles, *again.singles), again.tops, again.bottoms)  # rows: the better framing

    def _read(self, frame: Image, candidates: list[_Candidate]) -> list[Reading | None]:
        """Two passes: each plate's first crop, then every crop of the plates that first read left unsure.

        The first pass settles a plate when its weakest character is at least `sure` (`sure_double`
        when it may be double-row: its rows read apart may tell another plate); a crop that shows fewer
        than `min_chars` characters is not a plate. An unsure small plate gets a second look
        (`_second_look`) before the second pass. The recogniser costs ~20 ms a crop on one core.
        """
        first = self.recognizer.recognize([c.crops.singles[0] for c in candidates])
        readings: list[Reading | None] = []
        unsure: list[int] = []
        for i, (candidate, line) in enumerate(zip(candidates, first, strict=True)):
            crops = candidate.crops
            reading = best_reading([line.alternatives], min_char=self.sure, confirm_below=self.sure)
            readings.append(reading)
            double = bool(crops.tops) and (reading is None or min(reading.guess.char_confidences) < self.sure_double)
            if len(line.text) >= self.min_chars and (reading is None or double or len(crops.singles) < 2):
                unsure.append(i)  # fewer characters than a plate's row: not a plate (a sign, a grille)
        for i in unsure:
            small = candidates[i].small
            if small is not None:
                candidates[i].crops = self._second_look(frame, small, candidates[i].crops)
        rest = [crop for i in unsure for crop in candidates[i].crops.all()[1:]]
        lines = iter(self.recognizer.recognize(rest))
        for i in unsure:
            crops = candidates[i].crops
            singles = [first[i].alternatives, *(next(lines).alternatives for _ in crops.singles[1:])]
            tops = [next(lines).alternatives for _ in crops.tops]
            bottoms = [next(lines).alternatives for _ in crops.bottoms]
            readings[i] = best_reading(singles, tops, bottoms, min_char=self.min_char)
        return readings

    def analyse(self, frame: Image, time: float) -> Analysis:
        candidates = self._candidates(frame)
        observations: list[PlateObservation] = []
        for candidate, reading in zip(candidates, self._read(frame, candidates), strict=True):
            if reading is None or reading.confidence < self.min_confidence:
                continue
            guess = reading.guess
            colour = classify_colour(candidate.crops.singles[-1])
            obs = PlateObservation(
                candidate.box, guess.plate.text, guess.char_confidences, guess.confidence, colour, time
            )
            clash = next((o for o in observations if o.box.iou(obs.box) > 0.3), None)
            if clash is None:
                observations.append(obs)
            elif clash.confidence < obs.confidence:  # two candidates on one plate: keep the better read
                observations[observations.index(clash)] = obs
        return Analysis(tuple(observations), len(candidates))

    def read_image(self, image: Image) -> list[ImageRead]:
        """Every plate in one still image (no tracking), best first."""
        reads: dict[str, ImageRead] = {}
        for obs in self.analyse(image, 0.0).observations:
            parsed = parse_plate(obs.text)
            kind = kind_for(parsed, obs.colour).value if parsed else str(obs.colour or "blue")
            if obs.text not in reads or reads[obs.text].confidence < obs.confidence:
                reads[obs.text] = ImageRead(obs.text, kind, round(obs.confidence, 4), obs.box)
        return sorted(reads.values(), key=lambda r: -r.confidence)


def load_image(path: Path) -> Image | None:
    """A BGR image from a file (any format OpenCV decodes), or None."""
    try:
        data = np.frombuffer(path.read_bytes(), np.uint8)
    except OSError:
        return None
    image: Image | None = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    return image
