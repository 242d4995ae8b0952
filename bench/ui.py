"""Kiosk UI benchmark: cold start to the first interactive frame, tap-to-next-screen time and resident memory,
beside a bare PySide6 window measured in the same run (offscreen unless QT_QPA_PLATFORM says otherwise).

    .venv/bin/python bench/ui.py [--runs 5] [--taps 30]

A real edge daemon (kiosk enabled, no broker) runs for the kiosk. Each cold start is a new Python process:
the time counts from just before the process is spawned to the first paint of a screen that accepts taps
(the kiosk: the attract screen, after the catalogue came from the daemon). Targets: cold start < 2 s, tap to
next screen < 100 ms, resident memory < 250 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, ROOT)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

app = QApplication([])
painted = {}

class PaintSpy(QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint and obj not in painted:
            painted[obj] = time.time()
        return False

spy = PaintSpy()

def wait_paint(widget, timeout=10.0):
    painted.pop(widget, None)
    widget.installEventFilter(spy)
    end = time.time() + timeout
    while widget not in painted:
        app.processEvents()
        if time.time() > end:
            raise SystemExit(f"no paint of {widget}")
    return painted[widget]

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0

def tap_times(pairs, taps):
    out = []
    for i in range(taps):
        button, target, back = pairs(i)
        painted.pop(target, None)
        target.installEventFilter(spy)
        t0 = time.time()
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
        t1 = wait_paint(target)
        out.append((t1 - t0) * 1000)
        back()
    return out

if MODE == "bare":
    w = QWidget(); w.resize(1920, 1080)
    stack = QStackedWidget(); box = QVBoxLayout(w); box.addWidget(stack)
    a = QPushButton("start"); b = QWidget(); QVBoxLayout(b).addWidget(QLabel("next"))
    stack.addWidget(a); stack.addWidget(b)
    a.clicked.connect(lambda: stack.setCurrentWidget(b))
    w.show()
    first = wait_paint(a)
    taps = tap_times(lambda i: (a, b, lambda: (stack.setCurrentWidget(a), wait_paint(a))), TAPS)
    result = {"first_interactive": first, "taps_ms": taps}
else:
    from ui.kiosk.window import KioskWindow
    from ui.link import DaemonLink
    link = DaemonLink(SOCKET, topics=["kiosk.*"])
    w = KioskWindow(link); w.resize(1920, 1080); w.show()
    first_frame = wait_paint(w.stack.currentWidget())
    link.start()
    end = time.time() + 20
    while w.stack.currentWidget() is not w.attract:
        app.processEvents()
        if time.time() > end:
            raise SystemExit("the kiosk did not reach its attract screen")
    first = wait_paint(w.attract)
    def attract_to_home(i):
        def back():
            w.session.end(); wait_paint(w.attract)
        return w.attract, w.home, back
    home_taps = tap_times(attract_to_home, TAPS)
    w.start_session(); wait_paint(w.home)
    form_taps = []
    for i in range(TAPS):
        tile = w.home.tiles["appt_id_card"]
        t0 = time.time()
        QTest.mouseClick(tile, Qt.MouseButton.LeftButton)
        form = w.form
        t1 = wait_paint(form)
        form_taps.append((t1 - t0) * 1000)
        w.show_home(); wait_paint(w.home)
    link.stop()
    result = {"first_frame": first_frame, "first_interactive": first, "taps_ms": home_taps, "form_taps_ms": form_taps}
result["rss_mb"] = rss_mb()
print("RESULT " + json.dumps(result))
"""


def run_child(mode: str, taps: int, sock: str) -> dict[str, object]:
    code = f"ROOT = {str(ROOT)!r}\nMODE = {mode!r}\nTAPS = {taps}\nSOCKET = {sock!r}\n" + CHILD
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env, timeout=120
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"{mode} child failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    res: dict[str, object] = json.loads(line[7:])
    res["cold_start_ms"] = (float(res["first_interactive"]) - t0) * 1000  # type: ignore[arg-type]
    if "first_frame" in res:
        res["first_frame_ms"] = (float(res["first_frame"]) - t0) * 1000  # type: ignore[arg-type]
    return res


def start_daemon(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there: the daemon runs without central
    sock = str(tmp / "edge.sock")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "police_kiosk",
            "edge",
            "--station",
            "BENCH",
            "--uplink",
            f"mqtt://127.0.0.1:{port}",
            "--data-dir",
            str(tmp / "data"),
            "--socket",
            sock,
            "--set",
            "kiosk.enabled=true",
            "--log-level",
            "WARNING",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    end = time.monotonic() + 20
    while not Path(sock).exists():
        if proc.poll() is not None or time.monotonic() > end:
            raise RuntimeError("the edge daemon did not start")
        time.sleep(0.05)
    return proc, sock


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=5, help="cold starts of each program")
    p.add_argument("--taps", type=int, default=30, help="taps per measurement")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="pk-bench-ui-"))
    proc, sock = start_daemon(tmp)
    try:
        runs: dict[str, list[dict[str, object]]] = {"bare": [], "kiosk": []}
        for _ in range(args.runs):
            for mode in ("bare", "kiosk"):
                runs[mode].append(run_child(mode, args.taps, sock))
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(tmp, ignore_errors=True)

    def med(mode: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in runs[mode])  # type: ignore[arg-type]

    def taps(mode: str, key: str) -> tuple[float, float]:
        values = sorted(v for r in runs[mode] for v in r[key])  # type: ignore[attr-defined]
        return statistics.median(values), values[int(len(values) * 0.95) - 1]

    summary = {
        "bare": {
            "cold_start_ms": med("bare", "cold_start_ms"),
            "tap_ms_p50_p95": taps("bare", "taps_ms"),
            "rss_mb": med("bare", "rss_mb"),
        },
        "kiosk": {
            "first_frame_ms": med("kiosk", "first_frame_ms"),
            "cold_start_ms": med("kiosk", "cold_start_ms"),
            "tap_attract_to_home_ms_p50_p95": taps("kiosk", "taps_ms"),
            "tap_home_to_form_ms_p50_p95": taps("kiosk", "form_taps_ms"),
            "rss_mb": med("kiosk", "rss_mb"),
        },
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    b, k = summary["bare"], summary["kiosk"]
    print(
        f"runs: {args.runs} cold starts each, {args.taps} taps per measurement, "
        f"platform {os.environ.get('QT_QPA_PLATFORM', 'offscreen')}"
    )
    print(f"{'':34}{'bare PySide6':>16}{'kiosk':>16}")
    print(f"{'cold start to interactive (ms)':34}{b['cold_start_ms']:>16.0f}{k['cold_start_ms']:>16.0f}")
    print(f"{'  kiosk: first frame (ms)':34}{'':>16}{k['first_frame_ms']:>16.0f}")
    bt, kt, kf = b["tap_ms_p50_p95"], k["tap_attract_to_home_ms_p50_p95"], k["tap_home_to_form_ms_p50_p95"]
    print(f"{'tap to next screen p50/p95 (ms)':34}{bt[0]:>9.1f}/{bt[1]:<6.1f}{kt[0]:>9.1f}/{kt[1]:<6.1f}")
    print(f"{'  kiosk: tile to form+keyboard':34}{'':>16}{kf[0]:>9.1f}/{kf[1]:<6.1f}")
    print(f"{'resident memory (MB)':34}{b['rss_mb']:>16.0f}{k['rss_mb']:>16.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
