"""`police-kiosk console`: the crew console, on the station's screen.

police-kiosk console --socket /run/police-kiosk/edge.sock --fullscreen
python -m ui.console --socket ./edge.sock --lang en
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

__all__ = ["build_parser", "command", "main"]

DEFAULT_SOCKET = Path("/run/police-kiosk/edge.sock")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="police-kiosk console", description="Run the station crew's alarm console.")
    p.add_argument("--socket", type=Path, default=DEFAULT_SOCKET, help=f"the daemon's API socket ({DEFAULT_SOCKET})")
    p.add_argument("--fullscreen", action="store_true", help="fill the screen (the station's console display)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="start in Chinese (default) or English")
    p.add_argument("--badge", default="", help="log in as this crew member (crew.login): the `by` of every step")
    p.add_argument("--no-sound", action="store_true", help="do not play the alarm tone")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], default="INFO")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from ui.console.sound import AlarmSound
    from ui.console.text import Language
    from ui.console.window import TOPICS, ConsoleWindow
    from ui.link import DaemonLink

    app = QApplication.instance() or QApplication(["police-kiosk console"])
    assert isinstance(app, QApplication)
    app.setFont(QFont(["Noto Sans CJK SC", "WenQuanYi Micro Hei", "Noto Sans", "sans-serif"]))
    language = Language(args.lang)
    sound = None if args.no_sound else AlarmSound()
    link = DaemonLink(args.socket, topics=TOPICS, badge=args.badge)
    window = ConsoleWindow(link, language=language, sound=sound, officer=args.badge)
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    link.start()
    if args.fullscreen:
        window.showFullScreen()
    else:
        window.resize(1600, 900)
        window.show()
    try:
        return app.exec()
    finally:
        window.close()
        link.stop()
        if sound is not None:
            sound.close()
        language.close()


def command(name: str, argv: list[str]) -> int:
    """The `police-kiosk` dispatcher's entry (`"console": ("ui.console.app", ...)`)."""
    code = main(argv)
    # main() has closed the window and stopped the daemon link. Skip the interpreter's final garbage
    # collection: PySide6 can abort there ("deallocating None") after a clean run, turning an orderly stop
    # into a crash report. Flush what we printed, then leave with main()'s exit code.
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
