#!/usr/bin/env python3
"""Benchmark: one 1080p 25 fps street clip through the plate pipeline, beside RapidOCR's own pipeline.

    .venv/bin/python bench/vision.py [--seconds 60] [--size 1080p] [--vehicles N] [--hard] [--rate 5]
                                     [--baseline-every 1] [--no-baseline] [--live] [--keep DIR]
                                     [--second-look-below PX]

Generates the clip and its ground truth (scripts/gen_plate_media.py) into a temporary directory,
then, in this process, with one onnxruntime thread:

1. ours: decode every frame, analyse `rate` frames per second of video (time-sampled), track,
   vote and match a watch list (half the vehicles, plus one-character decoys and random plates);
2. candidate finders compared on the same sampled frames: the plate detector (sized for an 80 px
   plate, as in the camera worker), the colour/edge finder and the DB text detector on a downscaled
   frame (640 and 960 px), by plate recall and cost;
3. the naive baseline: `rapidocr_onnxruntime.RapidOCR` (det + cls + rec on the whole frame) on the
   same sampled frames;
4. with `--live`, the real camera worker process, paced like a live camera, for lag and drops.

Analysis times are wall-clock and, beside them, thread CPU time (what the analysis costs on one
core whatever else the machine runs: the 2-core development box is shared).

Recall counts vehicles whose plate is whole in view for >= 1 s and read exactly at least once;
precision counts reads that equal a plate in view. First-read latency is the video time from the
plate's first whole appearance to the analysed frame that completed the read, plus the time
taken to analyse that frame.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge.vision.analyser import OcrAnalyser
from edge.vision.camera import CameraWorker
from edge.vision.imaging import CandidateFinder, SnapshotMaker
from edge.vision.messages import CameraTelemetry, PlateHit, PlateReadMessage
from edge.vision.pipeline import FrameSampler, FrameStamp, PlatePipeline
from edge.vision.settings import CameraSettings, detector_side_for
from edge.vision.tracker import Box
from edge.vision.watchlist import WatchList, WatchListStore
from edge.wire.plates import normalise_plate
from models.loader import open_model
from models.manifest import load_manifest
from models.plate_det import PlateCornerDetector
from models.plate_ocr import TextDetector


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def sampled_frames(clip: Path, rate: float) -> Any:
    """Yield (index, pts, image) for the time-sampled frames; the others are decoded but not converted."""
    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    sampler = FrameSampler(rate)
    index = 0
    while cap.grab():
        pts = index / fps
        if sampler.due(pts):
            ok, image = cap.retrieve()
            if ok:
                yield index, pts, image
        index += 1
    cap.release()


def visible(truth: dict[str, Any], fps: float) -> list[dict[str, Any]]:
    return [v for v in truth["vehicles"] if v["boxes"] and len(v["boxes"]) / fps >= 1.0]


def in_view(truth: dict[str, Any], frame: int, slack: int) -> set[str]:
    return {v["plate"] for v in truth["vehicles"] for b in v["boxes"] if abs(b[0] - frame) <= slack}


def build_watch_list(truth: dict[str, Any], rng: np.random.Generator) -> tuple[WatchList, set[str]]:
    import importlib

    sys.path.insert(0, str(ROOT / "scripts"))
    gen: Any = importlib.import_module("gen_plate_media")

    listed = {v["plate"] for v in truth["vehicles"][::2]}
    entries = [{"plate": p, "reason": "stolen", "priority": 1} for p in sorted(listed)]
    for v in truth["vehicles"][1::2]:  # decoys one ordinary substitution away from unlisted vehicles
        plate = v["plate"]
        pos = 2 + int(rng.integers(3))
        swap = "X" if plate[pos] != "X" else "Y"
        entries.append({"plate": plate[:pos] + swap + plate[pos + 1 :], "reason": "decoy", "priority": 2})
    seen = {e["plate"] for e in entries} | {v["plate"] for v in truth["vehicles"]}
    while len(entries) < 200:
        plate = gen.random_plate(gen.KINDS[len(entries) % 4], rng)
        if plate not in seen:
            seen.add(plate)
            entries.append({"plate": plate, "reason": "random", "priority": 3})
    return WatchList.build(version=1, entries=entries), listed


def run_ours(clip: Path, truth: dict[str, Any], args: argparse.Namespace, wl: WatchList) -> dict[str, Any]:
    fps = float(truth["fps"])
    analyser = OcrAnalyser.load(intra_op_threads=args.threads, detector_max_side=None)  # as the camera worker
    if args.second_look_below is not None:
        analyser.refine_below = args.second_look_below
    pipeline = PlatePipeline(camera_id="bench", analyser=analyser, snapshot=SnapshotMaker().make,
                             watch_list=wl, keep_reads=True)  # fmt: skip
    events: list[tuple[Any, int, float, float]] = []  # message, frame index, analysis seconds (wall, thread CPU)
    analyse_s: list[float] = []
    analyse_cpu: list[float] = []  # thread CPU time: what the analysis costs whatever else the machine runs
    cpu0, wall0 = time.process_time(), time.perf_counter()
    last = FrameStamp(0, 0.0, 0.0)
    for index, pts, image in sampled_frames(clip, args.rate):
        t0, c0 = time.perf_counter(), time.thread_time()
        stamp = FrameStamp(index, pts, pts)
        messages = pipeline.process(image, stamp)
        dt = time.perf_counter() - t0
        analyse_s.append(dt)
        analyse_cpu.append(time.thread_time() - c0)
        events += [(m, index, dt, analyse_cpu[-1]) for m in messages]
        last = stamp
    events += [(m, last.index, 0.0, 0.0) for m in pipeline.finish(last)]
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    duration = truth["frames"] / fps
    reads = [e for e in events if isinstance(e[0], PlateReadMessage | PlateHit)]
    gt = visible(truth, fps)
    first_read: dict[str, float] = {}
    first_read_cpu: dict[str, float] = {}  # the same with the analysis time on thread CPU time
    correct = wrong = dupes = 0
    for m, index, dt, dtc in reads:
        if m.plate in in_view(truth, index, int(fps)):
            if m.plate in first_read:
                dupes += 1
                continue
            correct += 1
            v = next(v for v in truth["vehicles"] if v["plate"] == m.plate)
            first_read[m.plate] = (index - v["boxes"][0][0]) / fps + dt
            first_read_cpu[m.plate] = (index - v["boxes"][0][0]) / fps + dtc
        else:
            wrong += 1
            print(f"  wrong read: {m.plate} at frame {index} (in view: {sorted(in_view(truth, index, 5))})")
    missed = [v["plate"] for v in gt if v["plate"] not in first_read]
    latencies = [first_read[v["plate"]] for v in gt if v["plate"] in first_read]
    latencies_cpu = [first_read_cpu[v["plate"]] for v in gt if v["plate"] in first_read_cpu]
    return {
        "frames": truth["frames"], "analysed": len(analyse_s), "wall_s": wall, "cpu_s": cpu,
        "realtime_factor": duration / wall, "analyse_ms_p50": pct(analyse_s, 50) * 1000,
        "analyse_ms_p99": pct(analyse_s, 99) * 1000, "analysis_fps": len(analyse_s) / sum(analyse_s),
        "analyse_cpu_ms_p50": pct(analyse_cpu, 50) * 1000, "analyse_cpu_ms_p99": pct(analyse_cpu, 99) * 1000,
        "analysis_fps_cpu": len(analyse_cpu) / sum(analyse_cpu),
        "candidates_per_frame": pipeline.candidates / max(1, len(analyse_s)),
        "recall": (len(gt) - len(missed)) / len(gt), "gt_vehicles": len(gt), "missed": missed,
        "precision": correct / max(1, correct + wrong), "wrong_reads": wrong, "duplicate_reads": dupes,
        "first_read_ms_p50": pct(latencies, 50) * 1000, "first_read_ms_p99": pct(latencies, 99) * 1000,
        "first_read_ms_max": max(latencies, default=float("nan")) * 1000,
        "first_read_cpu_ms_p99": pct(latencies_cpu, 99) * 1000,
        "hits": [(m.plate, m.entry.plate, m.distance) for m, _, _, _ in events if isinstance(m, PlateHit)],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }  # fmt: skip


def score_hits(hits: list[tuple[str, str, float]], listed: set[str], truth: dict[str, Any]) -> dict[str, Any]:
    fps = float(truth["fps"])
    true = [h for h in hits if h[1] in listed]
    false = [h for h in hits if h[1] not in listed]
    expected = {v["plate"] for v in visible(truth, fps)} & listed
    return {"hits": len(hits), "true_hits": len(true), "false_hits": len(false), "false": false,
            "expected_hits": len(expected), "missed_hits": sorted(expected - {h[1] for h in true}),
            "duplicate_hits": len(true) - len({h[1] for h in true})}  # fmt: skip


def compare_finders(clip: Path, truth: dict[str, Any], args: argparse.Namespace) -> list[dict[str, Any]]:
    fps = float(truth["fps"])
    boxes = {b[0]: [] for v in truth["vehicles"] for b in v["boxes"]}  # type: dict[int, list[Box]]
    for v in truth["vehicles"]:
        for b in v["boxes"]:
            boxes[b[0]].append(Box(*b[1:]))
    det = open_model(load_manifest()["plate_det"], intra_op_threads=args.threads)
    corners = PlateCornerDetector(open_model(load_manifest()["plate_corners"], intra_op_threads=args.threads))
    side = detector_side_for(int(truth["width"]), 80)
    finders: dict[str, Any] = {
        f"plate detector @{side}": lambda im: [Box(*d.box) for d in corners.detect(im, max_side=side)],
        "colour+edges": lambda im: [c.box for c in CandidateFinder().find(im)],
        "DB det @640": TextDetector(det, max_side=640),
        "DB det @960": TextDetector(det, max_side=960),
    }
    results = []
    for name, finder in finders.items():
        found = total = cands = 0
        spent = 0.0
        for index, _, image in sampled_frames(clip, args.rate):
            t0 = time.perf_counter()
            if isinstance(finder, TextDetector):
                got = []
                for d in finder.detect(image):
                    x0, y0 = d.corners.min(axis=0)
                    x1, y1 = d.corners.max(axis=0)
                    got.append(Box(float(x0), float(y0), float(x1 - x0), float(y1 - y0)))
            else:
                got = finder(image)
            spent += time.perf_counter() - t0
            cands += len(got)
            for gt_box in boxes.get(index, []):
                total += 1
                found += any(g.iou(gt_box) > 0.3 for g in got)
        n = truth["frames"] / fps * args.rate
        results.append({"finder": name, "plate_recall": found / max(1, total), "candidates_per_frame": cands / n,
                        "ms_per_frame": spent / n * 1000})  # fmt: skip
    return results


def run_baseline(clip: Path, truth: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=args.threads, inter_op_num_threads=1)
    fps = float(truth["fps"])
    spent = spent_cpu = 0.0
    frames = 0
    read: set[str] = set()
    for k, (index, _, image) in enumerate(sampled_frames(clip, args.rate)):
        if k % args.baseline_every:
            continue
        t0, c0 = time.perf_counter(), time.thread_time()
        result, _ = engine(image)
        spent += time.perf_counter() - t0
        spent_cpu += time.thread_time() - c0
        frames += 1
        for v in truth["vehicles"]:
            gt = next((Box(*b[1:]) for b in v["boxes"] if b[0] == index), None)
            if gt is None:
                continue
            parts = []  # text boxes whose centre is on the plate, left to right
            for quad, text, _ in result or []:
                q = np.array(quad, np.float32)
                cx, cy = q[:, 0].mean(), q[:, 1].mean()
                if gt.x <= cx <= gt.x + gt.w and gt.y <= cy <= gt.y + gt.h:
                    parts.append((cx, text))
            if normalise_plate("".join(t for _, t in sorted(parts))) == v["plate"]:
                read.add(v["plate"])
    gt_plates = {v["plate"] for v in visible(truth, fps)}
    return {"frames": frames, "analysis_fps": frames / spent, "ms_per_frame": spent / frames * 1000,
            "analysis_fps_cpu": frames / spent_cpu,
            "recall": len(read & gt_plates) / len(gt_plates)}  # fmt: skip


def _proc_usage(pid: int | None) -> tuple[float, float]:
    """CPU seconds and peak RSS (MB) of a live process, from /proc (0, 0 when unavailable)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, IndexError):
        return 0.0, 0.0
    cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
    return cpu, hwm / 1024


def run_live(clip: Path, wl_path: Path, args: argparse.Namespace) -> dict[str, Any]:
    worker = CameraWorker(CameraSettings(camera_id="live", source=str(clip), watch_list=wl_path,
                                         analyses_per_second=args.rate, intra_op_threads=args.threads,
                                         telemetry_interval_s=1.0))  # fmt: skip
    worker.start()
    lags: list[float] = []
    last: CameraTelemetry | None = None
    hits = 0
    cpu = rss = 0.0
    started = time.perf_counter()
    while (m := worker.get(timeout=120)) is not None:
        if isinstance(m, CameraTelemetry):
            last = m
            lags.append(m.lag_ms)
            cpu, rss = _proc_usage(worker.pid)
        hits += isinstance(m, PlateHit)
        if getattr(m, "state", None) in {"ended", "failed"}:
            break
    wall = time.perf_counter() - started
    worker.stop()
    worker.close()
    assert last is not None
    return {"frames_in": last.frames_in, "analysed": last.frames_analysed, "dropped": last.frames_dropped,
            "lag_ms_p50": pct(lags, 50), "lag_ms_max": last.lag_ms_max, "analyse_ms_mean": last.analyse_ms_mean,
            "hits": hits, "reads": last.reads, "worker_cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
            "worker_cpu_share": round(cpu / wall, 2), "worker_peak_rss_mb": round(rss)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", default="1080p")
    parser.add_argument("--vehicles", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hard", action="store_true", help="smaller plates, faster cars, camera shake, blur")
    parser.add_argument("--rate", type=float, default=5.0, help="analyses per second of video")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads (both pipelines)")
    parser.add_argument("--baseline-every", type=int, default=1, help="run RapidOCR on every Nth sampled frame")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-finders", action="store_true")
    parser.add_argument("--live", action="store_true", help="also run the paced camera worker process")
    parser.add_argument("--keep", type=Path, default=None, help="generate into (and keep) this directory")
    parser.add_argument("--second-look-below", type=float, default=None,
                        help="plate height (px) below which an unsure plate gets a second look (0: never)")  # fmt: skip
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory(prefix="bench-vision-") as tmp:
        media = args.keep or Path(tmp)
        clip = media / "clip.mp4"
        t0 = time.perf_counter()
        if not clip.exists():
            cmd = [sys.executable, str(ROOT / "scripts" / "gen_plate_media.py"), "video", str(clip),
                   "--seconds", str(args.seconds), "--size", args.size, "--seed", str(args.seed)]  # fmt: skip
            if args.vehicles:
                cmd += ["--vehicles", str(args.vehicles)]
            if args.hard:
                cmd += ["--hard"]
            subprocess.run(cmd, check=True)
        truth = json.loads(clip.with_suffix(".json").read_text(encoding="utf-8"))
        print(f"clip: {truth['frames']} frames {truth['width']}x{truth['height']} @ {truth['fps']} fps, "
              f"{len(truth['vehicles'])} vehicles, {os.path.getsize(clip) / 1e6:.0f} MB {truth['codec']} "
              f"(generated in {time.perf_counter() - t0:.0f} s)")  # fmt: skip
        wl, listed = build_watch_list(truth, np.random.default_rng(args.seed))
        WatchListStore(media / "watch.json").save(wl)
        summary: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
        ours = run_ours(clip, truth, args, wl)
        summary["ours"] = ours
        summary["watch_list"] = score_hits(ours.pop("hits"), listed, truth)
        print(
            f"ours: real-time factor {ours['realtime_factor']:.2f}x ({ours['wall_s']:.1f} s wall, "
            f"{ours['cpu_s']:.1f} s CPU for {truth['frames'] / truth['fps']:.0f} s of video; decode included)"
        )
        print(
            f"  analysed {ours['analysed']} frames: {ours['analysis_fps']:.1f} frames/s of analysis, "
            f"p50 {ours['analyse_ms_p50']:.0f} ms, p99 {ours['analyse_ms_p99']:.0f} ms, "
            f"{ours['candidates_per_frame']:.1f} candidates/frame"
        )
        print(
            f"  on thread CPU time: p50 {ours['analyse_cpu_ms_p50']:.0f} ms, p99 {ours['analyse_cpu_ms_p99']:.0f} ms "
            f"({ours['analysis_fps_cpu']:.1f} frames/s)"
        )
        print(
            f"  recall {ours['recall']:.1%} of {ours['gt_vehicles']} vehicles (missed {ours['missed']}), "
            f"precision {ours['precision']:.1%} ({ours['wrong_reads']} wrong, {ours['duplicate_reads']} duplicate)"
        )
        print(
            f"  first read after appearance: p50 {ours['first_read_ms_p50']:.0f} ms, "
            f"p99 {ours['first_read_ms_p99']:.0f} ms, max {ours['first_read_ms_max']:.0f} ms "
            f"(p99 {ours['first_read_cpu_ms_p99']:.0f} ms with the analysis on thread CPU time)"
        )
        print(f"  watch list: {summary['watch_list']}")
        print(f"  peak RSS {ours['peak_rss_mb']:.0f} MB")
        if not args.no_finders:
            summary["finders"] = compare_finders(clip, truth, args)
            for f in summary["finders"]:
                print(
                    f"finder {f['finder']:<20} plate recall {f['plate_recall']:.1%}, "
                    f"{f['candidates_per_frame']:.1f} candidates/frame, {f['ms_per_frame']:.1f} ms/frame"
                )
        if not args.no_baseline:
            base = run_baseline(clip, truth, args)
            summary["baseline"] = base
            print(
                f"baseline RapidOCR: {base['analysis_fps']:.2f} frames/s ({base['ms_per_frame']:.0f} ms/frame on "
                f"{base['frames']} frames), recall {base['recall']:.1%}; ours is "
                f"{ours['analysis_fps'] / base['analysis_fps']:.1f}x its throughput; on thread CPU time "
                f"{ours['analysis_fps_cpu']:.1f} vs {base['analysis_fps_cpu']:.2f} frames/s: "
                f"{ours['analysis_fps_cpu'] / base['analysis_fps_cpu']:.1f}x"
            )
        if args.live:
            summary["live"] = run_live(clip, media / "watch.json", args)
            print(f"live worker (paced): {summary['live']}")
        print(json.dumps(summary, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
