"""Windows open inside the available screen: sized by fit_to_screen, or caught by the app's guard."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QDialog, QLabel, QMainWindow, QVBoxLayout

from desktop.screen_fit import ScreenGuard, fit_to_screen

ROOT = Path(__file__).resolve().parents[1]


def test_a_dialog_that_sizes_itself_too_big_is_fitted_when_shown(qtbot, qapp):
    assert qapp.findChild(ScreenGuard) is not None  # as desktop.app.main installs it
    dlg = QDialog()
    QVBoxLayout(dlg).addWidget(QLabel("a dialog that asked for more than the screen has"))
    qtbot.addWidget(dlg)
    dlg.resize(3000, 2400)
    dlg.move(-400, 5000)
    dlg.show()
    qtbot.waitExposed(dlg)
    screen = dlg.screen().availableGeometry()
    qtbot.waitUntil(lambda: screen.contains(dlg.frameGeometry()))
    assert dlg.width() <= screen.width() and dlg.height() <= screen.height()


def test_fit_to_screen_keeps_a_small_window_as_asked_and_centres_it_on_its_parent(qtbot):
    parent = QMainWindow()
    qtbot.addWidget(parent)
    fit_to_screen(parent, 600, 500)
    parent.show()
    qtbot.waitExposed(parent)
    child = QDialog(parent)
    assert fit_to_screen(child, 300, 200).toTuple() == (300, 200)
    assert abs(child.geometry().center().x() - parent.frameGeometry().center().x()) <= 2
    assert abs(child.geometry().center().y() - parent.frameGeometry().center().y()) <= 2


def test_the_app_installs_its_guards(tmp_path):
    """desktop.app.main, in a process of its own (it runs and quits the application): afterwards the
    application has the wheel guard and the screen guard."""
    code = (
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "os.environ['ABRASIO_STARTUP_PROBE'] = '1'\n"
        "from desktop.app import main\n"
        f"assert main(['--demo', '--db', {str(tmp_path / 'a.db')!r}]) == 0\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from desktop.screen_fit import ScreenGuard\n"
        "from desktop.wheel_guard import WheelGuard\n"
        "app = QApplication.instance()\n"
        "print('guards', app.findChild(WheelGuard) is not None, app.findChild(ScreenGuard) is not None)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "shown clients" in done.stdout
    assert "guards True True" in done.stdout
