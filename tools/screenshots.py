"""Render Abrasio's windows offscreen into docs/screenshots/ (run: .venv/bin/python tools/screenshots.py)."""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from desktop.demo import create_demo
from desktop.main_window import MainWindow
from desktop.records import ScreeningAnswer
from desktop.resources import resource_path
from desktop.store import Store

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def settle(ms: int = 200) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def shoot(widget, name: str) -> None:
    settle()
    widget.grab().save(str(OUT / name))
    print("wrote", OUT / name)


def main(which: set[str]) -> None:
    app = QApplication.instance() or QApplication([])
    app.setStyleSheet(resource_path("abrasio.qss").read_text(encoding="utf-8"))
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    store = Store.open(tmp / "demo.db")
    create_demo(store, seed=3)
    w = MainWindow(store)
    w.resize(1280, 800)
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
        dlg.resize(900, 900)
        shoot(dlg, "client-form.png")
        dlg.reject()
    if "session" in which:
        from tools.session_shots import session_shots

        session_shots(w, store, shoot, settle)
    if "records" in which:
        from tools.records_shots import records_shots

        records_shots(w, store, shoot, settle)
    store.close()


if __name__ == "__main__":
    main(set(sys.argv[1:]) or {"clients", "session", "records"})
