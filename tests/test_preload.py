"""The first session of the day does not freeze the window while pyqtgraph is imported: the main
window has the session views imported on a thread of its own before Start is pressed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys, threading
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

class Watch:  # which thread imports pyqtgraph (and finds nothing: the real finders load it)
    def find_spec(self, name, path=None, target=None):
        if name == "pyqtgraph":
            print("pyqtgraph imported on:", threading.current_thread().name, flush=True)
        return None

app = QApplication([])
from desktop.main_window import MainWindow
from desktop.store import Store
from tests.helpers.people import PLAIN
assert "pyqtgraph" not in sys.modules, "imported before the main window"
sys.meta_path.insert(0, Watch())
window = MainWindow(Store.open(sys.argv[1]), person=PLAIN)
window.show()
poll = QTimer(interval=20)
poll.timeout.connect(lambda: "desktop.session_outputs" in sys.modules and app.quit())
poll.start()
QTimer.singleShot(20_000, app.quit)
app.exec()
print("views imported:", all(m in sys.modules for m in
      ("desktop.session.live", "desktop.session.review", "desktop.session_outputs")), flush=True)
"""


def test_the_session_views_are_imported_off_the_gui_thread(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "clinic.db")],
        capture_output=True, text=True, cwd=ROOT, timeout=50,
        env=os.environ | {"QT_QPA_PLATFORM": "offscreen"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "pyqtgraph imported on: preload session views" in out.stdout
    assert "views imported: True" in out.stdout
