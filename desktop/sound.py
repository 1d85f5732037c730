"""The audible part of an alarm, without QtMultimedia.

PySide6-Essentials has no QtMultimedia: it is in the Addons wheel (175 MB download; QtMultimedia and
its FFmpeg libraries alone are 63 MB unpacked, which the bundle would carry), so the alarm WAV is
played by what every platform already has: ``winsound`` on Windows (standard library), ``afplay`` on
macOS, ``paplay``/``aplay`` on Linux — started asynchronously through QProcess, never waited on. Where
none exists (or no audio device answers), the system beep is used.
"""

from __future__ import annotations

import shutil
import sys

from PySide6.QtCore import QObject, QProcess
from PySide6.QtWidgets import QApplication

from desktop.resources import resource_path


class AlarmSound(QObject):
    def __init__(self, parent: QObject | None = None, name: str = "alarm-high.wav"):
        super().__init__(parent)
        self.path = str(resource_path(name))
        self._proc: QProcess | None = None
        self.player = self._find_player()
        self.plays = 0  # how many times the alarm sounded (tests and the session log read this)

    @staticmethod
    def _find_player() -> list[str] | None:
        if sys.platform == "win32":
            return ["winsound"]
        for cmd in (["afplay"], ["paplay"], ["aplay", "-q"]):
            if shutil.which(cmd[0]):
                return cmd
        return None

    def play(self) -> None:
        self.plays += 1
        if self.player == ["winsound"]:
            import winsound

            winsound.PlaySound(self.path, winsound.SND_FILENAME | winsound.SND_ASYNC)
            return
        if self.player and (self._proc is None or self._proc.state() == QProcess.ProcessState.NotRunning):
            self._proc = QProcess(self)
            self._proc.start(self.player[0], [*self.player[1:], self.path])
            return
        QApplication.beep()

    def stop(self) -> None:
        if self._proc is not None and self._proc.state() != QProcess.ProcessState.NotRunning:
            self._proc.kill()
