"""Chinese by default, English one tap away, with Qt's own translation files.

Source strings in the code are English, wrapped in `translate("Kiosk", ...)` so that `pyside6-lupdate`
finds them; `i18n/kiosk_zh_CN.ts` holds their Chinese, compiled to `kiosk_zh_CN.qm` by `pyside6-lrelease`
(both are committed; a test checks the .ts covers every string and the .qm is current). Wording that
comes from the service catalogue or from central is bilingual data (`Text.zh`/`Text.en`), not a
translation.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTranslator

__all__ = ["QM_FILE", "TS_FILE", "Language", "translate"]

I18N_DIR = Path(__file__).with_name("i18n")
TS_FILE = I18N_DIR / "kiosk_zh_CN.ts"
QM_FILE = I18N_DIR / "kiosk_zh_CN.qm"


def translate(context: str, text: str) -> str:
    return QCoreApplication.translate(context, text)


_translator: QTranslator | None = None


def _chinese() -> QTranslator:
    """One translator per process: installing it twice (two windows, tests) must not stack them."""
    global _translator  # noqa: PLW0603 - a process-wide Qt resource
    if _translator is None:
        t = QTranslator()
        if not t.load(str(QM_FILE)):
            raise RuntimeError(f"cannot load the Chinese translation {QM_FILE}")
        _translator = t
    return _translator


class Language:
    """Switches the application between Chinese (the translator installed) and English (removed)."""

    def __init__(self) -> None:
        self._zh = _chinese()
        self.lang = ""

    def set(self, lang: str) -> None:
        app = QCoreApplication.instance()
        assert app is not None
        if lang == "zh":
            app.installTranslator(self._zh)
        else:
            app.removeTranslator(self._zh)
        self.lang = lang
