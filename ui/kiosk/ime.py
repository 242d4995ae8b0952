"""Qt Virtual Keyboard as the kiosk's input method: the environment it needs before Qt starts, and its
pinyin user dictionary.

The pinyin input method learns the phrases a resident assembles (say 楼道 + 堆 + 物) and keeps them in a
user dictionary file, `<ConfigLocation>/qtvirtualkeyboard/pinyin/usr_dict.dat` (Qt 6.12: ConfigLocation is
$XDG_CONFIG_HOME on Linux). That is resident data, so the kiosk points XDG_CONFIG_HOME at a directory of its
own (`prepare`) before QApplication exists, and `wipe_dictionary` empties it when a session ends.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DICTIONARY_SUBDIR", "dictionary_dir", "dictionary_files", "prepare", "wipe_dictionary"]

DICTIONARY_SUBDIR = Path("qtvirtualkeyboard") / "pinyin"


def prepare(config_dir: Path) -> None:
    """Before QApplication: Qt Virtual Keyboard as the input method, its files under `config_dir`.

    No desktop pop-up window (the kiosk embeds the panel itself) and, unless the caller chose otherwise, the
    software scene graph for the Qt Quick panel (no GPU needed, works offscreen in CI).
    """
    config_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ["QT_IM_MODULE"] = "qtvirtualkeyboard"
    os.environ["QT_VIRTUALKEYBOARD_DESKTOP_DISABLE"] = "1"
    os.environ["XDG_CONFIG_HOME"] = str(config_dir)
    os.environ.setdefault("QT_QUICK_BACKEND", "software")


def dictionary_dir() -> Path:
    """Where the pinyin input method of this process keeps its user dictionary."""
    from PySide6.QtCore import QStandardPaths

    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.ConfigLocation)) / DICTIONARY_SUBDIR


def dictionary_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.is_dir() else []


def wipe_dictionary(directory: Path) -> None:
    """Overwrite then delete every file the input method wrote there (the directory stays for the next one).

    Call it only once the input method has closed its dictionary (`OnScreenKeyboard.wipe` does), or the
    input method writes what it holds in memory back later.
    """
    for path in dictionary_files(directory):
        try:
            size = path.stat().st_size
            with path.open("r+b") as f:
                f.write(b"\0" * size)
                f.flush()
                os.fsync(f.fileno())
            path.unlink()
        except FileNotFoundError:
            continue
