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


class Language:
    """Switches the application between Chinese (the translator installed) and English (removed)."""

    def __init__(self) -> None:
        self._zh = QTranslator()
        if not self._zh.load(str(QM_FILE)):
            raise RuntimeError(f"cannot load the Chinese translation {QM_FILE}")
        self.lang = ""

    def set(self, lang: str) -> None:
        if lang == self.lang:
            return
        app = QCoreApplication.instance()
        assert app is not None
        if lang == "zh":
            app.installTranslator(self._zh)
        else:
            app.removeTranslator(self._zh)
        self.lang = lang
