"""Plots drawn on the server as inline SVG: no chart library, no script, nothing fetched from elsewhere.

Each function returns markup for a template (`Markup`). Every chart is an ``<svg role="img">`` (the map, whose
dots are links, a ``role="group"``) with a
``<title>`` naming what it shows; the numbers behind it are in a table beside it on the page (for screen
readers and for reading exact values). Colours come from classes in console.css (``c0`` .. ``c5``).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Line", "Point", "bars", "lines", "schematic_map", "state_strip", "time_lines"]

W, H = 960, 260
L, R, T, B = 64, 16, 16, 40  # margins: room for the axes' labels


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    values: Sequence[float | None]  # one per x label (or per time in `points`)
    cls: str = "c0"
    points: Sequence[tuple[float, float]] = ()  # (time, value) for time_lines


@dataclass(frozen=True, slots=True)
class Point:
    """A station on the map."""

    lat: float
    lon: float
    state: str
    label: str
    href: str


def _svg(
    title: str, body: list[str], *, width: int = W, height: int = H, cls: str = "chart", role: str = "img"
) -> Markup:
    t = escape(title)
    return Markup(  # noqa: S704 - the title is escaped here, every value in `body` where it was made
        f'<svg class="{cls}" viewBox="0 0 {width} {height}" role="{role}" aria-label="{t}" '
        f'preserveAspectRatio="xMidYMid meet"><title>{t}</title>{"".join(body)}</svg>'
    )


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10.0 ** math.floor(math.log10(value))
    for m in (1, 2, 2.5, 5, 10):
        if value <= m * step:
            return m * step
    return 10 * step


def _fmt(v: float) -> str:
    return f"{v:.0f}" if v >= 10 or v == int(v) else f"{v:.1f}"


def _y_axis(top: float, unit: str) -> list[str]:
    out = []
    for i in range(5):
        v = top * i / 4
        y = H - B - (H - T - B) * i / 4
        out.append(f'<line class="grid" x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text class="ax" x="{L - 6}" y="{y + 5:.1f}" text-anchor="end">{_fmt(v)}{escape(unit)}</text>')
    return out


def _x_labels(labels: Sequence[str], xs: Sequence[float]) -> list[str]:
    every = max(1, math.ceil(len(labels) / 12))
    return [
        f'<text class="ax" x="{min(x, W - R - 20):.1f}" y="{H - B + 18}" text-anchor="middle">{escape(lab)}</text>'
        for i, (lab, x) in enumerate(zip(labels, xs))
        if i % every == 0
    ]


def _legend(items: Sequence[tuple[str, str]]) -> list[str]:
    out, x = [], L
    for name, cls in items:
        out.append(f'<rect class="{cls}" x="{x}" y="{H - 14}" width="12" height="12"/>')
        out.append(f'<text class="ax" x="{x + 16}" y="{H - 3}">{escape(name)}</text>')
        x += 24 + 9 * len(name) + (8 * sum(1 for ch in name if ord(ch) > 0x2E80))
    return out


def bars(
    title: str, labels: Sequence[str], stacks: Sequence[dict[str, int]], keys: Sequence[tuple[str, str]]
) -> Markup:
    """Stacked bars, one per label; `keys`: (key in the stacks, its name), coloured c0, c1, ..."""
    top = _nice_max(max((sum(s.values()) for s in stacks), default=0))
    n = max(1, len(labels))
    slot = (W - L - R) / n
    body = _y_axis(top, "")
    xs = []
    for i, stack in enumerate(stacks):
        x = L + i * slot
        xs.append(x + slot / 2)
        y = float(H - B)
        for k, (key, _name) in enumerate(keys):
            v = stack.get(key, 0)
            if not v:
                continue
            h = (H - T - B) * v / top
            y -= h
            body.append(
                f'<rect class="c{k}" x="{x + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}">'
                f"<title>{escape(labels[i])} {escape(_name)}: {v}</title></rect>"
            )
    body += _x_labels(labels, xs)
    body += _legend([(name, f"c{k}") for k, (_key, name) in enumerate(keys)])
    return _svg(title, body)


def lines(
    title: str, labels: Sequence[str], series: Sequence[Line], *, top: float | None = None, unit: str = ""
) -> Markup:
    """Lines over categories (days, weeks, months); a None value breaks the line."""
    peak = max((v for s in series for v in s.values if v is not None), default=0.0)
    top = top if top is not None else _nice_max(peak)
    n = max(1, len(labels))
    slot = (W - L - R) / n
    xs = [L + slot * (i + 0.5) for i in range(n)]
    body = _y_axis(top, unit)
    for s in series:
        pts = [(xs[i], v) for i, v in enumerate(s.values) if i < n]
        body += _polyline(s.cls, [(x, None if v is None else H - B - (H - T - B) * min(v, top) / top) for x, v in pts])
    body += _x_labels(labels, xs)
    body += _legend([(s.name, s.cls) for s in series])
    return _svg(title, body)


def _polyline(cls: str, pts: Sequence[tuple[float, float | None]]) -> list[str]:
    out: list[str] = []
    run: list[tuple[float, float]] = []
    for x, y in [*pts, (0.0, None)]:
        if y is None:
            if len(run) == 1:
                out.append(f'<circle class="{cls}" cx="{run[0][0]:.1f}" cy="{run[0][1]:.1f}" r="3"/>')
            elif run:
                d = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
                out.append(f'<polyline class="ln {cls}" points="{d}"/>')
            run = []
        else:
            run.append((x, y))
    return out


def _time_labels(t0: float, t1: float) -> tuple[list[str], list[float]]:
    span = t1 - t0
    fmt = "%H:%M" if span <= 2 * 86400 else "%m-%d"
    labels, xs = [], []
    for i in range(7):
        t = t0 + span * i / 6
        labels.append(time.strftime(fmt, time.localtime(t)))
        xs.append(L + (W - L - R) * i / 6)
    return labels, xs


def time_lines(title: str, t0: float, t1: float, series: Sequence[Line], *, unit: str = "") -> Markup:
    """Lines over time from `t0` to `t1` (`Line.points`); a gap of more than 3 samples breaks a line."""
    peak = max((v for s in series for _, v in s.points), default=0.0)
    top = _nice_max(peak)
    span = max(1e-9, t1 - t0)
    body = _y_axis(top, unit)
    for s in series:
        ts = [t for t, _ in s.points]
        gaps = sorted(b - a for a, b in itertools.pairwise(ts))
        limit = 3 * gaps[len(gaps) // 2] if gaps else span
        pts: list[tuple[float, float | None]] = []
        prev = None
        for t, v in s.points:
            if prev is not None and t - prev > limit:
                pts.append((0.0, None))
            prev = t
            pts.append((L + (W - L - R) * (t - t0) / span, H - B - (H - T - B) * v / top))
        body += _polyline(s.cls, pts)
    labels, xs = _time_labels(t0, t1)
    body += _x_labels(labels, xs)
    body += _legend([(s.name, s.cls) for s in series])
    return _svg(title, body)


def state_strip(
    title: str, t0: float, t1: float, spans: Sequence[tuple[float, float, str]], names: dict[str, str]
) -> Markup:
    """A band coloured by state over time: (from, to, state); states are classes ``s-STATE``."""
    h = 90
    span = max(1e-9, t1 - t0)
    body = []
    for a, b, state in spans:
        x = L + (W - L - R) * (max(a, t0) - t0) / span
        w = max(1.0, (W - L - R) * (min(b, t1) - max(a, t0)) / span)
        body.append(
            f'<rect class="s-{escape(state)}" x="{x:.1f}" y="8" width="{w:.1f}" height="34">'
            f"<title>{escape(names.get(state, state))}</title></rect>"
        )
    labels, xs = _time_labels(t0, t1)
    body += [
        f'<text class="ax" x="{min(x, W - R - 20):.1f}" y="60" text-anchor="middle">{escape(lab)}</text>'
        for lab, x in zip(labels, xs)
    ]
    x = L
    for state, name in names.items():
        body.append(f'<rect class="s-{escape(state)}" x="{x}" y="72" width="12" height="12"/>')
        body.append(f'<text class="ax" x="{x + 16}" y="83">{escape(name)}</text>')
        x += 40 + 12 * len(name)
    return _svg(title, body, height=h)


def schematic_map(
    title: str, points: Sequence[Point], *, names: dict[str, str] | None = None, width: int = 960, height: int = 420
) -> Markup:
    """Stations at their configured position, projected into the box (equirectangular, the longitude
    scaled by cos(latitude) so a city keeps its shape), one dot per station coloured by state, each a
    link to its page. No tiles: a plain schematic with a north arrow, a scale bar and a legend of states
    (`names`: state -> its word); up to 40 stations are named beside their dot."""
    pad = 36
    if not points:
        return _svg(title, [], width=width, height=height, cls="map", role="group")
    lat0 = sum(p.lat for p in points) / len(points)
    k = math.cos(math.radians(lat0))
    xs = [p.lon * k for p in points]
    ys = [p.lat for p in points]
    scale = min((width - 2 * pad) / max(max(xs) - min(xs), 1e-4), (height - 2 * pad) / max(max(ys) - min(ys), 1e-4))
    scale = min(scale, (width - 2 * pad) / 0.02)  # one station alone: a box of about 2 km
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    body = [
        f'<rect class="map-bg" x="1" y="1" width="{width - 2}" height="{height - 2}"/>',
        f'<text class="ax" x="{width - 24}" y="24" text-anchor="middle">N</text>',
        f'<path class="north" d="M{width - 24},30 l-6,14 h12 z"/>',
    ]
    km = 111.32 / scale * 120  # km in 120 px (a degree of latitude is 111.32 km)
    bar = next((v for v in (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500) if v >= km * 0.6), 1000)
    px = bar / 111.32 * scale
    body.append(f'<path class="scale" d="M{width - 20 - px:.1f},{height - 18} h{px:.1f}"/>')
    body.append(
        f'<text class="ax" x="{width - 20 - px / 2:.1f}" y="{height - 24}" text-anchor="middle">{bar:g} km</text>'
    )
    order = {"online": 0, "silent": 1, "offline": 2}
    label = len(points) <= 40
    for p, x, y in sorted(zip(points, xs, ys), key=lambda z: order.get(z[0].state, 3)):  # problems on top
        dx = width / 2 + (x - cx) * scale
        dy = height / 2 - (y - cy) * scale
        said = escape(f"{p.label} · {(names or {}).get(p.state, p.state)}")
        body.append(
            f'<a href="{escape(p.href)}" aria-label="{said}"><circle class="dot st-{escape(p.state)}" '
            f'cx="{dx:.1f}" cy="{dy:.1f}" r="{8 if label else 5}"><title>{said}</title></circle></a>'
        )
        if label:
            left = dx > width * 0.7  # near the right edge: the name goes to the dot's left
            anchor = "end" if left else "start"
            body.append(
                f'<text class="ax" x="{dx - 12 if left else dx + 12:.1f}" y="{dy + 5:.1f}" text-anchor="{anchor}">'
                f"{escape(p.label)}</text>"
            )
    x = 12
    for state, name in (names or {}).items():
        body.append(f'<circle class="dot st-{escape(state)}" cx="{x + 6}" cy="{height - 20}" r="6"/>')
        body.append(f'<text class="ax" x="{x + 16}" y="{height - 15}">{escape(name)}</text>')
        x += 36 + 14 * len(name)
    return _svg(title, body, width=width, height=height, cls="map", role="group")  # its dots are links
