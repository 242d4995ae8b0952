"""The console's tones, WAVs made at start with `wave`, looped while the console alerts: the alarm (a
two-tone siren, for incidents) and the warning (two short beeps and a pause, for watch-listed vehicles).

Backends, first that works: Qt's `QSoundEffect` (needs PySide6's QtMultimedia, which the Essentials
wheel does not ship), then a command-line player (`pw-play`, `paplay`, `aplay`) run through `QProcess`
(never blocking the GUI thread). With neither, or when the player fails, `available` is False and
`reason` says why: the console shows "sound unavailable" instead of failing silently.
"""

from __future__ import annotations

import importlib
import math
import shutil
import struct
import tempfile
import time
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer, QUrl, Signal

__all__ = ["DEFAULT_PLAYERS", "TONES", "AlarmSound", "write_tone"]

DEFAULT_PLAYERS: tuple[tuple[str, ...], ...] = (("pw-play",), ("paplay",), ("aplay", "-q"))


TONE_S = 1.0
WARNING_S = 1.5
TONES = ("alarm", "warning")


def write_tone(
    path: Path,
    *,
    rate: int = 22050,
    seconds: float = TONE_S,
    tones: Sequence[float] = (960.0, 720.0),
    volume: float = 0.6,
) -> Path:
    """A 16-bit mono WAV alternating between `tones` (a siren-like alert), faded at the ends of each part."""
    frames = bytearray()
    n = int(rate * seconds)
    part = max(1, n // len(tones))
    fade = max(1, int(rate * 0.01))
    for i in range(n):
        k = i % part
        freq = tones[min(len(tones) - 1, i // part)]
        env = min(1.0, k / fade, (part - k) / fade)
        sample = volume * env * math.sin(2 * math.pi * freq * i / rate)
        frames += struct.pack("<h", int(sample * 32767))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


class AlarmSound(QObject):
    """`set_active(True, tone=...)` loops a tone until `set_active(False)`; `availableChanged` tells the UI."""

    availableChanged = Signal(bool)

    def __init__(
        self, *, use_qt: bool = True, players: Sequence[Sequence[str]] = DEFAULT_PLAYERS, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._dir = tempfile.TemporaryDirectory(prefix="pk-console-")
        self.wav = write_tone(Path(self._dir.name) / "alarm.wav")
        self.wavs = {
            "alarm": self.wav,
            "warning": write_tone(
                Path(self._dir.name) / "warning.wav",
                seconds=WARNING_S,
                tones=(1175.0, 0.0, 1175.0, 0.0, 0.0, 0.0),
                volume=0.5,
            ),
        }
        self.tone = "alarm"
        self.active = False
        self.available = False
        self.reason = "no audio backend"
        self.backend = "none"
        self._effect: Any = None
        self._player: list[str] | None = None
        self._process: QProcess | None = None
        self._started_at = 0.0
        if use_qt and self._try_qt():
            return
        for argv in players:
            exe = shutil.which(argv[0]) if argv else None
            if exe is not None:
                self._player = [exe, *argv[1:]]
                self._set_available(True, "", f"player:{Path(exe).name}")
                return
        self.reason = "no audio backend (QtMultimedia is not installed and no command-line player was found)"

    def _try_qt(self) -> bool:
        try:
            mm = importlib.import_module("PySide6.QtMultimedia")
        except ImportError:
            return False
        if not mm.QMediaDevices.audioOutputs():
            self.reason = "no audio output device"
            return False
        effect = mm.QSoundEffect(self)
        effect.setSource(QUrl.fromLocalFile(str(self.wav)))
        effect.setLoopCount(mm.QSoundEffect.Loop.Infinite.value)
        self._effect = effect
        self._set_available(True, "", "qt")
        return True

    def _set_available(self, value: bool, reason: str, backend: str | None = None) -> None:
        changed = value != self.available
        self.available, self.reason = value, reason
        if backend is not None:
            self.backend = backend
        if changed:
            self.availableChanged.emit(value)

    def set_active(self, on: bool, *, tone: str = "alarm") -> None:
        """Loop `tone` ("alarm" or "warning") while `on`; a change of tone while sounding switches at once."""
        if tone not in self.wavs:
            raise ValueError(f"unknown tone {tone!r}")
        if on and tone != self.tone:
            self.tone = tone
            if self._effect is not None:
                self._effect.stop()
                self._effect.setSource(QUrl.fromLocalFile(str(self.wavs[tone])))
                if self.active:
                    self._effect.play()
            elif self._process is not None:
                self._started_at = 0.0  # the loop goes on with the new tone at once
                self._process.kill()
        if on == self.active:
            return
        self.active = on
        if self._effect is not None:
            (self._effect.play if on else self._effect.stop)()
        elif on:
            self._play_once()
        elif self._process is not None:
            self._process.kill()

    def restart(self) -> None:
        """Start the tone from the beginning (a new alarm or a re-alert while already sounding)."""
        if self.active and self._effect is not None:
            self._effect.stop()
            self._effect.play()

    def _play_once(self) -> None:
        if not self.active or self._player is None or not self.available or self._process is not None:
            return
        proc = QProcess(self)
        proc.setProgram(self._player[0])
        proc.setArguments([*self._player[1:], str(self.wavs[self.tone])])
        proc.finished.connect(self._finished)
        proc.errorOccurred.connect(self._failed)
        self._process = proc
        self._started_at = time.monotonic()
        proc.start()

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        proc, self._process = self._process, None
        if proc is not None:
            proc.deleteLater()
        if status == QProcess.ExitStatus.NormalExit and code != 0:
            self._set_available(False, f"the sound player failed (exit code {code})")
        elif self.active:  # loop, but never faster than the tone lasts (a player that returns at once)
            wait = (TONE_S if self.tone == "alarm" else WARNING_S) - (time.monotonic() - self._started_at)
            QTimer.singleShot(max(0, int(wait * 1000)), self._play_once)

    def _failed(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            proc, self._process = self._process, None
            if proc is not None:
                proc.deleteLater()
            self._set_available(False, "the sound player could not be started")

    def close(self) -> None:
        self.active = False
        if self._effect is not None:
            self._effect.stop()
        if self._process is not None:
            self._process.kill()
            self._process.waitForFinished(1000)
            self._process = None
        self._dir.cleanup()
