"""onnxruntime wrappers around the PP-OCRv4 recogniser and detector, with our own pre/post-processing.

`TextLineRecognizer` reads rectified crops in one batch and CTC-decodes them greedily over a
restricted alphabet (a plate's characters): a frame whose full-charset winner is punctuation (the
`·` on a plate) decodes to blank; every other frame picks among the allowed characters only. Each
decoded character comes with its top alternatives, so a grammar can fix `8` to `B` downstream.

`TextDetector` runs the DB detector on a downscaled image and returns rotated text boxes; it is
the alternative candidate finder (the colour/edge finder in `edge.vision.imaging` is cheaper).

Imports nothing of ours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from models.loader import LoadedModel

__all__ = ["DetectedText", "TextDetector", "TextLine", "TextLineRecognizer"]

Image = npt.NDArray[Any]  # OpenCV's MatLike: uint8 BGR in practice

_PUNCTUATION = set("·•.,:;-_—~'\"`|/\\()[]{}<>!?*+=#@%&，。：；、")


@dataclass(frozen=True, slots=True)
class TextLine:
    text: str
    confidence: float  # geometric mean of the characters' probabilities (0 for an empty line)
    char_confidences: tuple[float, ...]
    alternatives: tuple[dict[str, float], ...]  # per character: top candidates -> probability


@dataclass(frozen=True, slots=True)
class DetectedText:
    corners: npt.NDArray[np.float32]  # 4x2, clockwise from top-left, in input image pixels
    score: float


class TextLineRecognizer:
    def __init__(
        self,
        model: LoadedModel,
        *,
        alphabet: str | None = None,
        top_k: int = 4,
        max_width: int = 480,
        min_batch_width: int = 320,
    ) -> None:
        if model.labels is None:
            raise ValueError(f"{model.spec.name}: a recogniser needs a charset")
        self._session = model.session
        self._input = model.spec.input_name
        self._height = model.spec.input_shape[2] or 48
        self._multiple = model.spec.input_multiple
        self._mean = np.array(model.spec.mean, dtype=np.float32).reshape(3, 1, 1)
        self._std = np.array(model.spec.std, dtype=np.float32).reshape(3, 1, 1)
        self._labels = model.labels
        self._top_k = top_k
        self._max_width = max_width
        self._min_batch_width = min_batch_width
        index = {c: i for i, c in enumerate(self._labels) if c}
        if alphabet is None:
            allowed = [i for i, c in enumerate(self._labels) if c and c != " "]
        else:
            missing = [c for c in alphabet if c not in index]
            if missing:
                raise ValueError(f"{model.spec.name}: alphabet characters not in the charset: {missing}")
            allowed = sorted({index[c] for c in alphabet})
        self._allowed = np.array(allowed, dtype=np.int64)
        self._punct = np.array(sorted(index[c] for c in _PUNCTUATION if c in index), dtype=np.int64)

    def _prepare(self, crops: Sequence[Image]) -> npt.NDArray[np.float32]:
        widths = [
            min(self._max_width, max(self._multiple, math.ceil(self._height * c.shape[1] / max(c.shape[0], 1))))
            for c in crops
        ]
        # PaddleOCR pads every line to at least 320 px (ratio 320:48), as in training; a line padded
        # less reads differently (measured on real plates: `WJ1693015` as `W1693015` alone).
        batch_w = -(-max(self._min_batch_width, *widths) // self._multiple) * self._multiple
        batch = np.zeros((len(crops), 3, self._height, batch_w), dtype=np.float32)
        for i, (crop, w) in enumerate(zip(crops, widths, strict=True)):
            resized = cv2.resize(crop, (w, self._height), interpolation=cv2.INTER_AREA)
            chw = resized.transpose(2, 0, 1).astype(np.float32) / 255.0
            batch[i, :, :, :w] = (chw - self._mean) / self._std
        return batch

    def recognize(self, crops: Sequence[Image]) -> list[TextLine]:
        """Read each BGR crop (one text line each) in one batch."""
        if not crops:
            return []
        probs = self._session.run(None, {self._input: self._prepare(crops)})[0]
        return [self._decode(p) for p in probs]

    def _decode(self, probs: npt.NDArray[np.float32]) -> TextLine:
        full_best = probs.argmax(axis=1)
        restricted = probs[:, self._allowed]
        blank = probs[:, 0]
        is_blank = (blank >= restricted.max(axis=1)) | np.isin(full_best, self._punct)
        choice = np.where(is_blank, -1, restricted.argmax(axis=1))
        text: list[str] = []
        confs: list[float] = []
        alts: list[dict[str, float]] = []
        t, n = 0, len(choice)
        while t < n:
            c = int(choice[t])
            end = t + 1
            while end < n and choice[end] == c:
                end += 1
            if c >= 0:
                span = restricted[t:end]
                peak = int(span[:, c].argmax())
                row = span[peak] / max(float(span[peak].sum()), 1e-9)
                top = np.argsort(row)[::-1][: self._top_k]
                alts.append({self._labels[int(self._allowed[k])]: float(row[k]) for k in top})
                text.append(self._labels[int(self._allowed[c])])
                confs.append(float(row[c]))
            t = end
        confidence = math.exp(sum(math.log(max(p, 1e-9)) for p in confs) / len(confs)) if confs else 0.0
        return TextLine("".join(text), confidence, tuple(confs), tuple(alts))


class TextDetector:
    """DB text detection on an image downscaled so its longer side is `max_side` pixels."""

    def __init__(
        self,
        model: LoadedModel,
        *,
        max_side: int = 960,
        threshold: float = 0.3,
        box_threshold: float = 0.5,
        unclip_ratio: float = 1.6,
        min_size: float = 3.0,
    ) -> None:
        self._session = model.session
        self._input = model.spec.input_name
        self._multiple = model.spec.input_multiple
        self._mean = np.array(model.spec.mean, dtype=np.float32)
        self._std = np.array(model.spec.std, dtype=np.float32)
        self.max_side = max_side
        self.threshold = threshold
        self.box_threshold = box_threshold
        self.unclip_ratio = unclip_ratio
        self.min_size = min_size

    def detect(self, image: Image) -> list[DetectedText]:
        h, w = image.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        rh = max(self._multiple, round(h * scale / self._multiple) * self._multiple)
        rw = max(self._multiple, round(w * scale / self._multiple) * self._multiple)
        resized = cv2.resize(image, (rw, rh), interpolation=cv2.INTER_AREA)
        x = ((resized.astype(np.float32) / 255.0 - self._mean) / self._std).transpose(2, 0, 1)[None]
        prob = self._session.run(None, {self._input: x})[0][0, 0]
        mask = cv2.dilate((prob > self.threshold).astype(np.uint8), np.ones((2, 2), np.uint8))
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        sx, sy = w / rw, h / rh
        found: list[DetectedText] = []
        for contour in contours:
            if len(contour) < 4:
                continue
            (cx, cy), (bw, bh), angle = cv2.minAreaRect(contour)
            if min(bw, bh) < self.min_size:
                continue
            bx, by, ww, hh = cv2.boundingRect(contour)
            region = np.zeros((hh, ww), np.uint8)
            cv2.fillPoly(region, [contour.reshape(-1, 2) - [bx, by]], 1)
            score = float(cv2.mean(prob[by : by + hh, bx : bx + ww], region)[0])
            if score < self.box_threshold:
                continue
            area, perimeter = bw * bh, 2 * (bw + bh)
            grow = 2 * area * self.unclip_ratio / max(perimeter, 1e-6)
            pts = cv2.boxPoints(((cx, cy), (bw + grow, bh + grow), angle))
            pts[:, 0] = np.clip(pts[:, 0] * sx, 0, w - 1)
            pts[:, 1] = np.clip(pts[:, 1] * sy, 0, h - 1)
            found.append(DetectedText(_order_corners(pts), score))
        return found


def _order_corners(pts: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Top-left, top-right, bottom-right, bottom-left."""
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array([pts[s.argmin()], pts[d.argmin()], pts[s.argmax()], pts[d.argmax()]], dtype=np.float32)
