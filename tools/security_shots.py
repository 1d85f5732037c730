"""Login, first start and the lock over a running treatment, for docs/screenshots/.

Run: .venv/bin/python tools/security_shots.py  (offscreen; about 20 s)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEventLoop, QPoint, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from desktop import accounts
from desktop.accounts import Role
from desktop.demo import create_demo
from desktop.main_window import MainWindow
from desktop.records import Client
from desktop.resources import resource_path
from desktop.security_ui import FirstStartWizard, LockController, LoginDialog
from desktop.store import Store
from device.urlhandler.protocol_sim import last_device

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def settle(ms: int = 200) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def until(predicate, ms: int = 10_000) -> None:
    for _ in range(ms // 50):
        if predicate():
            return
        settle(50)
    raise TimeoutError("condition not met")


def save(pixmap: QPixmap, name: str) -> None:
    pixmap.save(str(OUT / name))
    print("wrote", OUT / name)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    app.setStyleSheet(resource_path("abrasio.qss").read_text(encoding="utf-8"))
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())

    # first start: the recovery key page
    wiz = FirstStartWizard(tmp / "new" / "abrasio.db")
    (tmp / "new").mkdir()
    wiz.resize(720, 480)
    wiz.show()
    wiz.admin_page.name.setText("Dr Maya Okonkwo")
    wiz.admin_page.passphrase.setText("plum tree in the yard")
    wiz.admin_page.passphrase2.setText("plum tree in the yard")
    wiz.next()
    until(lambda: wiz.currentPage() is wiz.recovery_page)
    settle()
    save(wiz.grab(), "first-start-recovery-key.png")
    wiz.hide()

    # login
    clinic_path = tmp / "clinic" / "abrasio.db"
    clinic_path.parent.mkdir()
    setup = accounts.create_clinic(clinic_path, "Dr Maya Okonkwo", "plum tree in the yard")
    setup.clinic.add_person("Tom Reyes", [Role.FRONT_DESK], "front desk passphrase")
    setup.clinic.close()
    login = LoginDialog(clinic_path)
    login.show()
    login.name.setCurrentText("Dr Maya Okonkwo")
    login.passphrase.setText("not quite right")
    login.attempt()
    until(lambda: "not right" in login.problem.text())
    settle()
    save(login.grab(), "login.png")
    login.hide()
    clinic = accounts.login(clinic_path, "Dr Maya Okonkwo", "plum tree in the yard")

    # the lock over a running treatment (today's main window on a demo file; see docs/security-design.md)
    store = Store.open(tmp / "demo.db")
    create_demo(store, seed=3)
    w = MainWindow(store)
    w.resize(1100, 760)
    w.move(0, 0)
    w.show()
    cid = store.add_client(Client("Maria", "Gonzalez", sensitivity="sensitive", vacuum_ceiling_kpa=30.0))
    sid = store.create_session(
        cid, "Dr Maya Okonkwo", mode="diamond", grit="fine", set_point_kpa=24.0, ceiling_kpa=30.0,
        areas=["forehead", "cheeks"], planned_minutes=25,
    )  # fmt: skip
    live = w._open_live(sid, {"url": "sim://?rate=1000&auto=0&seed=4"})
    live.resize(1100, 760)
    settle(8000)
    lock = LockController(w, clinic, treatment_windows=lambda: list(w.session_windows))
    lock.lock("Ctrl+L")
    last_device().surge(38.0, 6.0)
    settle(2500)
    until(lambda: live._flash_on and live.alarm_bar.text().startswith("***"))  # the lit half of the flash
    left, right = w.grab(), live.grab()
    scale = 0.8
    left = left.scaledToHeight(int(left.height() * scale), Qt.TransformationMode.SmoothTransformation)
    right = right.scaledToHeight(int(right.height() * scale), Qt.TransformationMode.SmoothTransformation)
    both = QPixmap(left.width() + right.width() + 24, max(left.height(), right.height()) + 24)
    both.fill(QColor("#9e9e9e"))
    p = QPainter(both)
    p.drawPixmap(QPoint(8, 12), left)
    p.drawPixmap(QPoint(left.width() + 16, 12), right)
    p.end()
    save(both, "lock-over-running-session.png")
    live.force_close()
    clinic.close()
    store.close()


if __name__ == "__main__":
    main()
