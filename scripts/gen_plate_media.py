#!/usr/bin/env python3
"""Generate synthetic Chinese licence-plate media with ground truth (deterministic for a seed).

    gen_plate_media.py stills OUT_DIR [--count N] [--size WxH] [--seed S]
    gen_plate_media.py video OUT.mp4 [--seconds 60] [--fps 25] [--size 1920x1080] [--seed S]
                                     [--plate 粤B12345 ...] [--vehicles N] [--codec mp4v|MJPG]

Plates of each kind (blue, yellow, green new-energy, white police 警) are drawn with a CJK font
(Noto Sans CJK, found with `fc-list :lang=zh`; without one the province glyph cannot be drawn and
a warning is printed) onto a car-like box in a street scene, with perspective, blur, noise,
lighting and JPEG / video compression. Stills get `truth.json` beside them; a video gets
`OUT.json` with, per vehicle, the plate, kind and the box of each frame where the plate is whole
in view. Nothing here is committed: tests and benchmarks generate into temporary directories.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

Frame = npt.NDArray[Any]
Rng = np.random.Generator

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
DIGITS = "0123456789"
KINDS = ("blue", "yellow", "green", "white")
# background, text (RGB)
_COLOURS = {
    "blue": ((12, 68, 170), (245, 245, 245)),
    "yellow": ((245, 190, 20), (15, 15, 15)),
    "green": ((110, 200, 120), (15, 15, 15)),
    "white": ((238, 238, 238), (15, 15, 15)),
}
_CAR_COLOURS = [(235, 235, 235), (30, 30, 30), (160, 160, 165), (40, 40, 160), (150, 40, 30), (60, 90, 60),
                (200, 170, 60), (120, 110, 100), (20, 60, 120)]  # fmt: skip  # BGR


# ---------------------------------------------------------------- plates
def _pick(rng: Rng, chars: str) -> str:
    return chars[int(rng.integers(len(chars)))]


def random_plate(kind: str, rng: Rng) -> str:
    province, letter = _pick(rng, PROVINCES), _pick(rng, LETTERS)
    if kind == "green":
        if rng.random() < 0.5:
            return province + letter + _pick(rng, "DF") + _pick(rng, LETTERS + DIGITS) + _digits(rng, 4)
        return province + letter + _digits(rng, 5) + _pick(rng, "DF")
    if kind == "white":
        return province + letter + _digits(rng, 4) + "警"
    serial = [_pick(rng, DIGITS) for _ in range(5)]
    for pos in rng.choice(5, size=int(rng.integers(0, 3)), replace=False):
        serial[int(pos)] = _pick(rng, LETTERS)
    if kind == "yellow" and rng.random() < 0.2:
        return province + letter + "".join(serial[:4]) + "学"
    return province + letter + "".join(serial)


def _digits(rng: Rng, n: int) -> str:
    return "".join(_pick(rng, DIGITS) for _ in range(n))


def find_cjk_font() -> tuple[str, int] | None:
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False).stdout
    except OSError:
        out = ""
    files = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
    files.sort(key=lambda f: ("Sans" not in f, "Bold" not in f, f))
    for path in files:
        for index in range(8):
            try:
                name = ImageFont.truetype(path, 20, index=index).getname()[0] or ""
            except OSError:
                break
            if "SC" in name or (index == 0 and not path.endswith(".ttc")):
                return path, index
        return path, 0
    return None


class PlateRenderer:
    """Draws plates at 2 px per millimetre (a 440 x 140 mm plate is 880 x 280 px)."""

    def __init__(self) -> None:
        found = find_cjk_font()
        if found is None:
            print("gen_plate_media: no CJK font (install fonts-noto-cjk); Chinese glyphs will be wrong",
                  file=sys.stderr)  # fmt: skip
            self.font: Any = ImageFont.load_default(size=160)
        else:
            self.font = ImageFont.truetype(found[0], 160, index=found[1])
        self.font_name = None if found is None else f"{found[0]}#{found[1]}"
        self._glyphs: dict[str, npt.NDArray[np.uint8]] = {}

    def _glyph(self, char: str) -> npt.NDArray[np.uint8]:
        if char not in self._glyphs:
            canvas = Image.new("L", (240, 240), 0)
            ImageDraw.Draw(canvas).text((20, 10), char, font=self.font, fill=255)
            a = np.asarray(canvas)
            ys, xs = np.nonzero(a > 40)
            self._glyphs[char] = a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] if len(ys) else a[:10, :10]
        return self._glyphs[char]

    def render(self, text: str, kind: str) -> Frame:
        eight = len(text) == 8
        w_mm, char_w, gap, dot_gap = (480, 43, 9, 49) if eight else (440, 45, 12, 34)
        s = 2
        bg, fg = _COLOURS[kind]
        plate = np.zeros((140 * s, w_mm * s, 3), np.float32)
        plate[:] = bg[::-1]
        if kind == "green":  # new-energy plates fade from near white at the top to green
            t = np.linspace(0.0, 1.0, plate.shape[0], dtype=np.float32)[:, None, None]
            plate[:] = (1 - t) * np.array([235, 250, 235], np.float32) + t * np.array(bg[::-1], np.float32)
        plate_u8 = plate.astype(np.uint8)
        cv2.rectangle(plate_u8, (5 * s, 5 * s), ((w_mm - 5) * s, 135 * s), fg[::-1], 3 * s)
        for rx in (w_mm // 4, 3 * w_mm // 4):
            cv2.circle(plate_u8, (rx * s, 12 * s), 4 * s, (190, 190, 190), -1)
        x = (w_mm - (len(text) * char_w + (len(text) - 2) * gap + dot_gap)) / 2
        for i, char in enumerate(text):
            colour = (30, 30, 210) if char == "警" else fg[::-1]
            glyph = cv2.resize(self._glyph(char), (char_w * s, 90 * s), interpolation=cv2.INTER_AREA)
            alpha = glyph.astype(np.float32)[..., None] / 255.0
            x0, y0 = int(x * s), 25 * s
            region = plate_u8[y0 : y0 + 90 * s, x0 : x0 + char_w * s].astype(np.float32)
            region = region * (1 - alpha) + np.array(colour, np.float32) * alpha
            plate_u8[y0 : y0 + 90 * s, x0 : x0 + char_w * s] = region.astype(np.uint8)
            x += char_w + (dot_gap if i == 1 else gap)
            if i == 1:
                cv2.circle(plate_u8, (int((x - dot_gap / 2 - 2) * s), 70 * s), 5 * s, fg[::-1], -1)
        return plate_u8


# ---------------------------------------------------------------- scenes
def street_background(width: int, height: int, rng: Rng) -> Frame:
    img = np.zeros((height, width, 3), np.uint8)
    horizon = int(height * rng.uniform(0.35, 0.5))
    sky = np.linspace(rng.uniform(150, 230), rng.uniform(90, 160), horizon)[:, None, None]
    img[:horizon] = (sky * np.array([1.0, 0.9, 0.75])).astype(np.uint8)
    x = 0
    while x < width:  # buildings with windows
        bw = int(rng.uniform(0.08, 0.2) * width)
        top = int(horizon * rng.uniform(0.05, 0.6))
        colour = tuple(int(c) for c in rng.integers(60, 200, 3))
        cv2.rectangle(img, (x, top), (x + bw, horizon), colour, -1)
        for wy in range(top + 10, horizon - 10, max(8, height // 30)):
            for wx in range(x + 6, x + bw - 10, max(8, width // 60)):
                if rng.random() < 0.7:
                    shade = int(rng.integers(20, 120))
                    cv2.rectangle(img, (wx, wy), (wx + width // 120 + 2, wy + height // 60 + 2), (shade,) * 3, -1)
        x += bw + int(rng.integers(0, width // 40 + 1))
    img[horizon:] = (70, 72, 75)
    for lane in range(3):  # lane markings
        y = horizon + int((height - horizon) * (0.3 + 0.3 * lane))
        for lx in range(0, width, width // 8):
            cv2.rectangle(img, (lx, y), (lx + width // 16, y + max(2, height // 200)), (210, 210, 210), -1)
    for _ in range(3):  # blue street signs with white stripes: plate-like distractors
        sx, sy = int(rng.uniform(0, width * 0.9)), int(rng.uniform(0, horizon * 0.8))
        sw, sh = int(width * rng.uniform(0.05, 0.1)), int(height * rng.uniform(0.03, 0.05))
        cv2.rectangle(img, (sx, sy), (sx + sw, sy + sh), (160, 70, 20), -1)
        for k in range(4):
            cv2.rectangle(img, (sx + 4 + k * sw // 4, sy + sh // 4), (sx + k * sw // 4 + sw // 6, sy + 3 * sh // 4),
                          (240, 240, 240), -1)  # fmt: skip
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Placement:
    cx: float  # plate centre, frame pixels
    cy: float
    plate_w: float
    skew: npt.NDArray[np.float32]  # 4x2 corner offsets, fractions of the plate height


def draw_vehicle(frame: Frame, plate_img: Frame, at: Placement, car_colour: tuple[int, int, int]) -> list[float]:
    """Draw a car carrying the plate; returns the plate's bounding box [x, y, w, h]."""
    pw = at.plate_w
    ph = pw * plate_img.shape[0] / plate_img.shape[1]
    car_w, car_h = pw * 4.2, pw * 2.6
    x0, y0 = at.cx - car_w / 2, at.cy - car_h * 0.78
    p = [round(v) for v in (x0, y0, x0 + car_w, y0 + car_h)]
    shadow = (p[0] + int(car_w * 0.05), p[3] - int(car_h * 0.05), p[2] - int(car_w * 0.05), p[3] + int(car_h * 0.06))
    cv2.rectangle(frame, shadow[:2], shadow[2:], (35, 35, 35), -1)
    cv2.rectangle(frame, (p[0], p[1] + int(car_h * 0.35)), (p[2], p[3]), car_colour, -1)
    roof = np.array([[x0 + car_w * 0.15, y0 + car_h * 0.36], [x0 + car_w * 0.25, y0],
                     [x0 + car_w * 0.75, y0], [x0 + car_w * 0.85, y0 + car_h * 0.36]], np.int32)  # fmt: skip
    cv2.fillConvexPoly(frame, roof, car_colour)
    glass = np.array([[x0 + car_w * 0.2, y0 + car_h * 0.34], [x0 + car_w * 0.28, y0 + car_h * 0.05],
                      [x0 + car_w * 0.72, y0 + car_h * 0.05], [x0 + car_w * 0.8, y0 + car_h * 0.34]],
                     np.int32)  # fmt: skip
    cv2.fillConvexPoly(frame, glass, (70, 60, 50))
    for hx in (x0 + car_w * 0.12, x0 + car_w * 0.88):  # headlights
        cv2.ellipse(frame, (int(hx), int(y0 + car_h * 0.5)), (int(car_w * 0.07), int(car_h * 0.06)), 0, 0, 360,
                    (210, 230, 240), -1)  # fmt: skip
    cv2.rectangle(frame, (p[0], int(y0 + car_h * 0.62)), (p[2], int(y0 + car_h * 0.66)), (40, 40, 40), -1)
    # the plate, warped with a little perspective
    small = cv2.resize(plate_img, (max(8, int(pw * 1.5)), max(4, int(ph * 1.5))), interpolation=cv2.INTER_AREA)
    src = np.array([[0, 0], [small.shape[1], 0], [small.shape[1], small.shape[0]], [0, small.shape[0]]], np.float32)
    base = np.array([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]], np.float32)
    dst = base + at.skew * ph + np.array([at.cx, at.cy], np.float32)
    bx0, by0 = np.floor(dst.min(axis=0)).astype(int)
    bx1, by1 = np.ceil(dst.max(axis=0)).astype(int)
    h, w = frame.shape[:2]
    cx0, cy0, cx1, cy1 = max(bx0, 0), max(by0, 0), min(bx1, w), min(by1, h)
    if cx1 > cx0 and cy1 > cy0:
        m = cv2.getPerspectiveTransform(src, dst - np.array([cx0, cy0], np.float32))
        size = (cx1 - cx0, cy1 - cy0)
        warped = cv2.warpPerspective(small, m, size, flags=cv2.INTER_LINEAR)
        mask = cv2.warpPerspective(np.full(small.shape[:2], 255, np.uint8), m, size)[..., None] / 255.0
        roi = frame[cy0:cy1, cx0:cx1]
        frame[cy0:cy1, cx0:cx1] = (roi * (1 - mask) + warped * mask).astype(np.uint8)
    return [float(bx0), float(by0), float(bx1 - bx0), float(by1 - by0)]


def _car_rect(at: Placement) -> list[float]:
    """The area a car drawn by `draw_vehicle` covers, shadow included: [x, y, w, h]."""
    car_w, car_h = at.plate_w * 4.2, at.plate_w * 2.6
    return [at.cx - car_w / 2, at.cy - car_h * 0.78, car_w, car_h * 1.06]


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def degrade(frame: Frame, rng: Rng, *, blur: float, noise: float, gain: float) -> Frame:
    out = frame
    if blur > 0.3:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    f = out.astype(np.float32) * gain + rng.normal(0, noise, out.shape).astype(np.float32)
    result: Frame = np.clip(f, 0, 255).astype(np.uint8)
    return result


def _skew(rng: Rng, amount: float) -> npt.NDArray[np.float32]:
    return rng.uniform(-amount, amount, (4, 2)).astype(np.float32)


# ---------------------------------------------------------------- outputs
def generate_stills(out_dir: Path, *, count: int, width: int, height: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    renderer = PlateRenderer()
    out_dir.mkdir(parents=True, exist_ok=True)
    images = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        plate = random_plate(kind, rng)
        frame = street_background(width, height, rng)
        pw = float(rng.uniform(0.09, 0.16) * width)
        cx = float(rng.uniform(pw * 2.3, width - pw * 2.3))
        cy = float(rng.uniform(height * 0.62, height * 0.88))
        car = _CAR_COLOURS[int(rng.integers(len(_CAR_COLOURS)))]
        box = draw_vehicle(frame, renderer.render(plate, kind), Placement(cx, cy, pw, _skew(rng, 0.12)), car)
        frame = degrade(frame, rng, blur=float(rng.uniform(0, 1.2)), noise=float(rng.uniform(2, 6)),
                        gain=float(rng.uniform(0.65, 1.2)))  # fmt: skip
        name = f"{i:04d}_{kind}.jpg"
        cv2.imwrite(str(out_dir / name), frame, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 92))])
        images.append({"file": name, "plate": plate, "kind": kind, "box": [round(v, 1) for v in box]})
    truth = {"seed": seed, "width": width, "height": height, "font": renderer.font_name, "images": images}
    (out_dir / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return truth


@dataclass
class _Vehicle:
    plate: str
    kind: str
    start: int  # frame index when the car starts entering
    frames: int  # frames to cross
    y: float
    width0: float
    width1: float
    leftwards: bool
    colour: tuple[int, int, int]
    skew: npt.NDArray[np.float32]


def _schedule(
    n: int, total: int, *, fps: int, width: int, height: int, rng: Rng, plates: list[str], hard: bool
) -> list[_Vehicle]:
    vehicles = []
    slot = total / max(n, 1)
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        plate = plates[i] if i < len(plates) else random_plate(kind, rng)
        if i < len(plates):
            kind = "green" if len(plate) == 8 else "white" if plate.endswith("警") else "blue"
        frames = int(min(slot * 1.6, fps * (rng.uniform(2.0, 3.5) if hard else rng.uniform(3.0, 5.0))))
        start = int(i * slot + rng.uniform(0, max(1.0, slot - frames * 0.6)))
        w0 = float((rng.uniform(0.05, 0.075) if hard else rng.uniform(0.07, 0.1)) * width)
        vehicles.append(_Vehicle(plate, kind, min(start, max(0, total - frames)), frames,
                                 float(rng.uniform(0.6, 0.9) * height), w0, w0 * float(rng.uniform(1.0, 1.35)),
                                 bool(rng.random() < 0.5), _CAR_COLOURS[int(rng.integers(len(_CAR_COLOURS)))],
                                 _skew(rng, 0.1)))  # fmt: skip
    return vehicles


def generate_video(
    out: Path, *, seconds: float, fps: int, width: int, height: int, seed: int,
    plates: list[str] | None = None, vehicles: int | None = None, codec: str = "mp4v", hard: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """`hard`: smaller plates, faster cars, a shaking camera (body cam), blur, more noise, dimmer light."""
    rng = np.random.default_rng(seed)
    renderer = PlateRenderer()
    total = round(seconds * fps)
    plates = plates or []
    n = vehicles if vehicles is not None else max(len(plates), 1, int(seconds / 4))
    cars = _schedule(n, total, fps=fps, width=width, height=height, rng=rng, plates=plates, hard=hard)
    images = {id(v): renderer.render(v.plate, v.kind) for v in cars}
    background = street_background(width, height, rng)
    noise_bank = [rng.normal(0, 6 if hard else 3, (height, width, 3)).astype(np.float32) for _ in range(4)]
    shake = np.zeros(2)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*codec), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {codec!r} video to {out}")
    boxes: dict[int, list[list[float]]] = {id(v): [] for v in cars}
    try:
        for f in range(total):
            frame = background.copy()
            placed = []
            for v in cars:
                t = (f - v.start) / v.frames
                if 0 <= t <= 1:
                    pw = v.width0 + (v.width1 - v.width0) * t
                    cx = -pw * 2.2 + (width + pw * 4.4) * (1 - t if v.leftwards else t)
                    placed.append((v, Placement(cx, v.y + pw * 0.3 * t, pw, v.skew)))
            placed.sort(key=lambda vp: vp[1].cy)  # nearer cars (lower in the frame) are drawn last
            drawn = [(v, draw_vehicle(frame, images[id(v)], at, v.colour), _car_rect(at)) for v, at in placed]
            if hard:  # a body cam: the picture wanders a few pixels, and is a little soft
                shake = np.clip(0.8 * shake + rng.normal(0, 2.0, 2), -8, 8)
                matrix = np.array([[1, 0, shake[0]], [0, 1, shake[1]]], np.float32)
                frame = cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
                frame = cv2.GaussianBlur(cv2.blur(frame, (3, 1)), (0, 0), 0.8)
                drawn = [(v, [b[0] + shake[0], b[1] + shake[1], b[2], b[3]], car) for v, b, car in drawn]
            for i, (v, box, _) in enumerate(drawn):
                inside = box[0] >= 0 and box[1] >= 0 and box[0] + box[2] <= width and box[1] + box[3] <= height
                hidden = any(_overlap(box, car) for _, _, car in drawn[i + 1 :])  # behind a nearer car
                if inside and not hidden:
                    boxes[id(v)].append([f, *(round(b, 1) for b in box)])
            light = (0.8 + 0.15 * np.sin(f / fps)) if hard else (1.0 + 0.1 * np.sin(f / fps))
            frame = np.clip(frame.astype(np.float32) * light + noise_bank[f % 4], 0, 255).astype(np.uint8)
            writer.write(frame)
    finally:
        writer.release()
    truth = {
        "seed": seed, "hard": hard, "fps": fps, "width": width, "height": height, "frames": total, "codec": codec,
        "font": renderer.font_name,
        "vehicles": [
            {"plate": v.plate, "kind": v.kind, "first_frame": boxes[id(v)][0][0] if boxes[id(v)] else None,
             "last_frame": boxes[id(v)][-1][0] if boxes[id(v)] else None, "boxes": boxes[id(v)]}
            for v in cars
        ],
    }  # fmt: skip
    out.with_suffix(".json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    return truth


def _size(text: str) -> tuple[int, int]:
    presets = {"small": (854, 480), "1080p": (1920, 1080), "720p": (1280, 720)}
    if text in presets:
        return presets[text]
    w, _, h = text.partition("x")
    return int(w), int(h)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    stills = sub.add_parser("stills")
    stills.add_argument("out", type=Path)
    stills.add_argument("--count", type=int, default=20)
    stills.add_argument("--size", default="1080p", help="WxH, or small (854x480), 720p, 1080p")
    stills.add_argument("--seed", type=int, default=1)
    video = sub.add_parser("video")
    video.add_argument("out", type=Path)
    video.add_argument("--seconds", type=float, default=60.0)
    video.add_argument("--fps", type=int, default=25)
    video.add_argument("--size", default="1080p")
    video.add_argument("--seed", type=int, default=1)
    video.add_argument("--plate", action="append", default=[], help="plates to show, in order (repeatable)")
    video.add_argument("--vehicles", type=int, default=None)
    video.add_argument("--codec", default="mp4v", choices=["mp4v", "MJPG", "XVID"])
    video.add_argument("--hard", action="store_true", help="smaller plates, faster cars, camera shake, blur")
    args = parser.parse_args(argv)
    width, height = _size(args.size)
    if args.what == "stills":
        truth = generate_stills(args.out, count=args.count, width=width, height=height, seed=args.seed)
        print(f"{len(truth['images'])} stills in {args.out}")
    else:
        truth = generate_video(args.out, seconds=args.seconds, fps=args.fps, width=width, height=height,
                               seed=args.seed, plates=args.plate, vehicles=args.vehicles, codec=args.codec,
                               hard=args.hard)  # fmt: skip
        print(f"{truth['frames']} frames, {len(truth['vehicles'])} vehicles in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
