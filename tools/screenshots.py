"""Render Abrasio's windows into docs/screenshots/ as they open on a 1366×768 screen.

Run: ``.venv/bin/python tools/screenshots.py [clients] [session]``. Offscreen, on one screen of
1366×768 (the offscreen platform's ``configfile``), so every window has the size and place the app gives
it on such a screen — the smallest the app is made for at 100 %.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

SCREEN = (1366, 768)
_config = Path(tempfile.mkdtemp()) / "screen.json"
_config.write_text(json.dumps({"screens": [{"name": "shots", "width": SCREEN[0], "height": SCREEN[1]}]}))
os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_config}"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.demo import create_demo  # noqa: E402
from desktop.main_window import MainWindow  # noqa: E402
from desktop.records import ScreeningAnswer  # noqa: E402
from desktop.resources import resource_path  # noqa: E402
from desktop.screen_fit import install_screen_guard  # noqa: E402
from desktop.wheel_guard import install_wheel_guard  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def settle(ms: int = 200) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def shoot(widget, name: str) -> None:
    settle()
    widget.grab().save(str(OUT / name))
    print("wrote", OUT / name, widget.size().toTuple())


def main(which: set[str]) -> None:
    app = QApplication.instance() or QApplication([])
    app.setStyleSheet(resource_path("abrasio.qss").read_text(encoding="utf-8"))
    install_wheel_guard(app)
    install_screen_guard(app)
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    from desktop import accounts

    clinic = accounts.create_clinic(tmp / "demo.db", "Dr Maya Okonkwo", "plum tree in the yard").clinic
    store = clinic.store
    create_demo(store, seed=3)
    w = MainWindow(clinic)
    w.show()
    if "clients" in which:
        shoot(w, "client-list.png")
        cid = store.search_clients()[0].id
        store.save_screening(
            cid,
            [
                ScreeningAnswer("isotretinoin", dt.date(2026, 2, 1), dt.date.today()),
                ScreeningAnswer("anticoagulants"),
            ],
        )
        w.show_client(cid)
        shoot(w, "client-page.png")
        dlg = w.edit_client(cid)
        shoot(dlg, "client-form.png")
        dlg.done(0)
        settings = w.open_settings()
        shoot(settings, "settings.png")
        settings.done(0)
        demo_session = store.sessions_for_client(cid)
        if demo_session:
            review = w.open_session(demo_session[0].id)
            settle(1500)
            shoot(review, "past-session-demo.png")
            review.close()
    if "session" in which:
        from tools.session_shots import session_shots

        session_shots(w, store, shoot, settle)
    if "records" in which:
        from tools.records_shots import records_shots

        records_shots(w, store, shoot, settle)
    store.close()


if __name__ == "__main__":
    main(set(sys.argv[1:]) or {"clients", "session", "records"})
