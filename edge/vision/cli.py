"""`police-kiosk vision ...`: check plates and cameras from the shell. Prints JSON lines.

    police-kiosk vision read IMAGE...
        one line per plate found: {"image", "plate", "kind", "confidence", "box"}
    police-kiosk vision run SOURCE [--watch FILE] [--fast] [--rate N] [--snapshots DIR]
        runs the whole camera pipeline (a worker process) on a file, URL or device index and prints
        reads, hits, status changes and the final telemetry until the source ends or Ctrl-C

Exit status: 0 ok, 1 when an image cannot be read or the worker fails, 2 on usage errors.
This module does not import OpenCV; it loads the worker lazily in the tool's own process.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from edge.vision.camera import CameraWorker
from edge.vision.messages import CameraStatus, PlateHit
from edge.vision.settings import CameraSettings

__all__ = ["command"]


def _print(doc: dict[str, Any]) -> None:
    print(json.dumps(doc, ensure_ascii=False), flush=True)


def _read(images: list[Path]) -> int:
    from edge.vision.analyser import OcrAnalyser, load_image

    analyser = OcrAnalyser.load()
    status = 0
    for path in images:
        image = load_image(path)
        if image is None:
            print(f"vision read: cannot read image {path}", file=sys.stderr)
            status = 1
            continue
        for read in analyser.read_image(image):
            box = read.box
            _print({
                "image": str(path), "plate": read.plate, "kind": read.kind, "confidence": read.confidence,
                "box": [round(box.x), round(box.y), round(box.w), round(box.h)],
            })  # fmt: skip
    return status


def _run(args: argparse.Namespace) -> int:
    settings = CameraSettings(
        camera_id=args.camera_id,
        source=args.source,
        watch_list=args.watch,
        analyses_per_second=args.rate,
        keep_reads=True,
        pace=not args.fast,
        telemetry_interval_s=args.telemetry,
    )
    worker = CameraWorker(settings)
    worker.start()
    failed = False
    try:
        while True:
            message = worker.get(timeout=0.5)
            if message is None:
                if not worker.is_alive():
                    break
                continue
            _print(message.to_dict())
            if isinstance(message, PlateHit) and args.snapshots is not None:
                args.snapshots.mkdir(parents=True, exist_ok=True)
                stem = f"{message.camera_id}-{message.track_id}-{message.plate}"
                (args.snapshots / f"{stem}.jpg").write_bytes(message.snapshot.jpeg)
                (args.snapshots / f"{stem}-plate.jpg").write_bytes(message.snapshot.plate_jpeg)
            if isinstance(message, CameraStatus):
                failed = failed or message.state == "failed"
                if message.state in {"ended", "stopped", "failed"}:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        code = worker.stop()
        while (message := worker.get(0)) is not None:
            _print(message.to_dict())
        worker.close()
    return 1 if failed or (code not in (0, None)) else 0


def command(name: str, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"police-kiosk {name}", description="Check plates and cameras.")
    sub = parser.add_subparsers(dest="action", required=True)
    read = sub.add_parser("read", help="read the plates in still images")
    read.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    run = sub.add_parser("run", help="run the camera pipeline on a file, URL or device index")
    run.add_argument("source", metavar="SOURCE")
    run.add_argument("--watch", type=Path, default=None, help="watch-list file (JSON)")
    run.add_argument("--fast", action="store_true", help="files: analyse every sampled frame, not in real time")
    run.add_argument("--rate", type=float, default=5.0, help="analyses per second (default 5)")
    run.add_argument("--camera-id", default="cli")
    run.add_argument("--telemetry", type=float, default=5.0, help="telemetry interval in seconds")
    run.add_argument("--snapshots", type=Path, default=None, help="write hit snapshots (JPEG) here")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.action == "read":
        return _read(args.images)
    if args.watch is not None and not args.watch.is_file():
        print(f"vision run: no watch-list file {args.watch}", file=sys.stderr)
        return 2
    return _run(args)
