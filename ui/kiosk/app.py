"""`police-kiosk kiosk --socket PATH`: the resident touchscreen, full screen."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

__all__ = ["command", "main"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="police-kiosk kiosk", description="The resident self-service touchscreen.")
    p.add_argument(
        "--socket", type=Path, default=Path("/run/police-kiosk/edge.sock"), help="the edge daemon's local API socket"
    )
    p.add_argument("--windowed", action="store_true", help="a 1280x800 window instead of full screen (testing)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    from PySide6.QtWidgets import QApplication

    from ui.kiosk import ime
    from ui.kiosk.window import KioskWindow
    from ui.link import DaemonLink

    # Qt Virtual Keyboard is the input method; its pinyin user dictionary lives in a directory of this
    # process (under the unit's PrivateTmp), emptied at each session's end and removed at exit.
    ime_dir = Path(tempfile.mkdtemp(prefix="police-kiosk-ime-"))
    ime.prepare(ime_dir)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    link = DaemonLink(args.socket, topics=["kiosk.*", "faults"])
    window = KioskWindow(link)
    if args.windowed:
        window.resize(1280, 800)
        window.show()
    else:
        window.showFullScreen()
    link.start()
    try:
        return app.exec()
    finally:
        link.stop()
        window.keyboard.wipe()
        shutil.rmtree(ime_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())


def command(name: str, argv: list[str]) -> int:
    """The `police-kiosk kiosk` subcommand."""
    code = main(argv)
    # main() has closed the window and stopped the daemon link. Skip the interpreter's final garbage
    # collection: PySide6 can abort there ("deallocating None") after a clean run, turning an orderly stop
    # into a crash report. Flush what we printed, then leave with main()'s exit code.
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
